"""End-to-end encrypted conversations over real sockets against the local stack, as the server sees them (docs/e2e.md):
an encrypted direct conversation, the key directory and its notice, an envelope relayed untouched, text refused.
The clients' own encryption is tested with the clients (parley_client, @parley/client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from local.stack import Stack
from tests.e2e.harness import run
from tests.support.e2e import Device, envelope

pytestmark = pytest.mark.timeout(60)


async def _open(stack: Stack, user_id: str) -> ClientConnection:
    return await connect(f"{stack.ws_url}?token={stack.mint_token(user_id)}&format=full", proxy=None,
                         open_timeout=10)


async def _ask(ws: ClientConnection, frame: dict[str, Any], answer: str) -> dict[str, Any]:
    """Send ``frame`` and return the first frame of type ``answer`` (or an error) that comes back."""
    await ws.send(json.dumps(frame))
    return await _until(ws, lambda f: f.get("type") in (answer, "error"))


async def _until(ws: ClientConnection, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if check(frame):
            return frame


def test_two_devices_meet_in_an_encrypted_conversation_through_the_directory(stack: Stack,
                                                                             user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await _open(stack, alice_id), await _open(stack, bob_id)
        try:
            # given alice's device published and an encrypted conversation with bob
            published = await _ask(alice, Device("dev-alice-01").publish_frame(), "keysPublished")
            assert published["deviceId"] == "dev-alice-01", published
            opened = await _ask(alice, {"action": "openDirect", "userId": bob_id, "e2e": True}, "conversation")
            cid = opened["conversation"]["conversationId"]
            assert opened["conversation"]["e2e"] is True
            # when bob publishes his device, alice is told, and fetches both members' keys
            await _ask(bob, Device("dev-bob-0001").publish_frame(), "keysPublished")
            notice = await _until(alice, lambda f: f.get("type") == "keysChanged")
            assert notice == {"type": "keysChanged", "userId": bob_id}
            keys = await _ask(alice, {"action": "getKeys", "conversationId": cid, "requestId": "k1"}, "keys")
            assert {u["userId"]: [d["deviceId"] for d in u["devices"]] for u in keys["users"]} == {
                alice_id: ["dev-alice-01"], bob_id: ["dev-bob-0001"]}
            # and an envelope for both devices reaches bob untouched, while text is refused
            sent = envelope("dev-alice-01", [(alice_id, "dev-alice-01"), (bob_id, "dev-bob-0001")])
            ack = await _ask(alice, {"action": "send", "conversationId": cid, "clientMsgId": "m1",
                                     "body": {"e2e": sent}}, "ack")
            assert ack["seq"] == 1, ack
            message = await _until(bob, lambda f: f.get("type") == "message")
            assert message["body"] == {"e2e": sent}
            refused = await _ask(alice, {"action": "send", "conversationId": cid, "clientMsgId": "m2",
                                         "body": {"text": "in the clear"}}, "ack")
            assert refused["code"] == "e2e_required"
        finally:
            await alice.close()
            await bob.close()

    run(scenario())
