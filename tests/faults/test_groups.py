"""Faults at the one transaction of a group change (TransactWriteItems: the group, its change entry, the
memberships): throttled, failed, timed out, its answer lost, the Lambda killed. After each, the change is stored
once or not at all, never in part, and a change the caller was told about is there exactly once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from parley import table, wiring
from tests.faults.harness import TABLE_NAME, Environment
from tests.support.events import message_event
from tests.support.faults import Fault, LambdaKilled, Rule, injected
from tests.support.handlers import invoke

CASES = [(Fault.THROTTLE, 1), (Fault.THROTTLE, None), (Fault.SERVER_ERROR, 1), (Fault.SERVER_ERROR, None),
         (Fault.TIMEOUT, 1), (Fault.TIMEOUT, None), (Fault.LOST_RESPONSE, 1), (Fault.LOST_RESPONSE, None),
         (Fault.KILL, 1)]


@pytest.fixture
def fresh_table(environment: Environment, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    environment.ddb.create_table(**table.TABLE.create_table_kwargs(name))
    monkeypatch.setenv("PARLEY_TABLE_NAME", name)
    wiring.reset(keep_clients=True)
    return name


def call(function: str, user: str, body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        answer = invoke(function, message_event(user, f"{user}-1", body))
    except LambdaKilled:
        return None
    parsed: dict[str, Any] = json.loads(answer["body"])
    return parsed


def items(env: Environment, name: str) -> list[dict[str, Any]]:
    found = env.ddb.scan(TableName=name, ConsistentRead=True)["Items"]  # the test's own look, never a request's
    return [i for i in found if not i["pk"]["S"].startswith("THROTTLE#")]


@pytest.mark.parametrize(("fault", "times"), CASES, ids=str)
def test_a_fault_at_the_group_change_transaction_stores_it_once_or_not_at_all(
        environment: Environment, fresh_table: str, fault: Fault, times: int | None) -> None:
    # given alice's group with bob
    created = call("conversations", "alice", {"action": "createGroup", "members": ["bob"]})
    assert created is not None
    cid = created["conversation"]["conversationId"]
    add = {"action": "addMembers", "conversationId": cid, "userIds": ["carol"]}
    # when alice adds carol and the transaction meets the fault
    with injected(Rule("dynamodb", "TransactWriteItems", fault, times=times)) as injector:
        answer = call("groups", "alice", add)
    assert any(f is fault for _, f in injector.log), "the fault never happened"
    # and alice asks again when she got no answer or an error
    first = answer
    if answer is None or answer["type"] == "error":
        answer = call("groups", "alice", add)
    assert answer is not None and answer["type"] == "conversation", answer
    # then the group has carol once, its stream holds one membersAdded entry, and carol's membership exists
    stored = items(environment, fresh_table)
    entries = [i for i in stored if i["pk"]["S"] == table.conversation_pk(cid) and i["sk"]["S"].startswith("MSG#")]
    assert len(entries) == 1 and entries[0][table.ATTR_CHANGE]["M"]["kind"]["S"] == "membersAdded"
    meta = next(i for i in stored if i["pk"]["S"] == table.conversation_pk(cid) and i["sk"]["S"] == table.META_SK)
    assert [m["S"] for m in meta["members"]["L"]] == ["alice", "bob", "carol"] and meta["v"]["N"] == "1"
    assert any(i["pk"]["S"] == table.user_pk("carol") and i["sk"]["S"] == table.member_sk(cid) for i in stored)
    # and an error answered the first time means nothing had been stored then (the retry stored it)
    if first is not None and first["type"] == "error":
        assert first["code"] in {"throttled", "internal_error"}, first
        assert answer.get("seq") == 1
