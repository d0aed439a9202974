"""The shared event builders produce what API Gateway sends: Powertools' WebSocket models accept them."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)

from tests.support.events import connect_event, disconnect_event, message_event


def test_builders_pass_powertools_websocket_models() -> None:
    APIGatewayWebSocketConnectEventModel.model_validate(connect_event("alice", "c1"))
    APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect_event("alice", "c1"))
    message = APIGatewayWebSocketMessageEventModel.model_validate(message_event("alice", "c1", {"action": "ping"}))
    assert message.request_context.route_key == "ping"
