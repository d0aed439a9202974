"""Abuse protection (docs/security.md) as deployed: single-use tokens, the Origin allowlist, the moderation
hook (the host app's own or the example) and stage throttling reach the functions that enforce them, with
no more permission than that needs."""

from __future__ import annotations

from typing import Any

import pytest

from infra import constants
from infra.constructs.functions import deployed_functions
from infra.constructs.runtime import CONTENT_FREE_TRACING
from parley import routes
from tests.infra.policies import actions, resources_of, statements, statements_with
from tests.infra.synthesis import CONFIGURED_CONTEXT, Synth

pytestmark = pytest.mark.infra

TOKENS_ONLY = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOKEN#*"]}}
HOOK_ARN = CONFIGURED_CONTEXT["moderationFunctionArn"]
HOOK_PATH = "Moderation/ExampleHook"


def environment(synth: Synth, path: str) -> dict[str, Any]:
    return synth.resource(path)["Properties"].get("Environment", {}).get("Variables", {})


# --- single-use tokens ---

def test_tokens_are_reusable_by_default(synth: Synth) -> None:
    # given the default deployment / then the authorizer neither remembers tokens nor may touch the table
    assert "PARLEY_SINGLE_USE_TOKENS" not in environment(synth, "Functions/authorizer")
    assert not actions(synth, routes.AUTHORIZER, "dynamodb:")


def test_single_use_authorizer_may_only_record_used_tokens(configured: Synth) -> None:
    # given singleUseTokens=true / when the authorizer records a token's jti
    puts = statements_with(configured, routes.AUTHORIZER, "dynamodb:PutItem")
    # then its one table permission is a put of TOKEN#<jti> items: it can neither read nor change chat data
    assert actions(configured, routes.AUTHORIZER, "dynamodb:") == {"dynamodb:PutItem"}
    assert [(s["Resource"], s["Condition"]) for s in puts] == [
        ({"Fn::GetAtt": [configured.logical_id("Storage/Table"), "Arn"]}, TOKENS_ONLY)]


def test_single_use_authorizer_is_told_the_table_and_the_lifetime(configured: Synth) -> None:
    env = environment(configured, "Functions/authorizer")
    assert env["PARLEY_SINGLE_USE_TOKENS"] == "true"
    assert env["PARLEY_TABLE_NAME"] == {"Ref": configured.logical_id("Storage/Table")}
    assert env["PARLEY_MAX_TOKEN_LIFETIME_SECONDS"] == CONFIGURED_CONTEXT["maxTokenLifetimeSeconds"]


# --- token lifetime cap (every mode) ---

def test_token_lifetimes_are_not_capped_by_default(synth: Synth) -> None:
    assert "PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS" not in environment(synth, "Functions/authorizer")


def test_the_token_lifetime_cap_reaches_the_authorizer_only(configured: Synth) -> None:
    # given -c authMaxTokenLifetimeSeconds=900 / then the authorizer refuses tokens that live longer
    env = environment(configured, "Functions/authorizer")
    assert env["PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS"] == CONFIGURED_CONTEXT["authMaxTokenLifetimeSeconds"]
    others = [h for h in deployed_functions() if h != routes.AUTHORIZER
              and "PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS" in environment(configured, f"Functions/{h}")]
    assert others == []


# --- Origin allowlist ---

def test_every_origin_is_accepted_by_default(synth: Synth) -> None:
    assert "PARLEY_ALLOWED_ORIGINS" not in environment(synth, "Functions/authorizer")


def test_the_origin_allowlist_reaches_the_authorizer_only(configured: Synth) -> None:
    # given allowedOrigins and allowMissingOrigin=false / then the authorizer checks every handshake's Origin
    env = environment(configured, "Functions/authorizer")
    assert (env["PARLEY_ALLOWED_ORIGINS"], env["PARLEY_ALLOW_MISSING_ORIGIN"]) == (
        "https://app.example,https://admin.example", "false")
    # and no other function carries settings it never reads
    others = [h for h in deployed_functions() if h != routes.AUTHORIZER
              and "PARLEY_ALLOWED_ORIGINS" in environment(configured, f"Functions/{h}")]
    assert others == []


