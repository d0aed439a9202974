"""Abuse protection, one test per threat (docs/security.md), through the real handlers under moto."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, connection_records, kind, token
from tests.support.events import authorizer_event, connect_event
from tests.support.handlers import invoke
from tests.support.json_endpoint import JsonEndpoint, json_endpoint


def effect(policy: dict[str, Any]) -> str:
    value: str = policy["policyDocument"]["Statement"][0]["Effect"]
    return value


# --- flooding -------------------------------------------------------------------------------------

def test_flooding_is_rate_limited_and_nothing_over_the_limit_is_stored_or_delivered(
        configure: Any, aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    configure(PARLEY_RATE_LIMITS="send=1:5")
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    answers = [alice.send(cid, f"spam {i}", f"c{i}") for i in range(8)]
    assert [kind(a) for a in answers[:5]] == ["ack"] * 5
    refused = answers[5:]
    assert {a["code"] for a in refused} == {"rate_limited"}
    assert all(0 < a["retryAfterMs"] <= 1000 for a in refused) and refused[0]["clientMsgId"] == "c5"
    assert len([i for i in all_items(aws_env) if i["sk"]["S"].startswith("MSG#")]) == 5
    assert len([f for f in connections_api.frames_for("b1") if kind(f) == "msg"]) == 5


def test_the_limit_holds_across_a_users_connections(configure: Any, aws_env: Any) -> None:
    configure(PARLEY_RATE_LIMITS="history=1:3")
    phone, laptop = Chat("alice", "a1"), Chat("alice", "a2")
    cid = phone.open_direct("bob")
    answers = [c.history(cid) for c in (phone, laptop, phone, laptop)]
    assert [a["type"] for a in answers] == ["history", "history", "history", "error"]
    assert Chat("bob", "b1").history(cid)["type"] == "history"  # bob has his own bucket


def test_the_bucket_refills_at_the_configured_rate(aws_env: Any) -> None:
    from parley.stores.throttles import DynamoThrottleStore

    store, now = DynamoThrottleStore("parley-test"), 1_000_000
    assert [store.take("send", "u", 5, 2, now) for _ in range(3)] == [0, 0, 200]
    assert store.take("send", "u", 5, 2, now + 199) == 1
    assert store.take("send", "u", 5, 2, now + 200) == 0
    assert store.take("send", "u", 5, 2, now + 10_000) == 0  # idle: full burst again
    assert store.take("send", "u", 5, 2, now + 10_000) == 0


# --- too many connections -------------------------------------------------------------------------

def test_too_many_connections_are_refused(configure: Any, aws_env: Any) -> None:
    configure(PARLEY_MAX_CONNECTIONS_PER_USER="3", PARLEY_RATE_LIMITS="connect=100:100")
    codes = [invoke("connect", connect_event("alice", f"a{i}"))["statusCode"] for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert len(connection_records(aws_env)) == 3


def test_connecting_too_fast_is_refused(configure: Any, aws_env: Any) -> None:
    configure(PARLEY_RATE_LIMITS="connect=0.1:2")
    codes = [invoke("connect", connect_event("alice", f"a{i}"))["statusCode"] for i in range(3)]
    assert codes == [200, 200, 429]


# --- cross-origin handshake (CSWSH) ---------------------------------------------------------------

def test_a_cross_origin_handshake_is_refused(configure: Any) -> None:
    configure(PARLEY_ALLOWED_ORIGINS="https://app.example.com, https://admin.example.com")
    good = token("alice")
    assert effect(invoke("authorizer", authorizer_event(
        query={"token": good}, headers={"Origin": "https://evil.example"}))) == "Deny"
    assert effect(invoke("authorizer", authorizer_event(
        query={"token": good}, headers={"origin": "https://app.example.com"}))) == "Allow"
    assert effect(invoke("authorizer", authorizer_event(query={"token": good}))) == "Allow"  # a native app
    configure(PARLEY_ALLOW_MISSING_ORIGIN="false")
    assert effect(invoke("authorizer", authorizer_event(query={"token": good}))) == "Deny"


# --- replayed token -------------------------------------------------------------------------------

def test_a_replayed_single_use_token_is_refused(configure: Any) -> None:
    configure(PARLEY_SINGLE_USE_TOKENS="true", PARLEY_MAX_TOKEN_LIFETIME_SECONDS="120")
    now = int(time.time())
    once = token("alice", jti=uuid.uuid4().hex, iat=now, exp=now + 60)
    assert effect(invoke("authorizer", authorizer_event(query={"token": once}))) == "Allow"
    assert effect(invoke("authorizer", authorizer_event(query={"token": once}))) == "Deny"
    no_jti = token("alice", iat=now, exp=now + 60)
    assert effect(invoke("authorizer", authorizer_event(query={"token": no_jti}))) == "Deny"
    long_lived = token("alice", jti=uuid.uuid4().hex, iat=now, exp=now + 3600)
    assert effect(invoke("authorizer", authorizer_event(query={"token": long_lived}))) == "Deny"


# --- blocking -------------------------------------------------------------------------------------

def test_a_blocked_user_can_neither_open_nor_write_to_a_direct_conversation(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    assert bob.call("blocks", {"action": "block", "userId": "alice"}) == {"type": "blocks", "userIds": ["alice"]}
    before = all_items(aws_env)
    assert alice.call("conversations", {"action": "openDirect", "userId": "bob"})["code"] == "blocked"
    assert alice.send(cid, "let me in", "c1")["code"] == "blocked"
    assert alice.call("typing", {"action": "typing", "conversationId": cid}) == {}
    assert all_items(aws_env) == before
    assert [f for f in connections_api.frames_for("b1") if kind(f) in ("msg", "typing")] == []
    # bob may still write to alice, and unblocking restores the conversation
    assert kind(bob.send(cid, "bye", "c2")) == "ack"
    bob.call("blocks", {"action": "unblock", "userId": "alice"})
    assert kind(alice.send(cid, "thanks", "c3")) == "ack"


def test_in_groups_the_blocker_stops_receiving_the_blocked_users_messages_typing_and_presence(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    bob, carol = Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    group = bob.call("conversations", {"action": "createGroup", "members": ["alice", "carol"]})
    gid = group["conversation"]["conversationId"]
    bob.call("blocks", {"action": "block", "userId": "alice"})
    alice = Chat("alice", "a1").connect()
    assert kind(alice.send(gid, "hello group", "c1")) == "ack"
    alice.call("typing", {"action": "typing", "conversationId": gid})
    assert {kind(f) for f in connections_api.frames_for("c1")} >= {"msg", "typing", "presence"}
    assert [f for f in connections_api.frames_for("b1") if kind(f) in ("msg", "typing", "presence")] == []
    assert bob.call("presence", {"action": "presence", "userIds": ["alice", "carol"]})["users"] == [
        {"userId": "carol", "status": "online"}]
    assert carol.user == "carol"


# --- the moderation hook --------------------------------------------------------------------------

@pytest.fixture
def hook_endpoint(configure: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonEndpoint]:
    """A Lambda Invoke endpoint on 127.0.0.1 that answers the hook's verdict (after ``delay`` seconds)."""
    from parley.stores import moderation_lambda

    with json_endpoint({"verdict": "allow"}) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        moderation_lambda._lambda_client.cache_clear()
        configure(PARLEY_MODERATION_FUNCTION="parley-review", PARLEY_MODERATION_TIMEOUT_MS="300")
        yield endpoint
    moderation_lambda._lambda_client.cache_clear()


