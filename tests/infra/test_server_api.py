"""The server API's infrastructure: an HTTP API whose only route is IAM-authorized and invokes the server_api
function, a logged and throttled stage, the read-only and full policies, and the outputs a host wires up."""

from __future__ import annotations

import pytest

from infra import constants
from tests.infra.policies import actions, resources_of
from tests.infra.synthesis import Synth, render

pytestmark = pytest.mark.infra


def test_every_request_needs_an_iam_signature(synth: Synth) -> None:
    # given the server API's routes / then one catches every method and path, and it is AWS_IAM; the only other
    # one is the admin console's (JWT, tests/infra/test_admin_console.py)
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
              if r["Properties"]["ApiId"] == {"Ref": synth.logical_id("ServerApi/Api")}}
    assert sorted(routes) == ["ANY /console/{proxy+}", "ANY /{proxy+}"]
    assert routes["ANY /{proxy+}"]["AuthorizationType"] == "AWS_IAM"


def test_the_route_invokes_the_server_api_function(synth: Synth) -> None:
    api = {"Ref": synth.logical_id("ServerApi/Api")}
    (integration,) = [i["Properties"] for i in synth.of_type("AWS::ApiGatewayV2::Integration").values()
                      if i["Properties"]["ApiId"] == api]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert render(integration["IntegrationUri"]) == f"${{{synth.logical_id('Functions/server_api')}.Arn}}"


def test_the_stage_is_throttled_and_access_logged(synth: Synth) -> None:
    stage = synth.resource("ServerApi/Stage")["Properties"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == constants.SERVER_API_RATE_LIMIT
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == constants.SERVER_API_BURST_LIMIT
    assert render(stage["AccessLogSettings"]["DestinationArn"]) == \
        f"${{{synth.logical_id('ServerApi/AccessLogs')}.Arn}}"
    assert "body" not in stage["AccessLogSettings"]["Format"].lower()


def _invoke_resources(synth: Synth, path: str) -> list[str]:
    statements = synth.resource(path)["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statements] == ["execute-api:Invoke"]
    return [render(s["Resource"]) for s in statements]


def test_the_read_only_policy_invokes_get_routes_only_and_the_full_one_every_route(synth: Synth) -> None:
    api = synth.logical_id("ServerApi/Api")
    prefix = f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api}}}/$default"
    assert _invoke_resources(synth, "ServerApi/ReadOnlyPolicy") == [f"{prefix}/GET/*"]
    assert _invoke_resources(synth, "ServerApi/FullAccessPolicy") == [f"{prefix}/*/*"]


def test_the_outputs_give_the_url_and_both_policies(synth: Synth) -> None:
    outputs = synth.template_json["Outputs"]
    found = {k.split("ServerApi", 1)[1]: render(v["Value"]) for k, v in outputs.items() if "ServerApi" in k}
    api = synth.logical_id("ServerApi/Api")
    assert found == {
        "Url": f"${{{api}.ApiEndpoint}}",
        "ReadOnlyPolicyArn": f"${{{synth.logical_id('ServerApi/ReadOnlyPolicy')}}}",
        "FullAccessPolicyArn": f"${{{synth.logical_id('ServerApi/FullAccessPolicy')}}}",
    }


def test_the_function_queries_the_index_by_name_and_never_scans(synth: Synth) -> None:
    # given the server API function's policy / then it may Query the byKey index (the audit log by target), named,
    # and never Scan
    table = synth.logical_id("Storage/Table")
    assert f"${{{table}.Arn}}/index/byKey" in resources_of(synth, "server_api", "dynamodb:Query")
    assert "dynamodb:Scan" not in actions(synth, "server_api", "dynamodb:")
    assert "dynamodb:BatchWriteItem" in actions(synth, "server_api", "dynamodb:")
