"""Faults at the server API's AWS calls: a failed audit write leaves the call answered; a system message whose
write fails once is stored once and answered; one whose live delivery cannot be done reaches its member
through the delivery queue; a write refused by throttling stores nothing and says so."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Chat, kind, run_deliveries
from tests.support.events import http_api_event
from tests.support.faults import Fault, Rule, injected
from tests.support.handlers import invoke


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", http_api_event(method, path, body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


def is_audit_put(c: Any) -> bool:
    return str(c.params.get("Item", {}).get("pk", {}).get("S", "")).startswith("AUDIT#")


def is_message_put(c: Any) -> bool:
    return str(c.params.get("Item", {}).get("sk", {}).get("S", "")).startswith("MSG#")


def test_a_failed_audit_write_does_not_fail_the_call_it_records(aws_env: Any) -> None:
    with injected(Rule("dynamodb", "PutItem", Fault.SERVER_ERROR, when=is_audit_put, times=None)):
        status, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    assert status == 200
    assert call("GET", f"/v1/conversations/{created['conversationId']}")[0] == 200


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.LOST_RESPONSE, Fault.TIMEOUT])
def test_a_system_message_whose_put_fails_once_is_stored_once(aws_env: Any, fault: Fault) -> None:
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    cid = created["conversationId"]
    with injected(Rule("dynamodb", "PutItem", fault, when=is_message_put)):
        status, posted = call("POST", f"/v1/conversations/{cid}/messages", {"clientMsgId": "m1", "text": "hi"})
    assert (status, posted["seq"]) == (200, 1)
    # and a retry after it is the same message
    assert call("POST", f"/v1/conversations/{cid}/messages", {"clientMsgId": "m1", "text": "hi"})[1]["seq"] == 1
    assert call("GET", f"/v1/conversations/{cid}")[1]["lastSeq"] == 1


def test_a_throttled_system_message_is_refused_and_stores_nothing(aws_env: Any) -> None:
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    cid = created["conversationId"]
    with injected(Rule("dynamodb", "PutItem", Fault.THROTTLE, when=is_message_put, times=None)):
        status, answer = call("POST", f"/v1/conversations/{cid}/messages", {"clientMsgId": "m1", "text": "hi"})
    assert (status, answer["error"]["code"]) == (503, "throttled")
    assert call("GET", f"/v1/conversations/{cid}")[1]["lastSeq"] == 0


def test_a_system_message_not_delivered_live_reaches_its_member_through_the_delivery_queue(
        aws_env: Any, connections_api: Any) -> None:
    Chat("bob", "conn-bob").connect()
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    cid = created["conversationId"]
    # given the members' connections cannot be looked up while the message is sent
    with injected(Rule("dynamodb", "BatchGetItem", Fault.SERVER_ERROR, times=None)):
        status, _ = call("POST", f"/v1/conversations/{cid}/messages", {"clientMsgId": "m1", "text": "hi"})
    assert status == 200
    assert not [f for f in connections_api.frames_for("conn-bob") if kind(f) == "msg"]
    # when the deliver function runs the queued job / then bob gets it
    assert run_deliveries() == []
    assert [f["b"]["text"] for f in connections_api.frames_for("conn-bob") if kind(f) == "msg"] == ["hi"]
