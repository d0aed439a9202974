"""Replies and mentions through the real handlers on moto: the live quote, quotes in history (after the original
is deleted too), mention counts in unreadCounts and listConversations and their pruning by read, and bad
replyTo / mentions refused with nothing stored."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley import table
from tests.integration.conftest import TABLE_NAME, Chat, FakeConnectionsApi, all_items, kind


def group_of(alice: Chat, *members: str) -> str:
    answer = alice.call("conversations", {"action": "createGroup", "members": list(members), "name": "g"})
    cid: str = answer["conversation"]["conversationId"]
    return cid


def send(chat: Chat, cid: str, text: str, cmid: str, **fields: Any) -> dict[str, Any]:
    return chat.call("send", {"action": "send", "conversationId": cid, "clientMsgId": cmid, "body": {"text": text},
                              **fields})


def counts(chat: Chat) -> dict[str, dict[str, Any]]:
    answer = chat.call("unread", {"action": "unreadCounts"})
    return {c["conversationId"]: c for c in answer["conversations"]}


def listed(chat: Chat) -> dict[str, dict[str, Any]]:
    answer = chat.call("conversations", {"action": "listConversations"})
    return {c["conversationId"]: c for c in answer["conversations"]}


def delete_for_everyone(ddb: Any, cid: str, seq: int) -> None:
    """The tombstone a delete leaves (part E's action, written by hand): the body removed, ``d`` set."""
    ddb.update_item(TableName=TABLE_NAME, Key={"pk": {"S": table.conversation_pk(cid)},
                                               "sk": {"S": table.message_sk(seq)}},
                    UpdateExpression=f"REMOVE {table.ATTR_BODY} SET {table.ATTR_DELETED_AT} = :at",
                    ExpressionAttributeValues={":at": {"N": "1764590000000"}})


def test_a_reply_arrives_with_its_quote_and_history_quotes_it_until_it_is_deleted(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1", "full").connect()
    cid = group_of(alice, "bob", "carol")
    original = send(bob, cid, "shall we meet at seven?", "b-1")["seq"]
    for i in range(3):
        send(bob, cid, f"filler {i}", f"b-f{i}")
    reply = send(alice, cid, "yes!", "a-1", replyTo=original)
    assert kind(reply) == "ack"
    [live] = [f for f in connections_api.frames_for("b1") if kind(f) == "message" and f["seq"] == reply["s"]]
    assert live["replyTo"] == original
    assert live["quote"] == {"seq": original, "senderId": "bob", "text": "shall we meet at seven?"}
    # given a page that holds the reply but not the original, and one that holds both
    apart = bob.history(cid, after=original)["messages"]
    together = bob.history(cid)["messages"]
    for page in (apart, together):
        [shown] = [m for m in page if m["seq"] == reply["s"]]
        assert shown["quote"]["text"] == "shall we meet at seven?"
    # when the original is deleted for everyone, the reply keeps no copy of its text
    delete_for_everyone(aws_env, cid, original)
    [shown] = [m for m in bob.history(cid, after=original)["messages"] if m["seq"] == reply["s"]]
    assert shown["quote"] == {"seq": original, "senderId": "bob", "deleted": True}
    stored = [i for i in all_items(aws_env) if i["sk"]["S"] == table.message_sk(reply["s"])]
    assert "seven" not in str(stored)


def test_mentions_are_counted_per_conversation_until_read(aws_env: Any) -> None:
    alice, bob, carol = Chat("alice", "a1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    cid = group_of(alice, "bob", "carol")
    other = alice.open_direct("bob")
    first = send(alice, cid, "@bob look", "a-1", mentions=["bob", "bob"])["s"]
    send(alice, cid, "and this @bob @carol", "a-2", mentions=["bob", "carol"])
    send(alice, other, "no mention", "a-3")
    assert counts(bob)[cid]["mentions"] == 2 and counts(bob)[other]["mentions"] == 0
    assert listed(bob)[cid]["mentions"] == 2 and listed(carol)[cid]["mentions"] == 1
    assert counts(alice) == {}  # her own mentions are not news to her
    # when bob reads past the first one, only the second is left; reading on clears it
    read = bob.call("unread", {"action": "read", "conversationId": cid, "seq": first})
    assert read["mentions"] == 1
    assert counts(bob)[cid]["mentions"] == 1
    bob.call("unread", {"action": "read", "conversationId": cid, "seq": first + 1})
    assert listed(bob)[cid]["mentions"] == 0
    membership = [i for i in all_items(aws_env) if i["pk"]["S"] == table.user_pk("bob")
                  and i["sk"]["S"] == table.member_sk(cid)]
    assert "ms" not in membership[0]  # the read pruned the marks
    # when alice replies after bob's reply, the counts of others are untouched
    assert counts(carol)[cid]["mentions"] == 1


def test_a_resend_of_a_mention_counts_once(aws_env: Any) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = group_of(alice, "bob")
    first = send(alice, cid, "@bob", "a-1", mentions=["bob"])
    again = send(alice, cid, "@bob", "a-1", mentions=["bob"])
    assert first["s"] == again["s"]
    assert counts(bob)[cid]["mentions"] == 1


BAD_REPLY = st.integers(min_value=2, max_value=10**12)  # the conversation holds seq 1 only
BAD_MENTIONS = st.lists(st.sampled_from(["mallory", "eve", "bob", "alice"]), min_size=1, max_size=5).filter(
    lambda users: any(u not in ("alice", "bob") for u in users))


_GROUP: dict[str, str] = {}  # the group the examples of one test run send to (the table outlives an example)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply_to=st.none() | BAD_REPLY, mentions=st.none() | BAD_MENTIONS, blocked_reply=st.booleans())
def test_bad_reply_to_or_mentions_are_refused_and_change_nothing(aws_env: Any, configure: Any, reply_to: int | None,
                                                                 mentions: list[str] | None,
                                                                 blocked_reply: bool) -> None:
    alice = Chat("alice", "a1")
    if not all_items(aws_env):
        configure(PARLEY_RATE_LIMITS="")  # every example is a send: the send bucket would refuse them first
        alice.connect()
        Chat("carol", "c1").connect()
        cid = group_of(alice, "bob", "carol")
        send(Chat("carol", "c1"), cid, "carol's", "c-1")  # seq 1, by carol
        alice.call("blocks", {"action": "block", "userId": "carol"})
        _GROUP["cid"] = cid
    cid = _GROUP["cid"]
    if blocked_reply:
        reply_to = 1  # carol's message: alice blocked her, so she cannot see it to reply
    if reply_to is None and mentions is None:
        mentions = ["mallory"]
    fields = {k: v for k, v in (("replyTo", reply_to), ("mentions", mentions)) if v is not None}
    before = all_items(aws_env)
    answer = send(alice, cid, "hi", "a-bad", **fields)
    assert answer["type"] == "error" and answer["code"] in {"invalid_reply", "invalid_mentions"}, answer
    assert answer["clientMsgId"] == "a-bad"
    assert all_items(aws_env) == before
