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


def test_a_system_message_reaches_members_live_and_counts_unread(api: Any, connections_api: Any) -> None:
    # given alice and bob's conversation, with bob connected and alice offline
    from tests.integration.conftest import Chat, kind

    Chat("bob", "conn-bob").connect()
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    cid = created["conversationId"]
    # when the app posts a message as its bot
    status, posted = call("POST", f"/v1/conversations/{cid}/messages",
                          {"clientMsgId": "order-1", "text": "Your order has shipped", "bot": "shop"})
    # then it is stored at seq 1 with the bot as its sender, and bob's socket gets it
    assert status == 200
    assert (posted["seq"], posted["senderId"], posted["duplicate"]) == (1, "#bot:shop", False)
    frames = [f for f in connections_api.frames_for("conn-bob") if kind(f) == "msg"]
    assert [(f["f"], f["b"]["text"]) for f in frames] == [("#bot:shop", "Your order has shipped")]
    # and it is unread for both members (nobody sent it)
    _, alices = call("GET", "/v1/users/alice/conversations")
    assert [(c["conversationId"], c["unread"], c["lastMessage"]["senderId"]) for c in alices["conversations"]] == [
        (cid, 1, "#bot:shop")]


def test_a_resent_system_message_is_recognised_not_stored_twice(api: Any) -> None:
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    cid = created["conversationId"]
    body = {"clientMsgId": "welcome", "text": "Welcome!"}
    _, first = call("POST", f"/v1/conversations/{cid}/messages", body)
    _, again = call("POST", f"/v1/conversations/{cid}/messages", body)
    assert (first["senderId"], first["seq"]) == ("#system", 1)
    assert (again["seq"], again["duplicate"]) == (1, True)
    _, metadata = call("GET", f"/v1/conversations/{cid}")
    assert metadata["lastSeq"] == 1


@pytest.mark.parametrize(("body", "code"), [
    ({"clientMsgId": "x", "text": "t" * 65}, "text_too_long"),
    ({"clientMsgId": "x", "text": "hi", "bot": "no spaces"}, "invalid_request"),
    ({"clientMsgId": "x", "text": ""}, "invalid_request"),
])
def test_a_refused_system_message_stores_nothing(api: Any, body: Any, code: str) -> None:
    _, created = call("POST", "/v1/conversations/direct", {"userIds": ["alice", "bob"]})
    status, answer = call("POST", f"/v1/conversations/{created['conversationId']}/messages", body)
    assert (status, answer["error"]["code"]) == (400, code)
    assert call("GET", f"/v1/conversations/{created['conversationId']}")[1]["lastSeq"] == 0


def test_a_system_message_to_no_conversation_is_404(api: Any) -> None:
    status, answer = call("POST", "/v1/conversations/g_none/messages", {"clientMsgId": "x", "text": "hi"})
    assert (status, answer["error"]["code"]) == (404, "conversation_not_found")


def test_a_group_is_created_for_given_users_with_its_owner(api: Any) -> None:
    status, group = call("POST", "/v1/conversations/groups",
                         {"createdBy": "alice", "members": ["bob", "carol"], "name": "Trip"})
    assert status == 200
    assert [(m["userId"], m["role"]) for m in group["members"]] == [
        ("alice", "owner"), ("bob", "member"), ("carol", "member")]
    assert group["name"] == "Trip"


def test_a_group_beyond_the_member_limit_is_refused(api: Any) -> None:
    # the limit is 5 in this tier
    status, answer = call("POST", "/v1/conversations/groups",
                          {"createdBy": "alice", "members": ["b", "c", "d", "e", "f"]})
    assert (status, answer["error"]["code"]) == (400, "invalid_members")


def test_the_system_adds_and_removes_members_and_passes_ownership(api: Any) -> None:
    _, group = call("POST", "/v1/conversations/groups", {"createdBy": "alice", "members": ["bob"]})
    cid = group["conversationId"]
    # when the system adds carol, makes bob an admin, then removes the owner
    _, added = call("POST", f"/v1/conversations/{cid}/members", {"userIds": ["carol"]})
    _, promoted = call("PUT", f"/v1/conversations/{cid}/members/bob/role", {"role": "admin"})
    _, removed = call("DELETE", f"/v1/conversations/{cid}/members/alice")
    # then each is a change entry of the stream, and ownership passed to the admin
    assert (added["seq"], promoted["seq"], removed["seq"]) == (1, 2, 3)
    assert [(m["userId"], m["role"]) for m in removed["conversation"]["members"]] == [
        ("bob", "owner"), ("carol", "member")]


def test_acting_as_a_member_follows_the_member_rules(api: Any) -> None:
    _, group = call("POST", "/v1/conversations/groups", {"createdBy": "alice", "members": ["bob"]})
    cid = group["conversationId"]
    # when bob, a plain member, tries to add dave
    status, answer = call("POST", f"/v1/conversations/{cid}/members", {"userIds": ["dave"], "actingAs": "bob"})
    # then he is refused as on the socket, and nothing changed
    assert (status, answer["error"]["code"]) == (403, "not_allowed")
    assert call("GET", f"/v1/conversations/{cid}")[1]["lastSeq"] == 0
    # while alice, the owner, may
    status, added = call("POST", f"/v1/conversations/{cid}/members", {"userIds": ["dave"], "actingAs": "alice"})
    assert status == 200 and "dave" in [m["userId"] for m in added["conversation"]["members"]]


def test_the_system_adds_nobody_with_a_block_in_the_group(api: Any) -> None:
    from tests.integration.conftest import Chat

    _, group = call("POST", "/v1/conversations/groups", {"createdBy": "alice", "members": ["bob"]})
    carol = Chat("carol", "conn-carol").connect()
    assert carol.call("blocks", {"action": "block", "userId": "bob"})["type"] != "error"
    status, answer = call("POST", f"/v1/conversations/{group['conversationId']}/members", {"userIds": ["carol"]})
    assert (status, answer["error"]["code"]) == (403, "blocked")


def test_a_blocked_pair_gets_no_direct_conversation(api: Any) -> None:
    from tests.integration.conftest import Chat

    alice = Chat("alice", "conn-alice").connect()
    alice.call("blocks", {"action": "block", "userId": "bob"})
    for pair in (["alice", "bob"], ["bob", "alice"]):
        status, answer = call("POST", "/v1/conversations/direct", {"userIds": pair})
        assert (status, answer["error"]["code"]) == (403, "blocked")
