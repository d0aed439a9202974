"""Your own messages are never unread for you: sending counts as having read up to your message."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.models import MessageBody
from parley.read_state import RECENT_SENDERS
from tests.unit.conftest import Clock, World


def send(world: World, sender: str, cid: str) -> int:
    return world.messaging.send(sender, cid, f"{sender}-{world.clock()}", MessageBody(text="x")).message.seq


def unread_of(world: World, user: str) -> dict[str, int]:
    return {s.conversation.conversation_id: s.unread for s in world.inbox.summaries(user)}


def test_after_sending_two_messages_the_sender_has_nothing_unread(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "alice", cid)
    send(world, "alice", cid)
    assert unread_of(world, "alice")[cid] == 0
    assert unread_of(world, "bob")[cid] == 2
    # and bob's one reply is alice's one unread message (the badge the issue saw as 3)
    send(world, "bob", cid)
    assert unread_of(world, "alice")[cid] == 1 and world.inbox.unread_counts("alice")[1] == 1
    # replying counts as having read: bob has nothing unread either
    assert unread_of(world, "bob")[cid] == 0


def test_the_read_position_is_the_own_newest_message_when_later_than_the_last_read(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid)
    send(world, "bob", cid)
    world.inbox.read("alice", "a1", cid, 1)
    mine = send(world, "alice", cid)
    [summary] = [s for s in world.inbox.summaries("alice") if s.conversation.conversation_id == cid]
    assert summary.read_seq == mine and summary.membership.last_read_seq == 1 and summary.unread == 0


def test_a_sender_pushed_out_of_the_recent_senders_keeps_their_read_position(world: World) -> None:
    members = [f"u{i}" for i in range(RECENT_SENDERS + 1)]
    cid = world.conversations.create_group("u0", members[1:], None).conversation_id
    first = send(world, "u0", cid)
    for user in members[1:]:  # more distinct senders than the messages remember
        send(world, user, cid)
    assert "u0" not in world.message_store.messages[cid][max(world.message_store.messages[cid])].recent_senders
    # u0's own message was written to their membership before it was forgotten: still not unread
    assert world.conversation_store.membership("u0", cid).last_read_seq == first
    assert unread_of(world, "u0")[cid] == len(members) - 1


@settings(max_examples=60, deadline=None)
@given(actions=st.lists(st.tuples(st.sampled_from(["send", "read"]), st.integers(0, RECENT_SENDERS + 1)),
                        min_size=1, max_size=40))
def test_unread_is_always_the_messages_of_others_after_ones_last_read_or_own_message(
        actions: list[tuple[str, int]]) -> None:
    # a model: what each member has read, by hand, against what the inbox derives
    world = World(Clock())
    members = [f"u{i}" for i in range(RECENT_SENDERS + 2)]  # more than it remembers
    cid = world.conversations.create_group(members[0], members[1:], None).conversation_id
    senders: list[str] = []
    position = dict.fromkeys(members, 0)
    for action, who in actions:
        user = members[who]
        if action == "send":
            assert send(world, user, cid) == len(senders) + 1
            senders.append(user)
            position[user] = len(senders)
        elif senders:
            world.inbox.read(user, "c", cid, len(senders))
            position[user] = max(position[user], len(senders))
    for user in members:
        expected = sum(1 for seq, sender in enumerate(senders, 1) if seq > position[user] and sender != user)
        assert unread_of(world, user)[cid] == expected, user
