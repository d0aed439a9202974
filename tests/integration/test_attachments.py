"""Photos and voice messages under moto S3, with real small images made in the test."""

from __future__ import annotations

import base64
import io
import json
import time
from datetime import datetime
from typing import Any

import pytest
import requests
from PIL import Image

from tests.integration.conftest import Chat, FakeConnectionsApi, all_items
from tests.integration.uploads import BUCKET, png, request_upload, s3_event, upload
from tests.support.e2e import envelope as e2e_envelope
from tests.support.handlers import invoke
from tests.support.images import GPS_TAG, jpeg_with_gps


def test_the_upload_policy_pins_type_size_and_key(aws_env: Any, bucket: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    ticket = request_upload(alice, cid, "image/jpeg", 5000)
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 2 * 1024 * 1024] in conditions
    assert {"key": ticket["key"]} in conditions and ticket["key"].startswith(f"u/{cid}/")
    assert {"bucket": BUCKET} in conditions
    pending = "<Tagging><TagSet><Tag><Key>parley-state</Key><Value>pending</Value></Tag></TagSet></Tagging>"
    assert {"tagging": pending} in conditions and ticket["fields"]["tagging"] == pending
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp() * 1000
    assert abs(expires - ticket["expiresAt"]) < 5000  # the frame says when the policy expires: in minutes
    assert 0 < ticket["expiresAt"] - time.time() * 1000 <= 300_000
    assert ticket["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


@pytest.mark.parametrize("content_type, size, code", [
    ("image/gif", 100, "unsupported_media"),
    ("application/pdf", 100, "unsupported_media"),
    ("image/jpeg", 3 * 1024 * 1024, "file_too_large"),
])
def test_uploads_outside_the_allowlist_or_limit_are_refused(aws_env: Any, bucket: Any, content_type: str, size: int,
                                                            code: str) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    assert request_upload(alice, cid, content_type, size)["code"] == code


def test_a_non_member_gets_no_upload_and_no_url(aws_env: Any, bucket: Any) -> None:
    alice, eve = Chat("alice", "a1"), Chat("eve", "e1")
    cid = alice.open_direct("bob")
    key = upload(alice, cid, png(), "image/png")
    invoke("thumbnails", s3_event(key))
    assert request_upload(eve, cid, "image/png", 100)["code"] == "not_member"
    assert eve.call("uploads", {"action": "attachmentUrls", "conversationId": cid, "keys": [key]})["code"] \
        == "not_member"
    other = eve.open_direct("mallory")
    assert eve.call("uploads", {"action": "attachmentUrls", "conversationId": other, "keys": [key]})["code"] \
        == "invalid_attachment"


def test_an_uploaded_photo_is_sent_as_an_attachment_with_its_preview(
        aws_env: Any, bucket: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    data = jpeg_with_gps()
    key = upload(alice, cid, data, "image/jpeg")
    assert invoke("thumbnails", s3_event(key)) == {"processed": 1}  # the S3 trigger ran first
    ack = alice.send_body(cid, {"text": "look", "attachments": [
        {"key": key, "contentType": "image/jpeg", "size": len(data), "width": 1200, "height": 800}]}, "c1")
    assert ack["t"] == "ack"
    [delivered] = [f for f in connections_api.frames_for("b1") if f.get("t") == "msg"]
    [attachment] = delivered["b"]["attachments"]
    assert attachment["key"] == key and attachment["preview"].startswith("data:image/webp;base64,")
    assert len(attachment["preview"]) < 1000
    history = Chat("bob", "b1").history(cid)
    assert history["messages"][0]["b"]["attachments"][0]["key"] == key


def test_the_thumbnail_has_the_right_size_and_nothing_served_carries_gps(aws_env: Any, bucket: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    key = upload(alice, cid, jpeg_with_gps(1200, 800), "image/jpeg")
    assert Image.open(io.BytesIO(bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read())).getexif().get(GPS_TAG)
    invoke("thumbnails", s3_event(key))
    [link] = Chat("bob", "b1").call("uploads", {"action": "attachmentUrls", "conversationId": cid,
                                                "keys": [key]})["attachments"]
    assert (link["width"], link["height"]) == (1200, 800)
    thumb = Image.open(io.BytesIO(requests.get(link["thumbnailUrl"], timeout=10).content))
    assert thumb.format == "WEBP" and thumb.size == (320, 213)
    served = Image.open(io.BytesIO(requests.get(link["url"], timeout=10).content))
    assert served.size == (1200, 800)
    assert GPS_TAG not in served.getexif() and not served.getexif()
    assert GPS_TAG not in thumb.getexif()


def test_members_are_told_when_a_sent_photos_thumbnail_is_ready(aws_env: Any, bucket: Any,
                                                                connections_api: FakeConnectionsApi) -> None:
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    data = png()
    key = upload(alice, cid, data, "image/png")
    alice.send_body(cid, {"attachments": [{"key": key, "contentType": "image/png", "size": len(data)}]}, "c1")
    before = Chat("bob", "b1").call("uploads", {"action": "attachmentUrls", "conversationId": cid, "keys": [key]})
    assert "url" not in before["attachments"][0]  # not served before its metadata is stripped
    invoke("thumbnails", s3_event(key))  # the S3 trigger ran after the send
    [ready] = [f for f in connections_api.frames_for("b1") if f.get("type") == "attachment"]
    assert (ready["conversationId"], ready["seq"], ready["key"], ready["width"], ready["height"]) == (
        cid, 1, key, 300, 600)


@pytest.mark.parametrize("case", ["ghost", "other conversation", "other uploader", "wrong size", "wrong type"])
def test_ghost_and_foreign_attachments_are_refused_and_store_nothing(aws_env: Any, bucket: Any, case: str) -> None:
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    cid = alice.open_direct("bob")
    other = alice.open_direct("carol")
    data = png()
    mine = upload(alice, cid, data, "image/png")
    declared = {"key": mine, "contentType": "image/png", "size": len(data)}
    expected = "invalid_attachment"
    if case == "ghost":
        declared["key"], expected = mine[:-4] + "nope", "attachment_not_found"
    elif case == "other conversation":
        declared["key"] = upload(alice, other, data, "image/png")
    elif case == "other uploader":
        declared["key"] = upload(bob, cid, data, "image/png")
    elif case == "wrong size":
        declared["size"] = len(data) + 1
    else:
        declared["contentType"] = "image/jpeg"
    before = all_items(aws_env)
    assert alice.send_body(cid, {"attachments": [declared]}, "c1")["code"] == expected
    assert all_items(aws_env) == before


def test_a_voice_message_is_served_as_uploaded(aws_env: Any, bucket: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    audio = b"\x00\x00\x00\x1cftypM4A " + b"\x01" * 2000
    key = upload(alice, cid, audio, "audio/mp4")
    invoke("thumbnails", s3_event(key))
    assert alice.send_body(cid, {"attachments": [{"key": key, "contentType": "audio/mp4", "size": len(audio)}]},
                           "c1")["t"] == "ack"
    [link] = Chat("bob", "b1").call("uploads", {"action": "attachmentUrls", "conversationId": cid,
                                                "keys": [key]})["attachments"]
    assert requests.get(link["url"], timeout=10).content == audio and "thumbnailUrl" not in link


@pytest.mark.parametrize("thumbnails_first", [True, False])
def test_an_encrypted_file_is_served_as_uploaded_and_kept_once_sent(aws_env: Any, bucket: Any,
                                                                   thumbnails_first: bool) -> None:
    # given an encrypted direct conversation and a file the client encrypted (opaque bytes to the server)
    alice = Chat("alice", "a1")
    cid = alice.call("conversations", {"action": "openDirect", "userId": "bob", "e2e": True})["conversation"][
        "conversationId"]
    blob = b"\x8f" * 24 + bytes(range(256)) * 8
    key = upload(alice, cid, blob, "application/octet-stream")
    envelope = e2e_envelope("dev-alice-1", [("alice", "dev-alice-1"), ("bob", "dev-bob-01")])
    attachment = {"key": key, "contentType": "application/octet-stream", "size": len(blob)}
    # when the upload trigger runs before or after the message is sent
    if thumbnails_first:
        invoke("thumbnails", s3_event(key))
    assert alice.send_body(cid, {"e2e": envelope, "attachments": [attachment]}, "c1")["t"] == "ack"
    if not thumbnails_first:
        invoke("thumbnails", s3_event(key))
    # then bob gets a link to exactly the bytes uploaded, no thumbnail, and the object is kept (not pending)
    [link] = Chat("bob", "b1").call("uploads", {"action": "attachmentUrls", "conversationId": cid,
                                                "keys": [key]})["attachments"]
    assert requests.get(link["url"], timeout=10).content == blob and "thumbnailUrl" not in link
    assert tags(bucket, key) == {"parley-state": "sent"}


def test_without_a_bucket_uploads_are_unavailable(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    assert request_upload(alice, cid, "image/png", 10)["code"] == "uploads_unavailable"


def tags(s3: Any, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def test_sent_files_are_kept_and_abandoned_ones_stay_pending_for_the_lifecycle_rule(aws_env: Any, bucket: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    data = png()
    sent, abandoned = upload(alice, cid, data, "image/png"), upload(alice, cid, data, "image/png")
    for key in (sent, abandoned):
        invoke("thumbnails", s3_event(key))
    alice.send_body(cid, {"attachments": [{"key": sent, "contentType": "image/png", "size": len(data)}]}, "c1")
    copies = lambda key: [key, "p/" + key[2:], "t/" + key[2:] + ".webp"]  # noqa: E731
    # the served copy and thumbnail of the sent photo are kept; its original, with the GPS data, is not
    assert [tags(bucket, k) for k in copies(sent)[1:]] == [{"parley-state": "sent"}] * 2
    assert tags(bucket, sent) != {"parley-state": "sent"}
    assert [tags(bucket, k) for k in copies(abandoned)[1:]] == [{"parley-state": "pending"}] * 2
