"""Faults at every AWS call of edit, react and delete (two writes each: the message in place, then the change
entry; a delete also removes the files): retried as an app retries, each change ends up applied once, recorded
once, in order, and the deleted message's files are gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from parley import table, wiring
from parley.attachments import conversation_prefix, uploader_segment
from parley.routes import ROUTES
from tests.faults.harness import BUCKET, FAULTS, TABLE_NAME, Environment, FaultCase, Point, cases, key_of
from tests.support.events import connect_event, message_event
from tests.support.faults import FaultInjector, LambdaKilled, injected, is_item_of, is_query_of
from tests.support.handlers import invoke

ATTEMPTS = 4  # the first meets the fault; an app retries on an error frame or no answer
RETRYABLE = {"throttled", "internal_error", "conflict"}

CHANGE_POINTS: list[Point] = [
    ("conversation head", "dynamodb", "Query", is_query_of("CONV#")),
    ("the message read", "dynamodb", "GetItem", key_of("CONV#")),
    ("the message changed in place", "dynamodb", "UpdateItem", key_of("CONV#")),
    ("the change entry", "dynamodb", "PutItem", is_item_of("MSG#")),
    ("upload record marked deleted", "dynamodb", "UpdateItem", key_of("UPLOAD#")),
    ("the files deleted", "s3", "DeleteObjects", None),
    ("post to a connection", "apigatewaymanagementapi", "PostToConnection", None),
]


class Scenario:
    """alice and bob in a group with carol (offline); alice sent a text and a voice message. Then alice edits the
    text, bob reacts to it and alice deletes the voice message, each first attempt meeting the case's fault."""

    def __init__(self, env: Environment, case: FaultCase, table_name: str) -> None:
        self.env, self.case, self.table_name = env, case, table_name
        self.injector = FaultInjector()
        self.voice_key = ""

    def call(self, user: str, body: dict[str, Any], *, faulty: bool = False) -> dict[str, Any] | None:
        function = ROUTES[body["action"]]
        self.injector.rules = [self.case.rule] if faulty else []
        try:
            answer = invoke(function, message_event(user, f"{user}-1", body, route_key=body["action"]))
        except LambdaKilled:
            return None
        except Exception:  # the invocation failed: API Gateway answers "Internal server error"
            return None
        finally:
            self.injector.rules = []
            self.injector.revive()
        return dict(json.loads(answer["body"]))

    def change(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(ATTEMPTS):
            answer = self.call(user, body, faulty=attempt == 0)
            if answer is not None and answer.get("type") == "changed":
                return answer
            assert answer is None or answer.get("code") in RETRYABLE, answer
        raise AssertionError(f"{body['action']} never succeeded")

    def play(self) -> str:
        with injected(services=("dynamodb", "s3", "sqs")) as self.injector:
            self.env.api.injector = self.injector
            try:
                for user in ("alice", "bob"):
                    assert invoke("connect", connect_event(user, f"{user}-1"))["statusCode"] == 200
                created = self.call("alice", {"action": "createGroup", "members": ["bob", "carol"]})
                assert created is not None
                cid: str = created["conversation"]["conversationId"]
                self.voice_key = f"{conversation_prefix(cid)}{uploader_segment('alice')}/voice1"
                self.env.s3.put_object(Bucket=BUCKET, Key=self.voice_key, Body=b"voice", ContentType="audio/mp4")
                for n, body in enumerate(({"text": "helo"}, {"attachments": [
                        {"key": self.voice_key, "contentType": "audio/mp4", "size": 5}]})):
                    sent = self.call("alice", {"action": "send", "conversationId": cid, "clientMsgId": f"m{n}",
                                               "body": body})
                    assert sent is not None and sent.get("t") == "ack", sent
                self.change("alice", {"action": "edit", "conversationId": cid, "seq": 1, "text": "hello"})
                self.change("bob", {"action": "react", "conversationId": cid, "seq": 1, "emoji": "👍"})
                self.change("alice", {"action": "delete", "conversationId": cid, "seq": 2})
                return cid
            finally:
                self.env.api.injector = None

    def catch_up(self, cid: str) -> list[dict[str, Any]]:
        answer = self.call("carol", {"action": "history", "conversationId": cid, "after": 0, "limit": 50})
        assert answer is not None
        return list(answer["messages"])


@pytest.fixture
def table_name(environment: Environment, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import uuid

    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    environment.ddb.create_table(**table.TABLE.create_table_kwargs(name))
    monkeypatch.setenv("PARLEY_TABLE_NAME", name)
    monkeypatch.setenv("PARLEY_RATE_LIMITS", "")
    wiring.reset(keep_clients=True)
    yield name


@pytest.mark.parametrize("case", cases("changes", CHANGE_POINTS, FAULTS), ids=str)
def test_each_change_is_applied_and_recorded_once_whatever_fails(case: FaultCase, environment: Environment,
                                                                 table_name: str) -> None:
    scenario = Scenario(environment, case, table_name)
    cid = scenario.play()
    assert case.rule.injected, f"{case} never happened"
    entries = scenario.catch_up(cid)
    # then carol, catching up, gets the two messages as they are now and each change once, in order
    assert [(e["s"], e.get("k")) for e in entries] == [(1, None), (2, None), (3, "edited"), (4, "reacted"),
                                                       (5, "deleted")]
    text, voice, edited, reacted, deleted = entries
    assert text["b"] == {"text": "hello"} and text["reactions"] == [{"emoji": "👍", "count": 1, "me": False}]
    assert voice.get("deleted") is True and "b" not in voice
    assert (edited["target"], edited["text"]) == (1, "hello")
    assert (reacted["target"], reacted["emoji"], reacted["count"], reacted["f"]) == (1, "👍", 1, "bob")
    assert (deleted["target"], deleted["f"]) == (2, "alice")
    # and the deleted message's file is gone, and its key refused
    assert environment.s3.list_objects_v2(Bucket=BUCKET, Prefix=conversation_prefix(cid)).get("Contents", []) == []
    refused = scenario.call("bob", {"action": "attachmentUrls", "conversationId": cid, "keys": [scenario.voice_key]})
    assert refused is not None and refused["code"] == "attachment_deleted"
