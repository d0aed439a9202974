"""Erasure and export against the local stack, through the server SDK over real HTTP with SigV4: the jobs run on
the stack's jobs queue (the server API function's worker), the export's link gives a JSON file with the user's
messages, and after the erasure every item kind of parley.table, read by key for the user, holds nothing of theirs."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable

import boto3
import pytest

from local.stack import Stack
from tests.e2e.harness import admin_for, connected, run
from tests.support.erasure_reads import Known, traces
from tests.support.images import jpeg_with_gps

pytestmark = pytest.mark.timeout(120)
APNS_TOKEN = "e2" * 32


def test_export_then_erase_a_user_through_the_sdk(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")
    admin = admin_for(stack)
    conversations: list[str] = []
    uploads: list[str] = []

    async def given() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            # alice chats with bob (a photo too), owns a group, blocks carol and has a phone registered
            direct = (await asyncio.to_thread(admin.create_direct, alice_id, bob_id))["conversationId"]
            group = (await asyncio.to_thread(admin.create_group, alice_id, [bob_id, carol_id], name="team"))[
                "conversationId"]
            conversations.extend([direct, group])
            await alice.send(direct, "hello bob")
            await bob.send(direct, "hi alice")
            photo = await alice.upload_file(direct, jpeg_with_gps(), "image/jpeg")
            uploads.append(photo.key)
            await alice.send(direct, "a photo", attachments=[photo])
            await alice.send(group, "welcome")
            await alice.request("block", userId=carol_id)
            await alice.request("registerDevice", platform="apns", token=APNS_TOKEN)
        finally:
            # (closing a socket the erasure meets is the integration tier's: an app still holding a valid token
            # would reconnect here, which is why the host stops issuing tokens, or bans, before erasing)
            await asyncio.gather(alice.close(), bob.close())

    run(given())

    # when the backend exports her data, the link gives a JSON file with her messages (and only hers)
    admin.export_user(alice_id)
    exported = admin.wait_for_job(alice_id, "export", timeout_s=60, poll_s=0.2)
    with urllib.request.urlopen(exported["downloadUrl"], timeout=10) as answer:
        document = json.loads(answer.read())
    assert sorted(m.get("text") for m in document["messages"]) == ["a photo", "hello bob", "welcome"]
    assert document["blocked"] == [carol_id]

    # when the backend erases her
    started = admin.erase_user(alice_id)
    assert started["status"] == "running" and started["messages"] == "tombstone"
    done = admin.wait_for_job(alice_id, "erasure", timeout_s=60, poll_s=0.2)
    assert done["counts"]["messages"] == 3

    # then nothing of hers is found under any key
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=stack.settings.region)
    ddb = session.client("dynamodb", endpoint_url=stack.aws_endpoint)
    s3 = session.client("s3", endpoint_url=stack.aws_endpoint)
    known = Known(user=alice_id, others=[bob_id, carol_id], conversations=conversations, uploads=uploads,
                  device_tokens=[APNS_TOKEN], rate_limit_kinds=["block", "devices", "send", "uploads", "connect"])
    assert traces(ddb, stack.settings.table_name, known, s3=s3, bucket=stack.resources.uploads_bucket) == []
    # and bob's conversation with her keeps its seqs: her messages read as deleted
    history = run(_history(stack, bob_id, conversations[0]))
    assert [(m.get("seq", m.get("s")), "b" not in m and "body" not in m) for m in history] == [
        (1, True), (2, False), (3, True)]


async def _history(stack: Stack, user_id: str, conversation_id: str) -> list[dict[str, object]]:
    bob = await connected(stack, user_id)
    try:
        page = await bob.request("history", conversationId=conversation_id, after=0)
        return list(page["messages"])
    finally:
        await bob.close()
