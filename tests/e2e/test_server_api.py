"""The server API against the local stack, through the server SDK over real HTTP with SigV4: a conversation
the backend creates and a system message an app client receives on its socket; signatures and the read-only
key refused as API Gateway's IAM authorizer would."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from botocore.credentials import Credentials

from local.stack import Stack
from parley_client import Message
from parley_server import ApiError, ParleyAdmin, sign
from tests.e2e.harness import admin_for, connected, run

pytestmark = pytest.mark.timeout(90)


def test_the_sdk_creates_a_conversation_and_a_system_message_reaches_an_app_client(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    admin = admin_for(stack)

    async def scenario() -> None:
        bob = await connected(stack, bob_id)
        try:
            # given the backend creates alice and bob's conversation
            created = await asyncio.to_thread(admin.create_direct, alice_id, bob_id)
            cid = created["conversationId"]
            bob.track(cid)
            # when it posts a system message there
            posted = await asyncio.to_thread(admin.post_message, cid, "Your order has shipped", "order-42")
            # then bob's app receives it live, from the system
            async with asyncio.timeout(5):
                async for item in bob:
                    if isinstance(item, Message):
                        assert (item.seq, item.sender_id, item.text) == (posted["seq"], "#system",
                                                                         "Your order has shipped")
                        break
            # and it counts as unread for alice, who was offline
            page = await asyncio.to_thread(admin.list_conversations, alice_id)
            assert [(c["conversationId"], c["unread"]) for c in page["conversations"]] == [(cid, 1)]
        finally:
            await bob.close()

    run(scenario())


def test_every_call_is_audited_with_the_signer(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    admin = admin_for(stack)
    created = admin.create_direct(alice_id, bob_id)
    found = admin.audit(target=f"user:{alice_id}")
    assert [(e["operation"], e["status"], e["caller"]) for e in found["entries"]] == [
        ("POST /v1/conversations/direct", 200, stack.settings.admin_principal_arn)]
    assert f"conversation:{created['conversationId']}" in found["entries"][0]["targets"]


def test_the_read_only_key_reads_but_cannot_change(stack: Stack, user: Callable[[str], str]) -> None:
    reader = admin_for(stack, read_only=True)
    assert "entries" in reader.audit()
    with pytest.raises(ApiError) as refused:
        reader.create_direct(user("alice"), user("bob"))
    assert (refused.value.status, refused.value.code) == (403, "forbidden")


def test_a_wrong_key_an_unsigned_request_and_an_old_signature_are_refused(stack: Stack) -> None:
    url = f"{stack.server_api_url}/v1/audit"
    wrong = ParleyAdmin(stack.server_api_url, credentials=Credentials("PARLEYLOCALADMIN", "not-the-secret"),
                        region=stack.settings.region)
    with pytest.raises(ApiError) as bad:
        wrong.audit()
    assert (bad.value.status, bad.value.code) == (403, "invalid_signature")

    unsigned = ParleyAdmin(stack.server_api_url, credentials=Credentials("SOMEONEELSE", "x"),
                           region=stack.settings.region)
    with pytest.raises(ApiError) as unknown:
        unsigned.audit()
    assert unknown.value.code == "unknown_access_key"

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(url, timeout=10)
    assert missing.value.code == 403 and b"missing_signature" in missing.value.read()

    headers = sign("GET", url, b"", Credentials("PARLEYLOCALADMIN", "parley-local-admin-secret-do-not-use-in-aws"),
                   stack.settings.region)
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600))
    headers["X-Amz-Date"] = old  # a replay an hour later: the date no longer matches the signature either
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)
    assert expired.value.code == 403 and b"signature_expired" in expired.value.read()


def test_parley_admin_calls_the_local_server_api(stack: Stack, user: Callable[[str], str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from local.cli import main

    alice_id, bob_id = user("alice"), user("bob")
    # when the command line creates a conversation and posts to it
    assert main(["admin", "--url", stack.server_api_url, "direct", alice_id, bob_id]) == 0
    cid = json.loads(capsys.readouterr().out)["conversationId"]
    assert main(["admin", "--url", stack.server_api_url, "message", cid, "hello", "--id", "m1", "--bot", "shop"]) == 0
    assert json.loads(capsys.readouterr().out)["senderId"] == "#bot:shop"
    # then a refused call exits 1 with its status and code
    assert main(["admin", "--url", stack.server_api_url, "--read-only", "direct", alice_id, bob_id]) == 1
    assert "403 forbidden" in capsys.readouterr().err
