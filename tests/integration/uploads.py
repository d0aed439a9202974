"""Uploads under moto S3 for the integration tier: the test bucket, a PNG, uploads through the
presigned POST and the S3 event that triggers the thumbnail maker (the JPEG with a location: tests/support/images.py).
The ``bucket`` fixture is in conftest."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import requests
from PIL import Image

if TYPE_CHECKING:
    from tests.integration.conftest import Chat

BUCKET = "parley-uploads-test"
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
