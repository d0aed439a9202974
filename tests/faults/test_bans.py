"""Faults at every AWS call of a ban (the ban stored, the connections read, each connection closed, the event
published): whatever fails, once a ban is stored it holds -- the user's handshakes are refused and a socket the
ban could not close cannot send -- and the backend's retry of the same call closes what is left."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from parley import table, wiring
from tests.faults.harness import FAULTS, TABLE_NAME, Environment, FaultCase, Point, cases, topic_publish
from tests.support.events import connect_event, http_api_event, message_event
from tests.support.faults import Call, Fault, FaultInjector, LambdaKilled, Rule, injected
from tests.support.handlers import invoke

ATTEMPTS = 4  # the first meets the fault; the backend retries a 5xx or no answer


def _ban_written(call: Call) -> bool:
    return any(i.get("Put", {}).get("Item", {}).get("sk", {}).get("S") == table.BAN_SK
               for i in call.params.get("TransactItems", []))


def _connections_read(call: Call) -> bool:
    return call.params.get("Key", {}).get("sk", {}).get("S") == table.CONNECTIONS_SK


BAN_POINTS: list[Point] = [
    ("the ban stored", "dynamodb", "TransactWriteItems", _ban_written),
    ("the user's connections read", "dynamodb", "GetItem", _connections_read),
    ("a connection closed", "apigatewaymanagementapi", "DeleteConnection", None),
    ("user.banned published", "sns", "Publish", topic_publish),
]


class Scenario:
    """mallory on two sockets and bob on one, in a direct conversation; the backend bans mallory, the first
    attempt meeting the case's fault (``every_attempt``: all of them)."""

    def __init__(self, env: Environment, rule: Rule) -> None:
        self.env, self.rule = env, rule
        self.injector = FaultInjector()
        self.cid = ""

    def ban(self, *, faulty: bool) -> dict[str, Any] | None:
        self.injector.rules = [self.rule] if faulty else []
        try:
            answer = invoke("server_api", http_api_event("POST", "/v1/bans", {"userId": "mallory"}))
        except (LambdaKilled, Exception):
            return None
        finally:
            self.injector.rules = []
            self.injector.revive()
        return {"status": answer["statusCode"], **json.loads(answer["body"])}

    def play(self, *, every_attempt: bool = False) -> list[dict[str, Any] | None]:
        for user, connection in (("mallory", "m1"), ("mallory", "m2"), ("bob", "b1")):
            assert invoke("connect", connect_event(user, connection))["statusCode"] == 200
        opened = json.loads(invoke("conversations", message_event("bob", "b1", {
            "action": "openDirect", "userId": "mallory"}))["body"])
        self.cid = opened["conversation"]["conversationId"]
        answers = []
        with injected(services=("dynamodb", "sns", "sqs")) as self.injector:
            self.env.api.injector = self.injector
            try:
                for attempt in range(ATTEMPTS):
                    answer = self.ban(faulty=every_attempt or attempt == 0)
                    answers.append(answer)
                    if answer is not None and answer["status"] == 200 and not answer["connectionsLeftOpen"]:
                        break
            finally:
                self.env.api.injector = None
        return answers

    def send_as(self, connection: str) -> dict[str, Any]:
        return dict(json.loads(invoke("send", message_event("mallory", connection, {
            "action": "send", "conversationId": self.cid, "clientMsgId": str(uuid.uuid4()),
            "body": {"text": "buy followers"}}))["body"]))


@pytest.fixture
def fresh(environment: Environment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    environment.ddb.create_table(**table.TABLE.create_table_kwargs(name))
    topic = boto3.client("sns").create_topic(Name="parley-moderation")["TopicArn"]
    monkeypatch.setenv("PARLEY_TABLE_NAME", name)
    monkeypatch.setenv("PARLEY_MODERATION_TOPIC_ARN", topic)
    monkeypatch.setenv("PARLEY_RATE_LIMITS", "")
    environment.api.closed.clear()
    wiring.reset(keep_clients=True)
    yield


def assert_ban_holds(scenario: Scenario) -> None:
    # the user's next handshake is refused
    assert invoke("connect", connect_event("mallory", "m9"))["statusCode"] == 423
    # and any socket of hers the ban did not close cannot send
    for connection in ("m1", "m2"):
        if connection not in scenario.env.api.closed:
            answer = scenario.send_as(connection)
            assert answer.get("code") == "banned", answer


@pytest.mark.parametrize("case", cases("ban", BAN_POINTS, FAULTS), ids=str)
def test_a_ban_holds_and_its_retry_closes_every_socket_whatever_fails(case: FaultCase, environment: Environment,
                                                                      fresh: None) -> None:
    scenario = Scenario(environment, case.rule)
    answers = scenario.play()
    assert case.rule.injected, f"{case} never happened"
    # then the backend's retries end with the ban stored and every socket of hers closed
    last = answers[-1]
    assert last is not None and last["status"] == 200, answers
    assert last["connectionsLeftOpen"] == 0
    assert {"m1", "m2"} <= set(environment.api.closed) and "b1" not in environment.api.closed
    # and the ban holds
    assert_ban_holds(scenario)
    # and every answer before was a failure the backend could tell (a 5xx or none), or said what it left open
    for answer in answers[:-1]:
        assert answer is None or answer["status"] >= 500 or answer["connectionsLeftOpen"] > 0, answer


def test_a_ban_whose_connections_cannot_be_closed_at_all_still_holds(environment: Environment, fresh: None) -> None:
    # given the management API failing every close
    rule = Rule("apigatewaymanagementapi", "DeleteConnection", Fault.SERVER_ERROR, times=None)
    scenario = Scenario(environment, rule)
    answers = scenario.play(every_attempt=True)
    # then each attempt answers 200, stored, and says both sockets were left open
    assert all(a is not None and a["status"] == 200 and a["connectionsLeftOpen"] == 2 for a in answers), answers
    assert environment.api.closed == []
    # and still: no handshake, and neither open socket can send
    assert_ban_holds(scenario)
