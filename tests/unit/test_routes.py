"""The route table: which routes run a function, and which API Gateway answers itself."""

from __future__ import annotations

from parley import routes
from parley.protocol import PongFrame


def test_ping_is_answered_by_api_gateway_with_the_protocols_pong_and_runs_no_function() -> None:
    # given the keepalive every idle connection sends every few minutes
    # then no function handles it: API Gateway answers with the pong frame of docs/protocol.md
    assert routes.PING not in routes.ROUTES
    assert routes.GATEWAY_ANSWERS[routes.PING] == PongFrame().to_json()
    # and it is still a route of its own (not $default), answered to the caller
    assert routes.PING in routes.ROUTE_KEYS and routes.PING in routes.TWO_WAY_ROUTES


def test_every_route_key_is_either_a_functions_or_answered_by_api_gateway() -> None:
    assert set(routes.ROUTES) | set(routes.GATEWAY_ANSWERS) == routes.ROUTE_KEYS
    assert not set(routes.ROUTES) & set(routes.GATEWAY_ANSWERS)
