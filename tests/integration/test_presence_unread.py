"""Presence, invisible mode, unread counters, receipts, typing and preferences through the real handlers."""

from __future__ import annotations

import json
from typing import Any

from parley.routes import CONNECT, DISCONNECT, ROUTES
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items
from tests.support.events import disconnect_event
from tests.support.handlers import invoke


def statuses(api: FakeConnectionsApi, connection_id: str, user: str) -> list[str]:
    return [u["status"] for f in api.frames_for(connection_id) if f.get("type") == "presence"
            for u in f["users"] if u["userId"] == user]


def test_presence_across_two_devices(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    bob = Chat("bob", "b1").connect()
    bob.open_direct("alice")
    Chat("alice", "a-phone").connect()
    Chat("alice", "a-laptop").connect()
    invoke("disconnect", disconnect_event("alice", "a-phone"))
    online = bob.call("presence", {"action": "presence", "userIds": ["alice", "stranger"]})
    assert online == {"type": "presence", "users": [{"userId": "alice", "status": "online"}]}
    invoke("disconnect", disconnect_event("alice", "a-laptop"))
    offline = bob.call("presence", {"action": "presence", "userIds": ["alice"]})["users"][0]
    assert offline["status"] == "offline" and offline["lastSeen"] > 0
    assert statuses(connections_api, "b1", "alice") == ["online", "offline"]


def test_unread_counts_read_receipts_and_the_conversation_list(aws_env: Any,
                                                               connections_api: FakeConnectionsApi) -> None:
    alice, alice_laptop, bob = Chat("alice", "a1").connect(), Chat("alice", "a2").connect(), Chat("bob", "b1").connect()
    direct = alice.open_direct("bob")
    group = alice.call("conversations", {"action": "createGroup", "members": ["bob"]})["conversation"]["conversationId"]
    for i in range(3):
        bob.send(direct, f"d{i}", f"d{i}")
    bob.send(group, "g0", "g0")
    counts = alice.call("unread", {"action": "unreadCounts"})
    assert (counts["total"], counts["badge"]) == (4, 2)  # messages; conversations
    assert {c["conversationId"]: c["unread"] for c in counts["conversations"]} == {direct: 3, group: 1}
    answer = alice.call("unread", {"action": "read", "conversationId": direct, "seq": 2, "requestId": "r"})
    assert answer == {"type": "unread", "conversationId": direct, "unread": 1, "lastReadSeq": 2, "ref": "r"}
    assert {"type": "receipt", "conversationId": direct, "userId": "alice", "seq": 2} in \
        connections_api.frames_for("b1")
    assert {"type": "unread", "conversationId": direct, "unread": 1, "lastReadSeq": 2} in \
        connections_api.frames_for("a2")
    listing = alice.call("conversations", {"action": "listConversations"})["conversations"]
    assert [c["conversationId"] for c in listing] == [group, direct]  # newest activity first
    assert listing[1]["unread"] == 1 and listing[1]["lastMessage"]["b"] == {"text": "d2"}
    before = all_items(aws_env)
    assert alice.call("unread", {"action": "read", "conversationId": direct, "seq": 99})["code"] == "invalid_seq"
    assert Chat("eve", "e1").call("unread", {"action": "read", "conversationId": direct, "seq": 1})["code"] \
        == "not_member"
    assert all_items(aws_env) == before
    assert alice_laptop.user == "alice"


def test_typing_is_relayed_once_per_interval(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, _ = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    assert invoke("typing", alice_event(alice, {"action": "typing", "conversationId": cid})) == {"statusCode": 200}
    invoke("typing", alice_event(alice, {"action": "typing", "conversationId": cid}))
    typing_frames = [f for f in connections_api.frames_for("b1") if f.get("type") == "typing"]
    assert typing_frames == [{"type": "typing", "conversationId": cid, "userId": "alice"}]
    assert Chat("eve", "e1").call("typing", {"action": "typing", "conversationId": cid})["code"] == "not_member"


def alice_event(chat: Chat, body: dict[str, Any]) -> dict[str, Any]:
    from tests.support.events import message_event
    return message_event(chat.user, chat.connection_id, body)


def test_preferences_persist_and_validate(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    assert alice.call("preferences", {"action": "getPreferences"}) == {
        "type": "preferences", "visibility": "visible", "hideReadReceipts": False, "notify": "push"}
    updated = alice.call("preferences", {"action": "setPreferences", "notify": "badge", "visibility": "invisible"})
    assert updated["notify"] == "badge" and updated["visibility"] == "invisible"
    assert Chat("alice", "a2").call("preferences", {"action": "getPreferences"})["visibility"] == "invisible"
    muted = alice.call("preferences", {"action": "setConversationPreferences", "conversationId": cid,
                                       "notify": "passive", "mutedUntil": 4_000_000_000_000})
    assert muted == {"type": "conversationPreferences", "conversationId": cid, "notify": "passive",
                     "mutedUntil": 4_000_000_000_000}
    cleared = alice.call("preferences", {"action": "setConversationPreferences", "conversationId": cid,
                                         "mutedUntil": None})
    assert cleared == {"type": "conversationPreferences", "conversationId": cid, "notify": "passive"}
    before = all_items(aws_env)
    assert alice.call("preferences", {"action": "setPreferences", "notify": "loud"})["code"] == "invalid_frame"
    assert Chat("eve", "e1").call("preferences", {"action": "setConversationPreferences", "conversationId": cid,
                                                  "notify": "push"})["code"] == "not_member"
    assert all_items(aws_env) == before


def test_no_route_leaks_an_invisible_users_online_state(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given alice is invisible and online on two devices, in a conversation with bob
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    alice.call("preferences", {"action": "setPreferences", "visibility": "invisible"})
    alice.connect()
    Chat("alice", "a2").connect()
    alice.send(cid, "psst", "c1")
    alice.call("typing", {"action": "typing", "conversationId": cid})
    # when bob connects and calls every route
    bob = Chat("bob", "b1").connect()
    frames_by_route = {
        "send": {"action": "send", "conversationId": cid, "clientMsgId": "b1", "body": {"text": "there?"}},
        "history": {"action": "history", "conversationId": cid}, "openDirect": {"action": "openDirect",
                                                                                "userId": "alice"},
        "createGroup": {"action": "createGroup", "members": ["alice"]}, "listConversations":
            {"action": "listConversations"}, "presence": {"action": "presence", "userIds": ["alice"]},
        "typing": {"action": "typing", "conversationId": cid}, "read": {"action": "read", "conversationId": cid,
                                                                          "seq": 1},
        "unreadCounts": {"action": "unreadCounts"}, "getPreferences": {"action": "getPreferences"},
        "setPreferences": {"action": "setPreferences", "notify": "push"}, "setConversationPreferences":
            {"action": "setConversationPreferences", "conversationId": cid, "notify": "badge"},
        "$default": {"action": "whatever"},
        "report": {"action": "report", "conversationId": cid, "seq": 1, "reason": "test"},
        "block": {"action": "block", "userId": "carol"}, "unblock": {"action": "unblock", "userId": "carol"},
        "listBlocks": {"action": "listBlocks"},
        "registerDevice": {"action": "registerDevice", "platform": "apns", "token": "a" * 64},
        "unregisterDevice": {"action": "unregisterDevice", "token": "a" * 64},
        "requestUpload": {"action": "requestUpload", "conversationId": cid, "contentType": "image/png", "size": 10},
        "attachmentUrls": {"action": "attachmentUrls", "conversationId": cid, "keys": [f"u/{cid}/x/y"]},
        "edit": {"action": "edit", "conversationId": cid, "seq": 2, "text": "there??"},
        "react": {"action": "react", "conversationId": cid, "seq": 1, "emoji": "👀"},
        "delete": {"action": "delete", "conversationId": cid, "seq": 2},
        "addMembers": {"action": "addMembers", "conversationId": cid, "userIds": ["carol"]},
        "removeMember": {"action": "removeMember", "conversationId": cid, "userId": "alice"},
        "leave": {"action": "leave", "conversationId": cid},
        "renameGroup": {"action": "renameGroup", "conversationId": cid, "name": "x"},
        "setRole": {"action": "setRole", "conversationId": cid, "userId": "alice", "role": "admin"},
        "setGroupSettings": {"action": "setGroupSettings", "conversationId": cid, "historyVisibility": "all"},
        "publishKeys": {"action": "publishKeys", "deviceId": "dev-bob-0001", "identityKey": "A" * 43 + "=",
                        "prekey": {"id": 1, "key": "A" * 43 + "=", "sig": "A" * 86 + "=="}},
        "getKeys": {"action": "getKeys", "userIds": ["alice"]},
        "removeDevice": {"action": "removeDevice", "deviceId": "dev-bob-0001"},
    }
    assert set(frames_by_route) | {CONNECT, DISCONNECT} == set(ROUTES), "a new route needs a case here"
    answers = [bob.call(ROUTES[route], body) for route, body in frames_by_route.items()]
    invoke("disconnect", disconnect_event("alice", "a1"))
    # then nothing bob received or was answered says alice is online, or that she is typing
    seen = answers + connections_api.frames_for("b1")
    text = json.dumps(seen)
    assert '"status": "online"' not in text
    assert not [f for f in seen if f.get("type") == "typing"]
    assert [u for f in seen if f.get("type") == "presence" for u in f["users"]] == [
        {"userId": "alice", "status": "offline"}]
    history = next(f for f in answers if f.get("type") == "history")
    assert [m["b"]["text"] for m in history["messages"]] == ["psst", "there?"]  # she can still talk
    assert {"psst", "there?"} == {f["b"]["text"] for f in connections_api.frames_for("a2") if f.get("t") == "msg"}
