"""The server API's function under moto: its framework (errors, validation, audit) and each route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import ADMIN_ARN, http_api_event
from tests.support.handlers import invoke


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", http_api_event(method, path, body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


@pytest.fixture
def api(aws_env: Any) -> Any:
    return aws_env


def test_a_direct_conversation_is_created_once_for_a_pair(api: Any) -> None:
    # given no conversation between alice and bob
    # when the backend asks for theirs twice, naming them in either order
    status, first = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    again_status, again = call("POST", "/v1/conversations/direct", {"userIds": ["bob", "alice"]})
    # then both answers are the same direct conversation
    assert (status, again_status) == (200, 200)
    assert first["conversationId"] == again["conversationId"]
    assert first["kind"] == "direct"
    assert sorted(m["userId"] for m in first["members"]) == ["alice", "bob"]


def test_metadata_reads_members_and_last_seq(api: Any) -> None:
    # given a direct conversation
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    # when its metadata is read
    status, metadata = call("GET", f"/v1/conversations/{created['conversationId']}")
    # then it has its members and no entries yet
    assert status == 200
    assert metadata["lastSeq"] == 0
    assert metadata["createdBy"] in ("alice", "bob")


def test_an_unknown_conversation_is_404_with_a_stable_code(api: Any) -> None:
    status, answer = call("GET", "/v1/conversations/g_nothere")
    assert status == 404
    assert answer == {"error": {"code": "conversation_not_found", "message": "No such conversation."}}


@pytest.mark.parametrize("body", [{"userIds": ["alice"]}, {"userIds": ["alice", "bo b"]},
                                  {"userIds": ["alice", "bob"], "extra": 1}, {}])
def test_an_invalid_body_is_400_invalid_request_and_stores_nothing(api: Any, body: Any) -> None:
    status, answer = call("POST", "/v1/conversations/direct", body)
    assert status == 400
    assert answer["error"]["code"] == "invalid_request"
    assert "bo b" not in answer["error"]["message"]  # never the offending value
    assert not [i for i in api.scan(TableName="parley-test")["Items"] if not i["pk"]["S"].startswith("AUDIT")]


def test_a_body_that_is_not_json_is_400_invalid_request(api: Any) -> None:
    answer = invoke("server_api", http_api_event("POST", "/v1/conversations/direct", raw_body="{not json"))
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "invalid_request"


def test_an_unknown_route_is_404_route_not_found(api: Any) -> None:
    status, answer = call("GET", "/v1/nothing-here")
    assert (status, answer["error"]["code"]) == (404, "route_not_found")


def test_every_call_is_in_the_audit_log_by_time_and_by_target(api: Any) -> None:
    # given a created conversation, and a refused call
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    call("GET", "/v1/conversations/g_nothere")
    # when the audit log is read, whole and for bob
    _, log = call("GET", "/v1/audit")
    _, bobs = call("GET", "/v1/audit", query={"target": "user:bob"})
    # then both calls are there, newest first, with who, what, outcome and targets
    assert [(e["operation"], e["status"]) for e in log["entries"]] == [
        ("GET /v1/conversations/{conversationId}", 404), ("POST /v1/conversations/direct", 200)]
    created_entry = log["entries"][1]
    assert created_entry["caller"] == ADMIN_ARN
    assert created_entry["targets"] == ["user:alice", "user:bob", f"conversation:{created['conversationId']}"]
    assert [e["entryId"] for e in bobs["entries"]] == [created_entry["entryId"]]
