"""Each function may do what its handler does and nothing more; every permission comes from a grant."""

from __future__ import annotations

import ast

import pytest

from infra import constants
from infra.constructs.functions import NEEDS, deployed_functions
from parley import routes
from tests.infra.policies import actions, listed, resources_of, statements
from tests.infra.synthesis import REPO_ROOT, Synth

pytestmark = pytest.mark.infra

TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
THROTTLE_ONLY = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["THROTTLE#*#*#*"]}}


def rate_limited_handlers() -> list[str]:
    """Handlers whose code charges a rate-limit bucket: ``run_route(..., limit=...)``."""
    found = []
    for name in deployed_functions():
        tree = ast.parse((REPO_ROOT / "functions" / name / "handler.py").read_text())
        if any(isinstance(node, ast.Call) and any(k.arg == "limit" for k in node.keywords)
               for node in ast.walk(tree)):
            found.append(name)
    return found


def test_history_cannot_change_chat_data(synth: Synth) -> None:
    # given the history function / then it reads the table
    assert {"dynamodb:Query", "dynamodb:GetItem"} <= actions(synth, "history", "dynamodb:")
    # and writes nothing but its own rate-limit buckets
    assert not actions(synth, "history", "dynamodb:", unconditional=True) & TABLE_WRITES
    conditional_writes = [s for s in statements(synth, "history") if set(listed(s["Action"])) & TABLE_WRITES]
    assert [(s["Action"], s["Condition"]) for s in conditional_writes] == [("dynamodb:UpdateItem", THROTTLE_ONLY)]


@pytest.mark.parametrize("handler", rate_limited_handlers())
def test_rate_limited_handlers_may_charge_their_bucket(synth: Synth, handler: str) -> None:
    # a handler that charges a bucket it may not write would refuse every frame
    assert "dynamodb:UpdateItem" in actions(synth, handler, "dynamodb:")


def test_rate_limits_are_found_in_the_handlers() -> None:
    assert "send" in rate_limited_handlers()  # the scan above is not vacuous


def test_connection_lifecycle_records_connections(synth: Synth) -> None:
    for handler in ("connect", "disconnect"):
        assert {"dynamodb:PutItem", "dynamodb:DeleteItem"} <= actions(synth, handler, "dynamodb:")


def test_send_reads_and_writes_the_table(synth: Synth) -> None:
    assert {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= actions(synth, "send", "dynamodb:")


def test_send_may_post_to_connections_of_its_own_stage_only(synth: Synth) -> None:
    api = synth.logical_id("WebSocket/Api")
    assert actions(synth, "send", "execute-api:") == {"execute-api:ManageConnections"}
    assert resources_of(synth, "send", "execute-api:ManageConnections") == [
        f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api}}}/"
        f"{constants.STAGE_NAME}/*/@connections/*"]


@pytest.mark.parametrize("handler", deployed_functions())
def test_a_function_may_manage_connections_exactly_when_it_delivers(synth: Synth, handler: str) -> None:
    # the callback URL without the permission fails every delivery; the permission without it is unused
    delivers = "PARLEY_CALLBACK_URL" in synth.resource(f"Functions/{handler}")["Properties"].get(
        "Environment", {}).get("Variables", {})
    assert bool(actions(synth, handler, "execute-api:")) == delivers == NEEDS[handler].delivers


def test_conversations_reads_and_writes_the_table(synth: Synth) -> None:
    # createGroup is a transaction with a condition check; listConversations reads a batch
    assert {"dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem", "dynamodb:Query"} <= actions(synth, "conversations", "dynamodb:")


def test_default_has_no_access_to_the_table(synth: Synth) -> None:
    assert not actions(synth, "default", "dynamodb:")
    assert not actions(synth, "default", "execute-api:")


def test_table_access_is_on_parley_table_only(synth: Synth) -> None:
    # (and its index, by name, for the functions that query it: test_no_function_may_use_every_index)
    table = f"${{{synth.logical_id('Storage/Table')}.Arn}}"
    for handler in deployed_functions():
        allowed = {table, "${AWS::NoValue}", *([f"{table}/index/byKey"] if NEEDS[handler].queries_index else [])}
        for action in actions(synth, handler, "dynamodb:"):
            assert set(resources_of(synth, handler, action)) <= allowed, (handler, action)


def test_authorizer_reads_the_token_secret_and_nothing_else(synth: Synth) -> None:
    secret = f"${{{synth.logical_id('Auth/TokenSigningSecret')}}}"
    assert "secretsmanager:GetSecretValue" in actions(synth, "authorizer")
    assert resources_of(synth, "authorizer", "secretsmanager:GetSecretValue") == [secret]
    assert not actions(synth, "authorizer", "dynamodb:")
    assert not actions(synth, "authorizer", "execute-api:")


def test_only_the_authorizer_may_read_the_secret(synth: Synth) -> None:
    for handler in set(deployed_functions()) - {routes.AUTHORIZER}:
        assert not actions(synth, handler, "secretsmanager:")


def test_functions_write_only_to_their_own_log_group(synth: Synth) -> None:
    # no role gets the managed AWSLambdaBasicExecutionRole (logs:* on every group)
    for role in synth.of_type("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    for handler in deployed_functions():
        log_group = synth.resource(f"Functions/{handler}")["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources_of(synth, handler, "logs:PutLogEvents") == [f"${{{log_group}.Arn}}"]


def test_no_function_may_scan_the_table(synth: Synth) -> None:
    # given every deployed function, when its policy is read, then Scan is not among its DynamoDB actions:
    # a request's work must grow with the conversation or user it touches, never with the table
    for handler in deployed_functions():
        assert "dynamodb:Scan" not in actions(synth, handler, "dynamodb:"), handler


def test_no_function_may_use_every_index(synth: Synth) -> None:
    # given the table with its one secondary index / then no grant covers index/* (a function that queries
    # the index names it: Needs.queries_index)
    for name in deployed_functions():
        for resource in resources_of(synth, name, "dynamodb:Query"):
            assert not resource.endswith("/index/*"), f"{name} may query every index: {resource}"
            if "/index/" in resource:
                assert NEEDS[name].queries_index, name
                assert resource.endswith("/index/byKey"), resource