# --- the moderation hook ---

def test_without_a_hook_send_invokes_no_function(synth: Synth) -> None:
    assert "PARLEY_MODERATION_FUNCTION" not in environment(synth, "Functions/send")
    assert not actions(synth, "send", "lambda:")


def test_send_may_invoke_exactly_the_configured_hook(configured: Synth) -> None:
    # given moderationFunctionArn / then send may invoke that ARN: no other version, alias or function
    assert actions(configured, "send", "lambda:") == {"lambda:InvokeFunction"}
    assert resources_of(configured, "send", "lambda:InvokeFunction") == [HOOK_ARN]


def test_send_calls_the_hook_with_the_configured_timeout_and_failure_mode(configured: Synth) -> None:
    env = environment(configured, "Functions/send")
    assert (env["PARLEY_MODERATION_FUNCTION"], env["PARLEY_MODERATION_TIMEOUT_MS"],
            env["PARLEY_MODERATION_FAIL_OPEN"]) == (HOOK_ARN, "500", "false")


def test_only_send_and_changes_may_invoke_a_function(configured: Synth) -> None:
    # edits are reviewed by the hook as messages are
    assert sorted(h for h in deployed_functions() if actions(configured, h, "lambda:")) == ["changes", "send"]
    assert resources_of(configured, "changes", "lambda:InvokeFunction") == [HOOK_ARN]


def test_example_hook_runs_plain_python_on_arm64_with_json_logs_kept(example_hook: Synth) -> None:
    # given deployExampleModerationHook=true / then functions/moderation_hook is deployed without Parley's layers
    props = example_hook.resource(HOOK_PATH)["Properties"]
    assert (props["Runtime"], props["Architectures"], props["Handler"]) == (
        "python3.13", ["arm64"], "handler.lambda_handler")
    assert "Layers" not in props
    assert props["Environment"]["Variables"] == {"HOOK_MAX_LINKS": str(constants.EXAMPLE_HOOK_MAX_LINKS),
                                                 **CONTENT_FREE_TRACING}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = example_hook.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] > 0


def test_example_hook_has_a_role_of_its_own_that_may_only_log(example_hook: Synth) -> None:
    props = example_hook.resource(HOOK_PATH)["Properties"]
    assert props["Role"] != example_hook.resource("Functions/send")["Properties"]["Role"]
    granted = {a for s in statements(example_hook, "ExampleHook", path="Moderation")
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert granted == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                       "xray:PutTelemetryRecords"}


def test_send_uses_the_example_hook(example_hook: Synth) -> None:
    # given the deployed example / then send reviews messages with it, and may invoke exactly it
    hook = example_hook.logical_id(HOOK_PATH)
    assert environment(example_hook, "Functions/send")["PARLEY_MODERATION_FUNCTION"] == {
        "Fn::GetAtt": [hook, "Arn"]}
    assert resources_of(example_hook, "send", "lambda:InvokeFunction") == [f"${{{hook}.Arn}}"]


def test_example_hook_raises_an_alarm_on_errors(example_hook: Synth) -> None:
    hook = {"Ref": example_hook.logical_id(HOOK_PATH)}
    alarms = [a["Properties"] for a in example_hook.of_type("AWS::CloudWatch::Alarm").values()]
    assert [a["MetricName"] for a in alarms if {"Name": "FunctionName", "Value": hook} in a.get("Dimensions", [])] \
        == ["Errors"]


# --- stage throttling ---

def test_stage_throttling_follows_the_context(configured: Synth) -> None:
    # given -c stageRateLimit=50 -c stageBurstLimit=100 / then every route of the stage is throttled so
    (stage,) = [s["Properties"] for k, s in configured.of_type("AWS::ApiGatewayV2::Stage").items()
                if not k.startswith("ServerApi")]  # (the server API's stage has its own throttle)
    assert (stage["DefaultRouteSettings"]["ThrottlingRateLimit"], stage["DefaultRouteSettings"][
        "ThrottlingBurstLimit"]) == (50, 100)

