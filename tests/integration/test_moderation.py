"""Moderation under moto, through the real handlers: the server API bans, lifts bans, lists and resolves
reports and deletes messages for everyone; the socket handlers refuse a banned user; the core services
publish the lifecycle events on the moderation topic."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, drained, kind
from tests.support.e2e import Device
from tests.support.events import ADMIN_ARN, connect_event, http_api_event
from tests.support.handlers import invoke


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", http_api_event(method, path, body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


class Topic:
    """The moderation topic, with a queue subscribed to it that keeps what was published."""

    def __init__(self) -> None:
        self.sns, self.sqs = boto3.client("sns"), boto3.client("sqs")
        self.arn = self.sns.create_topic(Name="parley-moderation")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName="host-webhook")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]
        self.sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=queue_arn["QueueArn"],
                           Attributes={"RawMessageDelivery": "true"})

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in drained(self.queue)]


@pytest.fixture
def topic(aws_env: Any, configure: Any) -> Topic:
    made = Topic()
    configure(PARLEY_MODERATION_TOPIC_ARN=made.arn)
    return made


def test_a_ban_closes_the_users_sockets_and_their_reconnect_is_refused(
        aws_env: Any, connections_api: FakeConnectionsApi, topic: Topic) -> None:
    # given mallory connected twice and bob once
    Chat("mallory", "m1").connect(), Chat("mallory", "m2").connect(), Chat("bob", "b1").connect()
    # when the backend bans her for a day
    status, answer = call("POST", "/v1/bans", {"userId": "mallory", "durationSeconds": 86_400, "reason": "spam"})
    # then both her sockets are closed at once, bob's is not
    assert status == 200, answer
    assert sorted(connections_api.closed) == ["m1", "m2"]
    assert (answer["connectionsClosed"], answer["connectionsLeftOpen"]) == (2, 0)
    assert answer["ban"]["by"] == ADMIN_ARN and answer["ban"]["until"] == answer["ban"]["bannedAt"] + 86_400_000
    # and her next handshake is refused with 423, leaving no connection record behind
    assert invoke("connect", connect_event("mallory", "m3"))["statusCode"] == 423
    assert not [i for i in all_items(aws_env) if i["pk"]["S"] == "USER#mallory" and "m3" in i.get("c", {}).get("M", {})]
    # and the host app heard of it
    [banned] = [e for e in topic.events() if e["type"] == "user.banned"]
    assert (banned["userId"], banned["connectionsClosed"], banned["by"]) == ("mallory", 2, ADMIN_ARN)


def test_a_socket_left_open_by_a_failed_close_cannot_send(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    mallory, bob = Chat("mallory", "m1").connect(), Chat("bob", "b1").connect()
    cid = mallory.open_direct("bob")

    class Unclosable:
        def decide(self, call: Any) -> Any:
            from tests.support.faults import Fault

            return Fault.SERVER_ERROR if call.operation == "DeleteConnection" else None

    connections_api.injector = Unclosable()  # type: ignore[assignment]
    status, answer = call("POST", "/v1/bans", {"userId": "mallory"})
    assert status == 200 and answer["connectionsLeftOpen"] == 1 and answer["ban"]["until"] is None
    connections_api.injector = None
    before = [i for i in all_items(aws_env) if i["pk"]["S"].startswith("CONV#")]
    # when her open socket sends / then it is refused, and nothing is stored or delivered
    refused = mallory.send(cid, "buy now", "c1")
    assert (kind(refused), refused["code"]) == ("error", "banned")
    assert [i for i in all_items(aws_env) if i["pk"]["S"].startswith("CONV#")] == before
    # nor publish a device's keys (that would tell every member of her encrypted conversations)
    keys_before = [i for i in all_items(aws_env) if i["sk"]["S"] == "~KEYS"]
    refused = mallory.call("keys", Device("dev-mallory-1").publish_frame())
    assert (kind(refused), refused["code"]) == ("error", "banned")
    assert [i for i in all_items(aws_env) if i["sk"]["S"] == "~KEYS"] == keys_before
    assert connections_api.frames_for("b1") == []
    del bob


def test_unbanning_lets_the_user_back_in_and_the_history_keeps_both(aws_env: Any) -> None:
    call("POST", "/v1/bans", {"userId": "mallory", "reason": "spam"})
    status, listed = call("GET", "/v1/bans")
    assert status == 200 and [b["userId"] for b in listed["bans"]] == ["mallory"]
    assert call("DELETE", "/v1/bans/mallory") == (200, {"userId": "mallory", "unbanned": True})
    assert call("DELETE", "/v1/bans/mallory") == (200, {"userId": "mallory", "unbanned": False})
    assert invoke("connect", connect_event("mallory", "m1"))["statusCode"] == 200
    status, mine = call("GET", "/v1/bans/mallory")
    assert status == 200 and mine["ban"] is None
    assert [e["action"] for e in mine["history"]] == ["unbanned", "banned"]
    assert call("GET", "/v1/bans")[1]["bans"] == []


@pytest.mark.parametrize("body", [{"userId": "bo b"}, {"userId": "bob", "durationSeconds": 0},
                                  {"userId": "bob", "reason": ""}, {"userId": "bob", "forever": True}])
def test_an_invalid_ban_is_refused_and_bans_nobody(aws_env: Any, body: Any) -> None:
    status, answer = call("POST", "/v1/bans", body)
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert not [i for i in all_items(aws_env) if "BAN" in i["sk"]["S"]]


def test_reports_are_listed_open_first_and_resolved_by_deleting(
        aws_env: Any, connections_api: FakeConnectionsApi, topic: Topic) -> None:
    # given mallory's message reported by bob and carol in a group
    mallory, bob, carol = Chat("mallory", "m1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    created = mallory.call("conversations", {"action": "createGroup", "members": ["bob", "carol"], "name": "g"})
    cid = created["conversation"]["conversationId"]
    seq = mallory.send(cid, "buy followers", "x1")["s"]
    for reporter in (bob, carol):
        reporter.call("reports", {"action": "report", "conversationId": cid, "seq": seq, "reason": "spam"})
    # when the backend lists the open reports, one per page
    status, first = call("GET", "/v1/reports", query={"limit": "1"})
    _, second = call("GET", "/v1/reports", query={"limit": "1", "cursor": first["cursor"]})
    assert status == 200 and second["cursor"] is None
    assert sorted(r["reporterId"] for r in first["reports"] + second["reports"]) == ["bob", "carol"]
    assert first["reports"][0]["text"] == "buy followers" and first["reports"][0]["status"] == "open"
    # and resolves bob's by deleting the message
    status, resolved = call("POST", "/v1/reports/resolve", {"conversationId": cid, "seq": seq, "reporterId": "bob",
                                                            "resolution": "message_deleted", "note": "spam"})
    # then both reports of it are resolved, with who and when
    assert status == 200, resolved
    assert sorted(r["reporterId"] for r in resolved["resolved"]) == ["bob", "carol"]
    assert {r["resolvedBy"] for r in resolved["resolved"]} == {ADMIN_ARN}
    assert call("GET", "/v1/reports")[1]["reports"] == []
    done = call("GET", "/v1/reports", query={"status": "resolved"})[1]["reports"]
    assert len(done) == 2
    # and no copy of the deleted text is left in the reports
    assert all(r["messageDeleted"] is True and r["text"] is None for r in done)
    assert not [i for i in all_items(aws_env) if i["pk"]["S"].startswith("REPORT#") and "buy followers" in str(i)]
    # and the message is deleted for everyone, live
    deleted = [f for f in connections_api.frames_for("c1") if f.get("k") == "deleted" or f.get("kind") == "deleted"]
    assert deleted and resolved["changeSeq"] == seq + 1
    assert [e["type"] for e in topic.events() if e["type"] == "message.deleted"] == ["message.deleted"]
    # and resolving again is refused, changing nothing
    again = call("POST", "/v1/reports/resolve", {"conversationId": cid, "seq": seq, "reporterId": "carol",
                                                 "resolution": "banned"})
    assert (again[0], again[1]["error"]["code"]) == (409, "report_resolved")
    assert call("GET", "/v1/bans")[1]["bans"] == []


def test_a_path_that_names_no_user_id_is_refused(aws_env: Any) -> None:
    assert call("DELETE", "/v1/bans/bad#id")[0] in (400, 404)  # no route takes it, or refused as no user id
    assert call("GET", "/v1/bans/" + "a" * 129)[1]["error"]["code"] == "invalid_request"
    assert not [i for i in all_items(aws_env) if "BAN" in i["sk"]["S"]]


def test_an_unknown_report_and_a_forged_cursor_are_refused(aws_env: Any) -> None:
    status, answer = call("POST", "/v1/reports/resolve", {"conversationId": "g_x", "seq": 1, "reporterId": "bob",
                                                          "resolution": "dismissed"})
    assert (status, answer["error"]["code"]) == (404, "report_not_found")
    status, answer = call("GET", "/v1/reports", query={"cursor": "eyJwayI6MX0"})
    assert (status, answer["error"]["code"]) == (400, "invalid_cursor")


def test_the_backend_deletes_a_message_for_everyone(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    seq = alice.send(cid, "oops", "x1")["s"]
    status, answer = call("DELETE", f"/v1/conversations/{cid}/messages/{seq}")
    assert (status, answer) == (200, {"conversationId": cid, "seq": seq, "changeSeq": seq + 1})
    history = bob.history(cid)
    shown = {m.get("seq", m.get("s")): m for m in history.get("messages", history.get("m", []))}
    assert shown[seq].get("deleted") is True
    assert any(f.get("k", f.get("kind")) == "deleted" and f.get("f", f.get("by")) == "#system"
               for f in connections_api.frames_for("b1"))
    # and an unknown message or conversation is 404, changing nothing
    assert call("DELETE", f"/v1/conversations/{cid}/messages/99")[0] == 404
    assert call("DELETE", "/v1/conversations/g_nothere/messages/1")[1]["error"]["code"] == "conversation_not_found"


def test_conversation_and_member_events_come_from_socket_and_server_actions_alike(aws_env: Any, topic: Topic) -> None:
    alice = Chat("alice", "a1").connect()
    alice.open_direct("bob")  # a member's action
    status, direct = call("POST", "/v1/conversations/direct", {"userIds": ["carol", "dave"]})  # the backend's
    assert status == 200
    created = alice.call("conversations", {"action": "createGroup", "members": ["bob"], "name": "g"})
    gid = created["conversation"]["conversationId"]
    alice.call("groups", {"action": "addMembers", "conversationId": gid, "userIds": ["carol"]})
    alice.call("groups", {"action": "removeMember", "conversationId": gid, "userId": "bob"})
    events = topic.events()
    assert [e["type"] for e in events] == ["conversation.created", "conversation.created", "conversation.created",
                                           "member.added", "member.removed"]
    assert events[1]["conversationId"] == direct["conversationId"]
    assert (events[3]["userIds"], events[4]["userId"], events[4]["reason"]) == (["carol"], "bob", "removed")
    assert all(e["version"] == 1 for e in events)
