"""Photos over real sockets and real HTTP: the presigned POST to the uploads bucket, the thumbnail made by
the local S3 trigger (S3 -> SQS -> the thumbnails function), and downloads without location data."""

from __future__ import annotations

import asyncio
import io
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from PIL import Image

from local.stack import Stack
from parley_client import AttachmentReady, Message, ServerError
from tests.e2e.harness import connected, run
from tests.support.images import GPS_TAG, jpeg_with_gps

pytestmark = pytest.mark.timeout(60)

WIDTH, HEIGHT = 640, 480


def download(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def test_a_photo_reaches_the_other_member_with_a_preview_and_without_its_location(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    photo = jpeg_with_gps(WIDTH, HEIGHT)
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_TAG)  # the original says where it was taken

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            # when alice uploads a photo to the presigned URL and sends it
            attachment = await alice.upload_file(cid, photo, "image/jpeg", width=WIDTH, height=HEIGHT)
            assert attachment.key.startswith(f"u/{cid}/") and attachment.size == len(photo)
            ack = await alice.send(cid, "look", attachments=[attachment])

            # then bob receives the message with the attachment, and its preview: in the message if the
            # thumbnail was quicker, else in an `attachment` frame, which may come just before the message
            # (the thumbnail maker and send deliver in parallel)
            message, ready = None, None
            async with asyncio.timeout(15):
                async for item in bob:
                    if isinstance(item, AttachmentReady) and item.key == attachment.key:
                        ready = item
                    elif isinstance(item, Message):
                        message = item
                    if message is not None and (ready is not None or message.attachments[0].preview):
                        break
            assert message is not None
            assert (message.seq, message.text) == (ack.seq, "look")
            [received] = message.attachments
            assert (received.key, received.content_type, received.size) == (attachment.key, "image/jpeg", len(photo))
            preview = received.preview
            if ready is not None:
                assert (ready.conversation_id, ready.seq, ready.width, ready.height) == (cid, ack.seq, WIDTH, HEIGHT)
                preview = preview or ready.preview
            assert preview is not None and preview.startswith("data:image/webp;base64,")

            # when bob asks for the download URLs
            links = await bob.attachment_urls(cid, [attachment.key])
            link = links.of(attachment.key)
            assert link is not None and link.url is not None and link.thumbnail_url is not None
            assert "/p/" in urlsplit(link.url).path  # the cleaned copy, never the original upload

            # then the photo he downloads is the picture without its location (or any EXIF)
            served = Image.open(io.BytesIO(await asyncio.to_thread(download, link.url)))
            assert served.size == (WIDTH, HEIGHT)
            assert not served.getexif().get_ifd(GPS_TAG) and GPS_TAG not in served.getexif()
            thumbnail = Image.open(io.BytesIO(await asyncio.to_thread(download, link.thumbnail_url)))
            assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 320
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_a_non_member_can_neither_upload_to_nor_download_from_a_conversation(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, eve_id = user("alice"), user("bob"), user("eve")

    async def scenario() -> None:
        alice, eve = await connected(stack, alice_id), await connected(stack, eve_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            attachment = await alice.upload_file(cid, jpeg_with_gps(WIDTH, HEIGHT), "image/jpeg")
            with pytest.raises(ServerError) as upload:
                await eve.request_upload(cid, "image/jpeg", 1000)
            with pytest.raises(ServerError) as urls:
                await eve.attachment_urls(cid, [attachment.key])
            assert (upload.value.code, urls.value.code) == ("not_member", "not_member")
        finally:
            await asyncio.gather(alice.close(), eve.close())

    run(scenario())
