"""Frame formats through the real handlers: each connection chooses compact (the default) or full at connect
time, its record keeps the choice, and every ack, message, history page and conversation list it gets is
written in it. Message ids are derived from the conversation and seq, never stored."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import TABLE_NAME, Chat, FakeConnectionsApi, all_items, connection_records


def test_each_connection_gets_the_message_in_the_format_it_chose(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given alice and bob, each with a compact and a full connection
    alice, _ = Chat("alice", "a-phone").connect(), Chat("alice", "a-laptop", "full").connect()
    Chat("bob", "b-phone").connect()
    bob_tablet = Chat("bob", "b-tablet", "full").connect()
    cid = alice.open_direct("bob")
    # when alice sends from her compact phone
    ack = alice.send(cid, "hello bob", "cm-1")
    # then her phone gets the compact ack, and each other connection the message in its own format
    assert ack == {"t": "ack", "r": "cm-1", "s": 1, "at": ack["at"]}
    compact = {"t": "msg", "c": cid, "s": 1, "f": "alice", "at": ack["at"], "b": {"text": "hello bob"}}
    full = {"type": "message", "conversationId": cid, "seq": 1, "messageId": f"{cid}.1", "senderId": "alice",
            "sentAt": ack["at"], "clientMsgId": "cm-1", "body": {"text": "hello bob"}}
    assert connections_api.frames_for("b-phone") == [compact]
    assert connections_api.frames_for("b-tablet") == [full]
    assert connections_api.frames_for("a-laptop") == [full]
    # and a full connection's send is acked with every field
    back = bob_tablet.send(cid, "hi", "cm-2")
    assert back == {"type": "ack", "clientMsgId": "cm-2", "conversationId": cid, "seq": 2, "messageId": f"{cid}.2",
                    "sentAt": back["sentAt"]}


def test_a_connection_is_stored_with_the_format_it_chose(aws_env: Any) -> None:
    Chat("alice", "a1").connect()
    Chat("alice", "a2", "full").connect()
    assert {(r.connection_id, r.frame_format) for r in connection_records(aws_env)} == {("a1", "compact"),
                                                                                       ("a2", "full")}


def test_a_connection_from_before_formats_gets_full_frames(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given a connection whose authorizer context names no format (its token was checked before formats existed)
    bob = Chat("bob", "b1", frame_format=None).connect()
    assert [r.frame_format for r in connection_records(aws_env)] == ["full"]
    alice = Chat("alice", "a1").connect()
    cid = alice.open_direct("bob")
    # when alice writes, and bob writes back: then bob gets every field, as before
    alice.send(cid, "hi", "c1")
    assert connections_api.frames_for("b1")[0]["messageId"] == f"{cid}.1"
    assert bob.send(cid, "hello", "c2")["messageId"] == f"{cid}.2"


def test_history_and_the_conversation_list_use_the_callers_format(aws_env: Any) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    alice.send(cid, "one", "cm-1")
    bob.send(cid, "two", "cm-2")
    # a compact history carries the clientMsgId only on the caller's own messages
    messages = bob.history(cid)["messages"]
    assert [(m["t"], m["s"], m["f"], m.get("r")) for m in messages] == [("msg", 1, "alice", None),
                                                                       ("msg", 2, "bob", "cm-2")]
    # a full one carries every field of every message, as the message frame does
    full = Chat("bob", "b2", "full").history(cid)["messages"]
    assert [(m["type"], m["messageId"], m["clientMsgId"]) for m in full] == [("message", f"{cid}.1", "cm-1"),
                                                                             ("message", f"{cid}.2", "cm-2")]
    # the conversation list's lastMessage is a message in the caller's format
    [listed] = alice.call("conversations", {"action": "listConversations"})["conversations"]
    assert listed["lastMessage"] == {"t": "msg", "c": cid, "s": 2, "f": "bob", "at": messages[1]["at"],
                                     "b": {"text": "two"}}
    [listed_full] = Chat("alice", "a3", "full").call("conversations",
                                                     {"action": "listConversations"})["conversations"]
    assert listed_full["lastMessage"]["messageId"] == f"{cid}.2"


def test_message_ids_are_derived_and_not_stored(aws_env: Any) -> None:
    alice = Chat("alice", "a1", "full").connect()
    cid = alice.open_direct("bob")
    assert alice.send(cid, "hi", "c1")["messageId"] == f"{cid}.1"
    [item] = [i for i in all_items(aws_env) if i["sk"]["S"].startswith("MSG#")]
    assert "i" not in item


def test_a_message_stored_with_a_random_id_is_read_with_the_derived_one(aws_env: Any) -> None:
    # given a message item written before ids were derived: it carries a random id, `i`
    alice = Chat("alice", "a1", "full").connect()
    cid = alice.open_direct("bob")
    alice.send(cid, "old", "c1")
    [item] = [i for i in all_items(aws_env) if i["sk"]["S"].startswith("MSG#")]
    aws_env.put_item(TableName=TABLE_NAME, Item={**item, "i": {"S": "q3Z8randomid0123"}})
    # when it is read: then its id is the derived one
    assert [m["messageId"] for m in alice.history(cid)["messages"]] == [f"{cid}.1"]


def test_new_conversation_ids_are_short(aws_env: Any) -> None:
    alice = Chat("alice", "a1").connect()
    direct = alice.open_direct("bob")
    group = alice.call("conversations", {"action": "createGroup", "members": ["bob"]})["conversation"]
    assert (direct[:2], len(direct)) == ("d_", 18)
    assert (group["conversationId"][:2], len(group["conversationId"])) == ("g_", 18)
