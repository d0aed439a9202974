"""A block holds in both directions and on every channel."""

from __future__ import annotations

import pytest

from parley.errors import BlockedError
from parley.models import MessageBody
from tests.unit.conftest import World


def send(world: World, sender: str, cid: str, text: str = "x") -> int:
    return world.messaging.send(sender, cid, f"{sender}-{world.clock()}", MessageBody(text=text)).message.seq


def group(world: World, *members: str) -> str:
    return world.conversations.create_group(members[0], list(members[1:]), "g").conversation_id


def test_nobody_is_put_in_a_group_with_someone_who_blocked_them(world: World) -> None:
    world.blocks.block("alice", "mallory", 0)
    before = dict(world.conversation_store.conversations)
    with pytest.raises(BlockedError) as refused:
        world.conversations.create_group("mallory", ["alice", "carol"], "you will read this")
    assert "alice" not in refused.value.message  # who blocked whom is not revealed
    assert world.conversation_store.conversations == before
    # the one who blocked can still put the other in a group
    assert world.conversations.create_group("alice", ["mallory", "carol"], None).members


def test_in_a_group_the_blocker_sees_nothing_of_the_blocked_users_messages(world: World) -> None:
    cid = group(world, "carol", "alice", "mallory")
    send(world, "carol", cid, "hello")
    world.blocks.block("alice", "mallory", 0)
    for _ in range(3):
        send(world, "mallory", cid, "harassment")
    # not in history
    page = world.messaging.history("alice", cid, before=None, after=None, limit=50)
    assert [m.sender_id for m in page.messages] == ["carol"]
    # not as last message, not in unread counts (the badge)
    [summary] = world.inbox.summaries("alice")
    assert summary.last_message is not None and summary.last_message.sender_id == "carol"
    assert summary.unread == 1 and world.inbox.unread_counts("alice")[1] == 1
    # carol still sees everything
    assert len(world.messaging.history("carol", cid, before=None, after=None, limit=50).messages) == 4


def test_history_reads_past_hidden_messages_and_says_where_to_go_on(world: World) -> None:
    cid = group(world, "carol", "alice", "mallory")
    world.blocks.block("alice", "mallory", 0)
    send(world, "carol", cid, "first")
    for _ in range(30):
        send(world, "mallory", cid)
    send(world, "carol", cid, "second")
    send(world, "carol", cid, "third")
    # catching up from the start, two at a time, only carol's messages come, in order, and nextSeq moves on
    page = world.messaging.history("alice", cid, before=None, after=0, limit=2)
    assert [m.body.text for m in page.messages] == ["first", "second"] and page.has_more
    rest = world.messaging.history("alice", cid, before=None, after=page.next_seq, limit=2)
    assert [m.body.text for m in rest.messages] == ["third"] and not rest.has_more
    # paging back from the newest works the same way
    newest = world.messaging.history("alice", cid, before=None, after=None, limit=1)
    assert [m.body.text for m in newest.messages] == ["third"] and newest.next_seq == newest.messages[0].seq
    older = world.messaging.history("alice", cid, before=newest.next_seq, after=None, limit=1)
    assert [m.body.text for m in older.messages] == ["second"]


def test_in_a_direct_conversation_what_was_said_before_the_block_stays_visible(world: World) -> None:
    cid = world.conversations.open_direct("alice", "mallory").conversation_id
    send(world, "mallory", cid, "evidence")
    world.blocks.block("alice", "mallory", 0)
    assert [m.body.text for m in world.messaging.history("alice", cid, before=None, after=None, limit=5).messages] \
        == ["evidence"]
    with pytest.raises(BlockedError):
        send(world, "mallory", cid)


def test_typing_stops_in_both_directions(world: World) -> None:
    cid = group(world, "carol", "alice", "mallory")
    for user in ("carol", "alice", "mallory"):
        world.connect(user, f"{user}-1")
    world.blocks.block("alice", "mallory", 0)
    world.typing.typing("mallory", cid)
    world.typing.typing("alice", cid)
    assert world.frames("alice-1", "typing") == [] and world.frames("mallory-1", "typing") == []
    assert len(world.frames("carol-1", "typing")) == 2


def test_read_receipts_stop_in_both_directions(world: World) -> None:
    cid = group(world, "carol", "alice", "mallory")
    send(world, "carol", cid)
    for user in ("carol", "alice", "mallory"):
        world.connect(user, f"{user}-1")
    world.blocks.block("alice", "mallory", 0)
    world.inbox.read("alice", "alice-1", cid, 1)
    world.inbox.read("mallory", "mallory-1", cid, 1)
    assert world.frames("mallory-1", "receipt") == [] and world.frames("alice-1", "receipt") == []
    assert sorted(f["userId"] for f in world.frames("carol-1", "receipt")) == ["alice", "mallory"]


def test_presence_stops_in_both_directions(world: World) -> None:
    group(world, "carol", "alice", "mallory")
    world.blocks.block("alice", "mallory", 0)
    world.connect("carol", "carol-1")
    world.connect("alice", "alice-1")
    world.connect("mallory", "mallory-1")
    # pushed events: neither hears of the other coming online
    assert all(u["userId"] != "mallory" for f in world.frames("alice-1", "presence") for u in f["users"])
    assert all(u["userId"] != "alice" for f in world.frames("mallory-1", "presence") for u in f["users"])
    # queries: neither can ask about the other
    assert [p.user_id for p in world.presence.query("mallory", ["alice", "carol"])] == ["carol"]
    assert [p.user_id for p in world.presence.query("alice", ["mallory", "carol"])] == ["carol"]
