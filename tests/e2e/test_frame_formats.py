"""Frame formats over real sockets: each connection chooses at the handshake (``?format=``), and gets its
acks, messages and history in that format, whoever else is in the conversation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from local.stack import Stack
from parley_client import ParleyClient
from tests.e2e.harness import connected, run

pytestmark = pytest.mark.timeout(60)


async def _open(stack: Stack, user_id: str, query: str = "") -> ClientConnection:
    return await connect(f"{stack.ws_url}?token={stack.mint_token(user_id)}{query}", proxy=None, open_timeout=10)


async def _request(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(frame))
    answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return answer


async def _next(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return frame


def test_a_compact_and_a_full_connection_in_one_conversation_each_get_their_format(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        # given alice on the default format and bob asking for the full one
        alice, bob = await _open(stack, alice_id), await _open(stack, bob_id, "&format=full")
        try:
            opened = await _request(alice, {"action": "openDirect", "userId": bob_id})
            cid = opened["conversation"]["conversationId"]
            # when alice sends: her ack is compact, bob's message full
            ack = await _request(alice, {"action": "send", "conversationId": cid, "clientMsgId": "a-1",
                                         "body": {"text": "hi bob"}})
            assert ack == {"t": "ack", "r": "a-1", "s": 1, "at": ack["at"]}
            assert await _next(bob) == {
                "type": "message", "conversationId": cid, "seq": 1, "messageId": f"{cid}.1", "senderId": alice_id,
                "sentAt": ack["at"], "clientMsgId": "a-1", "body": {"text": "hi bob"}}
            # when bob answers: his ack is full, alice's message compact
            back = await _request(bob, {"action": "send", "conversationId": cid, "clientMsgId": "b-1",
                                        "body": {"text": "hi alice"}})
            assert (back["type"], back["seq"], back["messageId"]) == ("ack", 2, f"{cid}.2")
            assert await _next(alice) == {"t": "msg", "c": cid, "s": 2, "f": bob_id, "at": back["sentAt"],
                                          "b": {"text": "hi alice"}}
            # and history: compact for alice (her own clientMsgId only), full for bob
            page = await _request(alice, {"action": "history", "conversationId": cid})
            assert [(m["s"], m.get("r")) for m in page["messages"]] == [(1, "a-1"), (2, None)]
            page = await _request(bob, {"action": "history", "conversationId": cid})
            assert [(m["seq"], m["clientMsgId"]) for m in page["messages"]] == [(1, "a-1"), (2, "b-1")]
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_an_unknown_format_is_refused_at_the_handshake(stack: Stack, user: Callable[[str], str]) -> None:
    async def status() -> int:
        try:
            ws = await _open(stack, user("alice"), "&format=cbor")
        except InvalidStatus as exc:
            return exc.response.status_code
        await ws.close()
        return 101

    assert run(status()) == 403


@pytest.mark.parametrize("alice_format, bob_format", [("compact", "full"), ("full", "compact")])
def test_the_python_client_reads_either_format_into_the_same_objects(
        stack: Stack, user: Callable[[str], str], alice_format: str, bob_format: str) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice: ParleyClient = await connected(stack, alice_id, frame_format=alice_format)
        bob: ParleyClient = await connected(stack, bob_id, frame_format=bob_format)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            await bob.open_direct(alice_id)
            # when alice sends: her ack and bob's message name the same message, whatever the formats
            ack = await alice.send(cid, "hello", client_msg_id="cm-1")
            got = await bob.next_message(timeout=5)
            assert (ack.conversation_id, ack.seq, ack.message_id) == (cid, 1, f"{cid}.1")
            assert (got.conversation_id, got.seq, got.message_id, got.sender_id, got.sent_at, got.text) == (
                cid, 1, ack.message_id, alice_id, ack.sent_at, "hello")
            # the clientMsgId reaches others only in the full format; history names your own in both
            assert got.client_msg_id == ("cm-1" if bob_format == "full" else None)
            [mine] = (await alice.history(cid)).messages
            assert (mine.message_id, mine.client_msg_id) == (ack.message_id, "cm-1")
            # and the conversation list reads the same too
            [listed] = (await bob.list_conversations()).conversations
            assert listed.last_message is not None and listed.last_message.message_id == ack.message_id
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())
