"""The events the gateway hands the production handlers have API Gateway's shape: they pass Powertools'
strict WebSocket parser models, carry the authorizer context, and follow the route selection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.asyncio.client import connect

from local.stack import Stack
from tests.e2e.harness import eventually, run

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def invocations(stack: Stack) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(function: str, event: dict[str, Any]) -> None:
        seen.append((function, event))

    stack.runtime.observers.append(record)
    yield seen
    stack.runtime.observers.remove(record)


def test_a_connections_events_pass_powertools_models_and_carry_the_authorizer_context(
        stack: Stack, user: Callable[[str], str], invocations: list[tuple[str, dict[str, Any]]]) -> None:
    alice = user("alice")

    async def scenario() -> None:
        url = f"{stack.ws_url}/{stack.settings.stage}?token={stack.mint_token(alice)}&lang=en"
        async with connect(url, proxy=None, user_agent_header="events-test/1") as ws:
            await ws.send(json.dumps({"action": "history", "conversationId": "nope"}))
            await ws.recv()
            await ws.send("not json")
            await ws.recv()
            await ws.send(b"\x00\x01binary")
            await ws.recv()
            await ws.close(4000, "bye")
        await eventually(lambda: any(f == "disconnect" for f, _ in invocations))

    run(scenario())
    functions = [f for f, _ in invocations]
    assert functions == ["authorizer", "connect", "history", "default", "default", "disconnect"]
    (authorizer, connect_event, history, text, binary, disconnect) = [e for _, e in invocations]

    # the authorizer's REQUEST event, with the method ARN of $connect on this API and stage
    request = APIGatewayAuthorizerRequestEvent(authorizer)
    assert request.get_type == "REQUEST"
    assert request.method_arn == (f"arn:aws:execute-api:{stack.settings.region}:{stack.settings.account_id}:"
                                  f"{stack.settings.api_id}/{stack.settings.stage}/$connect")
    assert request.query_string_parameters["lang"] == "en"
    assert request.headers["User-Agent"] == "events-test/1"

    # $connect, each message route and $disconnect pass the strict models
    connected = APIGatewayWebSocketConnectEventModel.model_validate(connect_event)
    messages = [APIGatewayWebSocketMessageEventModel.model_validate(e) for e in (history, text, binary)]
    gone = APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect)
    connection_id = connected.request_context.connection_id
    assert {m.request_context.connection_id for m in messages} == {connection_id}
    assert gone.request_context.connection_id == connection_id
    assert connect_event["queryStringParameters"]["lang"] == "en"
    assert str(connected.request_context.identity.source_ip.network_address) == "127.0.0.1"
    assert connected.request_context.identity.user_agent == "events-test/1"

    # route selection on $request.body.action: known actions route, anything else is $default
    assert [m.request_context.route_key for m in messages] == ["history", "$default", "$default"]
    assert [m.request_context.event_type for m in messages] == ["MESSAGE"] * 3
    assert len({m.request_context.message_id for m in messages}) == 3
    assert binary["isBase64Encoded"] is True and text["isBase64Encoded"] is False
    assert history["body"] == json.dumps({"action": "history", "conversationId": "nope"})

    # the authorizer's context reaches every later event of the connection
    for event in (connect_event, history, text, binary, disconnect):
        context = event["requestContext"]["authorizer"]
        assert (context["userId"], context["principalId"]) == (alice, alice)

    # $disconnect says how the client closed
    assert (gone.request_context.disconnect_status_code, gone.request_context.disconnect_reason) == (
        4000, "Client-side close frame status code '4000' (UNKNOWN) - with a reason 'bye'")


def test_ping_is_answered_by_the_gateway_itself_and_runs_no_function(
        stack: Stack, user: Callable[[str], str], invocations: list[tuple[str, dict[str, Any]]]) -> None:
    # given an open connection
    alice = user("alice")

    async def scenario() -> list[Any]:
        async with connect(f"{stack.ws_url}?token={stack.mint_token(alice)}", proxy=None) as ws:
            opened = len(invocations)
            # when it pings, with and without a requestId or other fields (API Gateway routes on the action alone)
            for frame in ({"action": "ping"}, {"action": "ping", "requestId": "p1"}, {"action": "ping", "x": [1]}):
                await ws.send(json.dumps(frame))
            answers = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(3)]
            # then each gets the pong, which carries no ref, and no function ran for any of them
            assert invocations[opened:] == []
        await eventually(lambda: any(f == "disconnect" for f, _ in invocations))
        return answers

    assert run(scenario()) == [{"type": "pong"}] * 3


def test_a_refused_handshake_runs_no_connect_integration(
        stack: Stack, invocations: list[tuple[str, dict[str, Any]]]) -> None:
    async def scenario() -> None:
        with pytest.raises(Exception, match="HTTP 403"):
            async with connect(f"{stack.ws_url}?token=forged", proxy=None):
                pass

    run(scenario())
    assert [f for f, _ in invocations] == ["authorizer"]


def test_each_frame_is_its_own_invocation_and_they_run_concurrently(
        stack: Stack, user: Callable[[str], str]) -> None:
    # API Gateway invokes a route per frame without waiting for the previous one to finish
    async def scenario() -> None:
        async with connect(f"{stack.ws_url}?token={stack.mint_token(user('alice'))}", proxy=None) as ws:
            before = stack.runtime.invocations
            stack.runtime.peak_in_flight = 0
            for i in range(10):
                await ws.send(json.dumps({"action": "history", "conversationId": f"c{i}", "requestId": f"h{i}"}))
            answers = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(10)]
            assert {a["ref"] for a in answers} == {f"h{i}" for i in range(10)}
            assert {a["code"] for a in answers} == {"conversation_not_found"}
            assert stack.runtime.invocations - before == 10
            assert stack.runtime.peak_in_flight > 1

    run(scenario())
