"""API Gateway's limits: 128 KB messages, the idle timeout and the maximum connection duration
(shortened here: idle after 0.6 s, every connection closed after 2 s)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from local.settings import LocalSettings
from local.stack import Stack
from parley_client import Backoff
from tests.e2e.harness import connected, e2e_settings, eventually, run, stored_connection_ids

pytestmark = pytest.mark.timeout(60)

IDLE = 0.6
MAX_DURATION = 2.0
MAX_MESSAGE = 128 * 1024


@pytest.fixture(scope="module")
def stack_settings() -> LocalSettings:
    return e2e_settings(idle_timeout_seconds=IDLE, max_connection_seconds=MAX_DURATION)


@pytest.fixture
def disconnects(stack: Stack) -> Iterator[list[dict[str, Any]]]:
    """The $disconnect events the handlers receive."""
    seen: list[dict[str, Any]] = []

    def record(function: str, event: dict[str, Any]) -> None:
        if event.get("requestContext", {}).get("eventType") == "DISCONNECT":
            seen.append(event)

    stack.runtime.observers.append(record)
    yield seen
    stack.runtime.observers.remove(record)


async def _raw(stack: Stack, user_id: str) -> ClientConnection:
    return await connect(f"{stack.ws_url}?token={stack.mint_token(user_id)}", proxy=None, max_size=None)


async def _closed_after(ws: ClientConnection, opened: float) -> tuple[int | None, float]:
    with pytest.raises(ConnectionClosed):
        while True:
            await ws.recv()
    return ws.close_code, time.monotonic() - opened


def test_a_message_over_128_kb_closes_the_connection_with_1009(
        stack: Stack, user: Callable[[str], str], disconnects: list[dict[str, Any]]) -> None:
    alice = user("alice")

    async def scenario() -> None:
        ws = await _raw(stack, alice)
        # a message of exactly 128 KB passes the gateway (and the handler refuses it as a frame)
        await ws.send(json.dumps({"action": "history", "pad": "x" * (MAX_MESSAGE - 34)}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["code"] == "frame_too_large"
        # one byte more and the gateway closes the connection with 1009
        await ws.send("x" * (MAX_MESSAGE + 1))
        code, _ = await _closed_after(ws, time.monotonic())
        assert code == 1009
        await eventually(lambda: not stored_connection_ids(stack, alice))
        await eventually(lambda: bool(disconnects))

    run(scenario())
    assert [e["requestContext"]["disconnectStatusCode"] for e in disconnects] == [1009]


def test_an_idle_connection_is_closed_after_the_idle_timeout(
        stack: Stack, user: Callable[[str], str], disconnects: list[dict[str, Any]]) -> None:
    alice = user("alice")

    async def scenario() -> None:
        opened = time.monotonic()
        ws = await _raw(stack, alice)
        code, lived = await _closed_after(ws, opened)
        assert code == 1001
        assert IDLE <= lived < MAX_DURATION
        await eventually(lambda: not stored_connection_ids(stack, alice))
        await eventually(lambda: bool(disconnects))

    run(scenario())
    (event,) = disconnects
    assert (event["requestContext"]["disconnectStatusCode"], event["requestContext"]["disconnectReason"]) == (
        1001, "Idle timeout")


def test_activity_keeps_a_connection_open_until_the_maximum_duration(
        stack: Stack, user: Callable[[str], str], disconnects: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        opened = time.monotonic()
        ws = await _raw(stack, user("alice"))

        async def chatter() -> None:
            while True:
                await ws.send('{"action":"ping"}')
                await asyncio.sleep(IDLE / 3)

        talking = asyncio.create_task(chatter())
        try:
            code, lived = await _closed_after(ws, opened)
        finally:
            talking.cancel()
        assert code == 1001
        assert MAX_DURATION <= lived < MAX_DURATION + 1.0
        await eventually(lambda: bool(disconnects))

    run(scenario())
    assert [e["requestContext"]["disconnectReason"] for e in disconnects] == ["Connection duration limit reached"]


def test_the_client_keepalive_beats_the_idle_timeout_and_it_reconnects_after_the_maximum_duration(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice, bob = user("alice"), user("bob")

    async def scenario() -> None:
        client = await connected(stack, alice, keepalive_interval=IDLE / 3, backoff=Backoff(0.05, 0.2))
        sender = None
        try:
            cid = (await client.open_direct(bob)).conversation_id
            # idle far longer than the idle timeout, but pinging: still the first connection
            await asyncio.sleep(IDLE * 2)
            assert client.connected and client.stats.reconnects == 0
            # past the maximum duration the gateway closes it; the client is back on its own
            await eventually(lambda: client.stats.reconnects >= 1, timeout=MAX_DURATION + 2)
            await eventually(lambda: client.connected)
            sender = await connected(stack, bob)
            ack = await sender.send(cid, "after the limit")
            assert (await client.next_message(timeout=MAX_DURATION)).seq == ack.seq
        finally:
            await client.close()
            if sender is not None:
                await sender.close()

    run(scenario())
