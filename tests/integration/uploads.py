"""Uploads under moto S3 for the integration tier: the test bucket, small real images, uploads through the
presigned POST and the S3 event that triggers the thumbnail maker. The ``bucket`` fixture is in conftest."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import requests
from PIL import Image

if TYPE_CHECKING:
    from tests.integration.conftest import Chat

BUCKET = "parley-uploads-test"
GPS_TAG = 0x8825  # the EXIF GPSInfo IFD


def jpeg_with_gps(width: int = 1200, height: int = 800) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "ParleyCam"  # Make
    exif[GPS_TAG] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(width: int = 300, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 120, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def request_upload(chat: Chat, cid: str, content_type: str, size: int) -> dict[str, Any]:
    return chat.call("uploads", {"action": "requestUpload", "conversationId": cid, "contentType": content_type,
                                 "size": size})


def upload(chat: Chat, cid: str, data: bytes, content_type: str) -> str:
    ticket = request_upload(chat, cid, content_type, len(data))
    assert ticket["type"] == "upload", ticket
    resp = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("f", data, content_type)}, timeout=10)
    assert resp.status_code in (200, 204), resp.text
    key: str = ticket["key"]
    return key


def s3_event(key: str) -> dict[str, Any]:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2026-11-27T00:00:00.000Z", "eventName": "ObjectCreated:Post",
                         "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                         "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "uploads",
                                "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "x"},
                                           "arn": f"arn:aws:s3:::{BUCKET}"},
                                "object": {"key": key, "size": 1, "eTag": "e", "sequencer": "0"}}}]}
