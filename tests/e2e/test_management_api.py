"""The @connections management API, through boto3's apigatewaymanagementapi client as the handlers use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from local.stack import Stack, StackThread
from tests.e2e.harness import eventually, open_connection_ids, run, stored_connection_ids

pytestmark = pytest.mark.timeout(60)

MAX_PAYLOAD = 128 * 1024


@pytest.fixture(scope="module")
def management(stack: Stack) -> Iterator[Any]:
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.callback_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    yield client
    client.close()


async def _open(stack_thread: StackThread, user_id: str) -> tuple[ClientConnection, str]:
    stack = stack_thread.stack
    ws = await connect(f"{stack.ws_url}?token={stack.mint_token(user_id)}", proxy=None,
                       user_agent_header="e2e-agent/1.0")
    await eventually(lambda: len(open_connection_ids(stack_thread, user_id)) == 1)
    (connection_id,) = open_connection_ids(stack_thread, user_id)
    return ws, connection_id


def test_post_delivers_to_the_socket_and_get_describes_the_connection(
        stack_thread: StackThread, management: Any, user: Callable[[str], str]) -> None:
    async def scenario() -> None:
        ws, connection_id = await _open(stack_thread, user("alice"))
        try:
            # when the backend posts to the connection
            await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                    Data=b'{"type":"hello"}')
            # then the client receives exactly that text frame
            assert await asyncio.wait_for(ws.recv(), 5) == '{"type":"hello"}'

            # and GET describes the connection
            info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            now = datetime.now(UTC)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "e2e-agent/1.0"}
            assert now - timedelta(seconds=30) < info["ConnectedAt"] <= info["LastActiveAt"] <= now
        finally:
            await ws.close()

    run(scenario())


def test_delete_closes_the_connection_and_runs_disconnect(
        stack_thread: StackThread, stack: Stack, management: Any, user: Callable[[str], str]) -> None:
    alice = user("alice")

    async def scenario() -> None:
        ws, connection_id = await _open(stack_thread, alice)
        assert stored_connection_ids(stack, alice) == {connection_id}
        # when the backend deletes the connection
        await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
        # then the socket closes, $disconnect removes its record, and the id is gone for good
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        await eventually(lambda: not stored_connection_ids(stack, alice))
        with pytest.raises(management.exceptions.GoneException):
            await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id, Data=b"late")
        with pytest.raises(management.exceptions.GoneException):
            await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
        with pytest.raises(management.exceptions.GoneException):
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)

    run(scenario())


def test_an_unknown_connection_is_gone(management: Any) -> None:
    for call in (lambda: management.post_to_connection(ConnectionId="Tm9wZU5vcGVOb3A=", Data=b"x"),
                 lambda: management.get_connection(ConnectionId="Tm9wZU5vcGVOb3A="),
                 lambda: management.delete_connection(ConnectionId="no/such+id=")):
        with pytest.raises(management.exceptions.GoneException) as gone:
            call()
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_a_payload_over_128_kb_is_refused_with_413(
        stack_thread: StackThread, management: Any, user: Callable[[str], str]) -> None:
    async def scenario() -> None:
        ws, connection_id = await _open(stack_thread, user("alice"))
        try:
            # a payload of exactly 128 KB is delivered
            await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                    Data=b"x" * MAX_PAYLOAD)
            assert len(await asyncio.wait_for(ws.recv(), 5)) == MAX_PAYLOAD
            # one byte more is refused, and nothing reaches the socket
            with pytest.raises(management.exceptions.PayloadTooLargeException) as too_large:
                await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                        Data=b"x" * (MAX_PAYLOAD + 1))
            assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)
        finally:
            await ws.close()

    run(scenario())


def test_another_stage_is_forbidden(stack: Stack, user: Callable[[str], str]) -> None:
    wrong = boto3.client("apigatewaymanagementapi", endpoint_url=stack.callback_url + "-other",
                         region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        with pytest.raises(wrong.exceptions.ForbiddenException):
            wrong.get_connection(ConnectionId="Tm9wZU5vcGVOb3A=")
    finally:
        wrong.close()
