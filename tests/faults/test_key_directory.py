"""Faults at every AWS call of the key directory (docs/e2e.md): a device's item read and written, the members of
the user's encrypted conversations read for ``keysChanged`` and told, and the batch read of ``getKeys``. Whatever
fails, a publication either answers ``keysPublished`` or fails in a way the client can tell (an error frame, or no
answer), its retry always ends with the device in the directory exactly once, and a failed fetch changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from parley import table, wiring
from tests.faults.harness import BATCH_FAULTS, FAULTS, TABLE_NAME, Environment, FaultCase, Point, cases
from tests.support.e2e import Device
from tests.support.events import connect_event, message_event
from tests.support.faults import Call, Fault, FaultInjector, LambdaKilled, Rule, injected
from tests.support.handlers import invoke

ATTEMPTS = 4  # the first meets the fault; the client resends the same publishKeys after an error or no answer


def _keys_item(call: Call) -> bool:
    item = call.params.get("Item") or call.params.get("Key") or {}
    return item.get("sk", {}).get("S") == table.KEYS_SK


def _memberships(call: Call) -> bool:
    return ":prefix" in call.params.get("ExpressionAttributeValues", {}) and \
        call.params["ExpressionAttributeValues"][":prefix"].get("S") == table.MEMBER_PREFIX


PUBLISH_POINTS: list[Point] = [
    ("the device's directory item read", "dynamodb", "GetItem", _keys_item),
    ("the device's directory item written", "dynamodb", "PutItem", _keys_item),
    ("the user's memberships read (keysChanged)", "dynamodb", "Query", _memberships),
    ("the encrypted conversations read (keysChanged)", "dynamodb", "BatchGetItem", None),
]


@pytest.fixture
def fresh(environment: Environment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    environment.ddb.create_table(**table.TABLE.create_table_kwargs(name))
    monkeypatch.setenv("PARLEY_TABLE_NAME", name)
    monkeypatch.setenv("PARLEY_RATE_LIMITS", "")
    wiring.reset(keep_clients=True)
    yield


def call(user: str, connection: str, body: dict[str, Any], function: str = "keys") -> dict[str, Any] | None:
    try:
        response = invoke(function, message_event(user, connection, body))
    except (LambdaKilled, Exception):
        return None  # no answer: the client resends
    return dict(json.loads(response["body"]))


def world(environment: Environment) -> str:
    """alice (online) and bob in an encrypted conversation; bob publishes."""
    for user, connection in (("alice", "a1"), ("bob", "b1")):
        assert invoke("connect", connect_event(user, connection))["statusCode"] == 200
    opened = call("alice", "a1", {"action": "openDirect", "userId": "bob", "e2e": True}, "conversations")
    assert opened is not None
    return str(opened["conversation"]["conversationId"])


def bobs_devices() -> list[dict[str, Any]]:
    answer = call("alice", "a1", {"action": "getKeys", "userIds": ["bob"]})
    assert answer is not None and answer["type"] == "keys", answer
    devices: list[dict[str, Any]] = answer["users"][0]["devices"]
    return devices


@pytest.mark.parametrize("case", cases("publishKeys", PUBLISH_POINTS, FAULTS), ids=str)
def test_a_publication_whatever_fails_ends_with_the_device_published_once(case: FaultCase, environment: Environment,
                                                                          fresh: None) -> None:
    # given bob in an encrypted conversation with alice, and a device to publish
    world(environment)
    phone = Device("dev-bob-001")
    answers = []
    # when the first attempt meets the fault (at every try of that call, or once) and bob resends the same frame
    with injected(case.rule, services=("dynamodb",)) as injector:
        for _attempt in range(ATTEMPTS):
            answer = call("bob", "b1", phone.publish_frame())
            answers.append(answer)
            injector.rules = []  # the resends meet no fault
            injector.revive()
            if answer is not None and answer["type"] == "keysPublished":
                break
    assert case.rule.injected, f"{case} never happened"
    # then it was published in the end, and every failed attempt said so in a way the client can tell
    assert answers[-1] is not None and answers[-1]["type"] == "keysPublished", answers
    for answer in answers[:-1]:
        assert answer is None or answer.get("code") in ("throttled", "internal_error"), answer
    # and the directory holds the device once, with the keys it published (never a conflict with itself)
    [device] = bobs_devices()
    assert (device["deviceId"], device["identityKey"]) == ("dev-bob-001", phone.identity_key)


@pytest.mark.parametrize("fault", [f for f, _ in FAULTS + BATCH_FAULTS], ids=str)
def test_a_failed_key_fetch_is_told_and_a_retry_answers(fault: Fault, environment: Environment, fresh: None) -> None:
    # given bob's device in the directory
    world(environment)
    phone = Device("dev-bob-001")
    assert (call("bob", "b1", phone.publish_frame()) or {}).get("type") == "keysPublished"
    # when alice's fetch meets the fault once
    with injected(Rule("dynamodb", "BatchGetItem", fault, times=1), services=("dynamodb",)) as injector:
        first = call("alice", "a1", {"action": "getKeys", "userIds": ["bob"]})
        injector.revive()
    # then it answered the keys (a retried batch) or failed visibly, and the next fetch answers them
    assert first is None or first["type"] == "keys" or first.get("code") in ("throttled", "internal_error"), first
    if first is not None and first["type"] == "keys":
        assert [d["deviceId"] for d in first["users"][0]["devices"]] == ["dev-bob-001"]
    assert [d["deviceId"] for d in bobs_devices()] == ["dev-bob-001"]


def test_keys_changed_that_cannot_be_told_does_not_fail_the_publication(environment: Environment,
                                                                        fresh: None) -> None:
    # given alice online in bob's encrypted conversation, and her connection failing every post
    world(environment)
    environment.api.injector = FaultInjector([Rule("apigatewaymanagementapi", "PostToConnection", Fault.SERVER_ERROR,
                                                   times=None)])
    try:
        answer = call("bob", "b1", Device("dev-bob-001").publish_frame())
    finally:
        environment.api.injector = None
    # then the device is published all the same (clients also re-fetch a sender's unknown device: docs/e2e.md)
    assert answer is not None and answer["type"] == "keysPublished", answer
    assert [d["deviceId"] for d in bobs_devices()] == ["dev-bob-001"]
