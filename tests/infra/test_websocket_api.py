"""The WebSocket API: every action reaches its handler (ping is answered by API Gateway itself), only
$connect is authorized, and the stage logs and throttles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants
from parley import routes
from parley.protocol import PongFrame
from tests.infra.synthesis import Synth, render

pytestmark = pytest.mark.infra

# The chat protocol's original routes, spelled out: parley.routes may grow, but these must stay wired so.
CORE_ROUTES = {
    "$connect": "connect", "$disconnect": "disconnect", "$default": "default", "send": "send", "history": "history",
    "openDirect": "conversations", "createGroup": "conversations",
    "listConversations": "conversations",
}


def routes_by_key(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {r["Properties"]["RouteKey"]: (logical_id, r["Properties"])
            for logical_id, r in synth.of_type("AWS::ApiGatewayV2::Route").items()
            if not logical_id.startswith("ServerApi")}  # (tests/infra/test_server_api.py)


def websocket_stages(synth: Synth) -> list[dict[str, Any]]:
    return [s["Properties"] for k, s in synth.of_type("AWS::ApiGatewayV2::Stage").items()
            if not k.startswith("ServerApi")]


def function_behind(synth: Synth, route: dict[str, Any]) -> str:
    """The logical id of the Lambda function a route's integration invokes."""
    integration_id = render(route["Target"]).removeprefix("integrations/${").removesuffix("}")
    uri = synth.resources[integration_id]["Properties"]["IntegrationUri"]
    (function_id,) = [part["Fn::GetAtt"][0] for part in uri["Fn::Join"][1]
                      if isinstance(part, dict) and "Fn::GetAtt" in part]
    return function_id


def test_frames_are_routed_by_their_action_field(synth: Synth) -> None:
    # given the synthesized API / when a client sends {"action": ...} / then that field selects the route
    api = synth.resource("WebSocket/Api")["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"


@pytest.mark.parametrize(("route_key", "handler"), sorted(routes.ROUTES.items()))
def test_every_route_reaches_its_handler(synth: Synth, route_key: str, handler: str) -> None:
    # given the route table the local gateway also uses
    by_key = routes_by_key(synth)
    # when a frame arrives on this route
    _, route = by_key[route_key]
    # then API Gateway invokes the function built from functions/<handler>/
    assert function_behind(synth, route) == synth.logical_id(f"Functions/{handler}")


def test_the_core_protocol_routes_are_wired(synth: Synth) -> None:
    by_key = routes_by_key(synth)
    wired = {key: function_behind(synth, by_key[key][1]) for key in CORE_ROUTES}
    assert wired == {key: synth.logical_id(f"Functions/{name}") for key, name in CORE_ROUTES.items()}


def test_no_route_exists_that_parley_does_not_implement(synth: Synth) -> None:
    assert set(routes_by_key(synth)) == routes.ROUTE_KEYS


def test_ping_is_answered_by_api_gateway_itself_and_runs_no_function(synth: Synth) -> None:
    # given the ping route
    _, route = routes_by_key(synth)["ping"]
    integration_id = render(route["Target"]).removeprefix("integrations/${").removesuffix("}")
    integration = synth.resources[integration_id]["Properties"]
    # then its integration is a MOCK: no function behind it, and the request template sets the status
    assert integration["IntegrationType"] == "MOCK"
    assert "lambda" not in json.dumps(integration.get("IntegrationUri", ""))
    assert integration["RequestTemplates"] == {"$default": json.dumps({"statusCode": 200})}
    assert integration["TemplateSelectionExpression"] == "\\$default"
    # and API Gateway answers the caller with the protocol's pong frame, through the route response
    (answer,) = [r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::IntegrationResponse").values()
                 if r["Properties"]["IntegrationId"] == {"Ref": integration_id}]
    assert answer["IntegrationResponseKey"] == "$default"
    assert answer["ResponseTemplates"] == {"$default": PongFrame().to_json()}
    assert route["RouteResponseSelectionExpression"] == "$default"
    # and no function may be invoked for it
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()]
    assert not [p for p in permissions if render(p.get("SourceArn", "")).endswith("/*ping")]


@pytest.mark.parametrize("route_key", sorted(routes.TWO_WAY_ROUTES))
def test_message_routes_answer_the_caller(synth: Synth, route_key: str) -> None:
    # given a message route / when its handler returns a frame / then API Gateway sends it back to the caller
    logical_id, route = routes_by_key(synth)[route_key]
    assert route["RouteResponseSelectionExpression"] == "$default"
    responses = [r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::RouteResponse").values()
                 if r["Properties"]["RouteId"] == {"Ref": logical_id}]
    assert [r["RouteResponseKey"] for r in responses] == ["$default"]


def test_connect_is_guarded_by_the_lambda_authorizer(synth: Synth) -> None:
    # given the $connect route
    _, connect = routes_by_key(synth)["$connect"]
    # then it is authorized by a REQUEST authorizer that runs the authorizer function
    assert connect["AuthorizationType"] == "CUSTOM"
    authorizer = synth.resources[connect["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert f"${{{synth.logical_id('Functions/authorizer')}.Arn}}" in render(authorizer["AuthorizerUri"])
    # and API Gateway demands no particular identity source: the token may come from ?token= OR the
    # Authorization header, and API Gateway would refuse a handshake lacking any listed source. The property
    # is left out (optional for REQUEST authorizers), not an empty list nobody has seen CloudFormation accept.
    assert "IdentitySource" not in authorizer


def test_api_gateway_may_invoke_the_authorizer(synth: Synth) -> None:
    authorizer_fn = synth.logical_id("Functions/authorizer")
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [authorizer_fn, "Arn"]}]
    assert [p["Principal"] for p in permissions] == ["apigateway.amazonaws.com"]
    assert "/authorizers/" in render(permissions[0]["SourceArn"])


@pytest.mark.parametrize("route_key", sorted(routes.ROUTE_KEYS - {routes.CONNECT}))
def test_later_frames_need_no_authorizer_of_their_own(synth: Synth, route_key: str) -> None:
    # WebSocket APIs authorize only $connect; later frames ride the authorized connection
    _, route = routes_by_key(synth)[route_key]
    assert route["AuthorizationType"] == "NONE"


def test_stage_deploys_itself_and_throttles_every_route(synth: Synth) -> None:
    # given the prod stage
    (stage,) = websocket_stages(synth)
    # then every change is live without a manual deployment
    assert stage["StageName"] == constants.STAGE_NAME
    assert stage["AutoDeploy"] is True
    # and a flood of frames is throttled at the configured rate and burst
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == constants.THROTTLE_RATE_LIMIT
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == constants.THROTTLE_BURST_LIMIT


def test_stage_writes_json_access_logs_to_a_group_with_retention(synth: Synth) -> None:
    (stage,) = websocket_stages(synth)
    settings = stage["AccessLogSettings"]
    log_group_id = settings["DestinationArn"]["Fn::GetAtt"][0]
    assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] > 0
    entry = json.loads(settings["Format"])
    assert {"requestId", "connectionId", "routeKey", "eventType", "status"} <= set(entry)