def test_a_message_the_hook_denies_is_refused_with_its_reason(aws_env: Any, hook_endpoint: Any,
                                                              connections_api: FakeConnectionsApi) -> None:
    hook_endpoint.answer = {"verdict": "deny", "reason": "No links, please."}
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    before = all_items(aws_env)
    refused = alice.send(cid, "buy at spam.example", "c1")
    assert refused["code"] == "message_rejected" and refused["message"] == "No links, please."
    assert all_items(aws_env) == before
    assert [f for f in connections_api.frames_for("b1") if kind(f) == "msg"] == []


def test_a_message_the_hook_replaces_is_stored_rewritten(aws_env: Any, hook_endpoint: Any,
                                                         connections_api: FakeConnectionsApi) -> None:
    hook_endpoint.answer = {"verdict": "replace", "text": "[removed]"}
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    assert kind(alice.send(cid, "something rude", "c1")) == "ack"
    assert [f["b"] for f in connections_api.frames_for("b1") if kind(f) == "msg"] == [{"text": "[removed]"}]


def test_a_hook_that_times_out_fails_open_or_closed_as_configured(configure: Any, aws_env: Any,
                                                                  hook_endpoint: Any) -> None:
    # a hook that would deny, but answers after 1 s: over the 300 ms budget, so its answer never counts
    hook_endpoint.delay, hook_endpoint.answer = 1.0, {"verdict": "deny", "reason": "too late"}
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    assert kind(alice.send(cid, "fail open", "c1")) == "ack"
    configure(PARLEY_MODERATION_FAIL_OPEN="false")
    before = all_items(aws_env)
    assert alice.send(cid, "fail closed", "c2")["code"] == "moderation_unavailable"
    assert all_items(aws_env) == before


