"""send and history through the real handlers, with fan-out through a fake @connections API."""

from __future__ import annotations

from typing import Any

import pytest

from parley.stores.messages import DynamoMessageStore
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, connection_items


def setup_pair() -> tuple[Chat, Chat, Chat, str]:
    alice, alice_laptop, bob = Chat("alice", "a-phone").connect(), Chat("alice", "a-laptop").connect(), \
        Chat("bob", "b-phone").connect()
    return alice, alice_laptop, bob, alice.open_direct("bob")


def test_send_acks_with_the_next_seq_and_delivers_to_every_other_connection(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _, bob, cid = setup_pair()
    ack = alice.send(cid, "hello bob", "cm-1")
    assert ack == {"t": "ack", "r": "cm-1", "s": 1, "at": ack["at"]} and ack["at"] > 0
    assert bob.send(cid, "hi", "cm-2")["s"] == 2
    [to_bob] = connections_api.frames_for("b-phone")
    assert to_bob == {"t": "msg", "c": cid, "s": 1, "f": "alice", "at": ack["at"], "b": {"text": "hello bob"}}
    # the sender's other device gets both messages, the sending connection only its acks
    assert [f["s"] for f in connections_api.frames_for("a-laptop")] == [1, 2]
    assert [f["s"] for f in connections_api.frames_for("a-phone")] == [2]


def test_a_resend_returns_the_original_ack_stores_nothing_and_delivers_the_same_message_again(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _, _, cid = setup_pair()
    ack = alice.send(cid, "once", "cm-1")
    before, frames = all_items(aws_env), list(connections_api.posts)
    # when the ack was lost and the app resends: the same ack, nothing new stored...
    assert alice.send(cid, "once", "cm-1") == ack
    assert all_items(aws_env) == before
    # ...and the same message (same seq, so the same messageId) delivered again, in case the first attempt died
    # before delivering it: apps drop a seq they already have
    def by_connection(posts: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return sorted(posts, key=lambda p: p[0])

    assert by_connection(connections_api.posts[len(frames):]) == by_connection(frames)


def test_the_sender_is_the_verified_user_never_the_body(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _, _, cid = setup_pair()
    forged = alice.call("send", {"action": "send", "conversationId": cid, "clientMsgId": "x",
                                 "body": {"text": "hi"}, "senderId": "bob", "sentAt": 1})
    assert forged["code"] == "invalid_frame"
    alice.send(cid, "hi", "y")
    assert connections_api.frames_for("b-phone")[0]["f"] == "alice"


def test_a_non_member_can_neither_send_nor_read(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _, _, cid = setup_pair()
    alice.send(cid, "private", "cm-1")
    before = all_items(aws_env)
    mallory = Chat("mallory", "m1").connect()
    after_connect = all_items(aws_env)
    sent = mallory.send(cid, "spam", "cm-9")
    assert sent == {"type": "error", "code": "not_member", "message": sent["message"], "clientMsgId": "cm-9"}
    assert mallory.history(cid)["code"] == "not_member"
    assert mallory.send("d_does-not-exist", "x", "cm-10")["code"] == "conversation_not_found"
    assert all_items(aws_env) == after_connect
    added = {(i["pk"]["S"], i.get("cid", {}).get("S")) for i in after_connect} - {
        (i["pk"]["S"], i.get("cid", {}).get("S")) for i in before}
    assert added == {("USER#mallory", "m1"), ("USER#mallory", None)}  # the connection and the profile
    assert connections_api.frames_for("m1") == []


def test_a_gone_connection_is_pruned_and_the_others_still_receive(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _, _, cid = setup_pair()
    Chat("bob", "b-stale").connect()
    connections_api.stale.add("b-stale")
    assert alice.send(cid, "still there?", "cm-1")["s"] == 1
    assert [f["s"] for f in connections_api.frames_for("b-phone")] == [1]
    assert [f["s"] for f in connections_api.frames_for("a-laptop")] == [1]
    assert {i["cid"]["S"] for i in connection_items(aws_env) if i["pk"]["S"] == "USER#bob"} == {"b-phone"}


def test_text_over_the_limit_is_refused_and_stores_nothing(aws_env: Any) -> None:
    alice, _, _, cid = setup_pair()
    before = all_items(aws_env)
    assert alice.send(cid, "x" * 65, "cm-1")["code"] == "text_too_long"
    assert all_items(aws_env) == before


def test_history_pages_backwards_and_catches_up_forwards(aws_env: Any) -> None:
    alice, _, bob, cid = setup_pair()
    for i in range(1, 8):
        alice.send(cid, f"m{i}", f"cm-{i}")
    latest = bob.history(cid, limit=3, requestId="h1")
    assert latest["type"] == "history" and latest["ref"] == "h1"
    assert [m["s"] for m in latest["messages"]] == [5, 6, 7] and latest["hasMore"] is True
    older = bob.history(cid, before=5, limit=3)
    assert [m["s"] for m in older["messages"]] == [2, 3, 4] and older["hasMore"] is True
    oldest = bob.history(cid, before=2, limit=3)
    assert [m["s"] for m in oldest["messages"]] == [1] and oldest["hasMore"] is False
    caught_up = bob.history(cid, after=3, limit=2)
    assert [m["s"] for m in caught_up["messages"]] == [4, 5] and caught_up["hasMore"] is True
    rest = bob.history(cid, after=5)
    assert [m["s"] for m in rest["messages"]] == [6, 7] and rest["hasMore"] is False
    assert rest["messages"][0]["b"] == {"text": "m6"} and rest["messages"][0]["f"] == "alice"
    assert bob.history(cid, after=7)["messages"] == []


def test_unknown_actions_get_a_stable_code(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    assert alice.call("default", {"action": "dance"})["code"] == "unknown_action"
    assert alice.call("default", "{not json")["code"] == "invalid_json"
    assert alice.call("default", {"no": "action"})["code"] == "invalid_frame"


def test_in_a_busy_group_a_send_is_acked_after_the_messages_that_land_between_its_read_and_its_write(
        aws_env: Any, connections_api: FakeConnectionsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a group so busy that, each time alice's send reads it, one of bob's messages is stored before her write
    alice, bob = Chat("alice", "a-phone").connect(), Chat("bob", "b-phone").connect()
    created = alice.call("conversations", {"action": "createGroup", "name": "busy", "members": ["bob", "carol"]})
    cid = created["conversation"]["conversationId"]
    read_head = DynamoMessageStore.head
    rivals = iter(range(6))  # more than the five attempts a send used to make before answering conflict
    racing = False

    def head(store: DynamoMessageStore, conversation_id: str, window: int) -> Any:
        nonlocal racing
        found = read_head(store, conversation_id, window)
        n = None if racing else next(rivals, None)
        if n is not None:  # bob's send runs while alice's waits between its read and its write
            racing = True
            assert bob.send(cid, f"rival {n}", f"b-{n}")["type"] == "ack"
            racing = False
        return found

    monkeypatch.setattr(DynamoMessageStore, "head", head)
    # when alice sends
    ack = alice.send(cid, "made it", "a-1")
    # then she is acked (no conflict), right after the one message that won the race
    assert ack["type"] == "ack" and ack["seq"] == 2
    history = bob.history(cid)["messages"]
    assert [(m["seq"], m["clientMsgId"]) for m in history] == [(1, "b-0"), (2, "a-1")]
    # and what alice's message carries forward of bob's read position is right: his own message is read
    counts = bob.call("unread", {"action": "unreadCounts"})
    assert {c["conversationId"]: c["unread"] for c in counts["conversations"]} == {cid: 1}