# --- oversized and malformed frames ---------------------------------------------------------------

@pytest.mark.parametrize("body, code", [
    ("x" * 40_000, "frame_too_large"),
    (json.dumps({"action": "send", "conversationId": "c", "clientMsgId": "c", "body": {"text": "y" * 20_000}}),
     "text_too_long"),
    ("{\"action\": \"send\", ", "invalid_json"),
    ("[" * 5000 + "]" * 5000, "invalid_json"),
    (json.dumps({"action": "send", "conversationId": "../../etc", "clientMsgId": "c", "body": {"text": "t"}}),
     "invalid_frame"),
])
def test_oversized_and_malformed_frames_are_refused_and_change_nothing(aws_env: Any, body: str, code: str) -> None:
    alice = Chat("alice", "a1")
    alice.open_direct("bob")
    before = all_items(aws_env)
    assert alice.call("send", body)["code"] == code
    assert all_items(aws_env) == before


# --- user ids that hide or reorder characters -----------------------------------------------------

# Each looks like "bob" on a screen, or hides what follows it (docs/protocol.md, Connecting: the user id rule).
SPOOFED_IDS = ["bob\n", "bob\x00", "\u202ebob", "b\u2066ob\u2069", "b\u200bob", "bob\u00a0", "bob#1", "b" * 129]
FRAMES_NAMING_USERS = {
    "openDirect": ("conversations", lambda user: {"action": "openDirect", "userId": user}),
    "createGroup": ("conversations", lambda user: {"action": "createGroup", "members": ["carol", user]}),
    "presence": ("presence", lambda user: {"action": "presence", "userIds": ["carol", user]}),
    "block": ("blocks", lambda user: {"action": "block", "userId": user}),
    "unblock": ("blocks", lambda user: {"action": "unblock", "userId": user}),
}


@pytest.mark.parametrize("action", sorted(FRAMES_NAMING_USERS))
def test_a_frame_naming_a_spoofed_user_id_is_refused_and_changes_nothing(aws_env: Any, action: str) -> None:
    # given alice, who shares a conversation with carol and has blocked mallory
    alice = Chat("alice", "a1").connect()
    alice.open_direct("carol")
    alice.call("blocks", {"action": "block", "userId": "mallory"})
    before = all_items(aws_env)
    function, frame = FRAMES_NAMING_USERS[action]
    for spoofed in SPOOFED_IDS:
        # when a frame names a user id that breaks the rule
        answer = alice.call(function, {**frame(spoofed), "requestId": "r-1"})
        # then it is refused as invalid, and nothing is stored
        assert (answer["type"], answer["code"], answer["ref"]) == ("error", "invalid_frame", "r-1"), repr(spoofed)
        assert all_items(aws_env) == before, repr(spoofed)


# --- reports --------------------------------------------------------------------------------------

def test_a_report_is_stored_once_and_published_for_moderators(configure: Any, aws_env: Any) -> None:
    import boto3

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="parley-moderation")["TopicArn"]
    queue = sqs.create_queue(QueueName="moderators")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    configure(PARLEY_MODERATION_TOPIC_ARN=topic)
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    cid = alice.open_direct("bob")
    alice.send(cid, "something nasty", "c1")
    assert bob.call("reports", {"action": "report", "conversationId": cid, "seq": 1, "reason": "abuse"}) == {
        "type": "reported", "conversationId": cid, "seq": 1}
    bob.call("reports", {"action": "report", "conversationId": cid, "seq": 1})  # again: no second event
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    # (the topic also carries the conversation's conversation.created: docs/events.md)
    [event] = [e for e in (json.loads(m["Body"]) for m in messages) if e["type"] == "message.reported"]
    assert event["type"] == "message.reported" and event["version"] == 1
    assert (event["reportedUserId"], event["reporterId"], event["reason"], event["text"]) == (
        "alice", "bob", "abuse", "something nasty")
    [stored] = [i for i in all_items(aws_env) if i["pk"]["S"] == f"REPORT#{cid}"]
    assert stored["reporter"]["S"] == "bob"
    assert Chat("eve", "e1").call("reports", {"action": "report", "conversationId": cid, "seq": 1})["code"] \
        == "not_member"
    assert bob.call("reports", {"action": "report", "conversationId": cid, "seq": 9})["code"] == "message_not_found"
