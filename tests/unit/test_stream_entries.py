"""A conversation's stream holds messages and change entries at seqs of one sequence; only messages of others
are ever unread, history returns changes going forward, and what came before a later member joined stays
theirs only if the group keeps all of its history."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.models import Change, ChangeKind, FrameFormat, HistoryVisibility, Message, MessageBody
from parley.protocol.messages import entry_frame, message_frames
from parley.read_state import RECENT_SENDERS
from tests.unit.conftest import Clock, World


def send(world: World, sender: str, cid: str, text: str = "x") -> Message:
    return world.messaging.send(sender, cid, f"{sender}-{world.clock()}", MessageBody(text=text)).message


def change(world: World, who: str, cid: str, kind: ChangeKind = ChangeKind.REACTED, target: int | None = 1) -> Message:
    head = world.message_store.head(cid, 1)
    assert head.conversation is not None
    reaction = Change(kind=kind, target=target, emoji="👍", count=1)
    return world.messaging.record_change(who, head, reaction, head.conversation.members).message


def summary_of(world: World, user: str, cid: str):  # type: ignore[no-untyped-def]
    [found] = [s for s in world.inbox.summaries(user) if s.conversation.conversation_id == cid]
    return found


def test_a_change_takes_the_next_seq_and_is_never_unread(world: World) -> None:
    # given bob's two messages to alice
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid)
    send(world, "bob", cid)
    # when bob reacts to the first: a change entry at seq 3
    entry = change(world, "bob", cid)
    # then it holds the next seq, counts no message, and alice still has two unread, not three
    assert entry.seq == 3 and entry.is_change and entry.count == 2
    assert summary_of(world, "alice", cid).unread == 2
    # and alice's reaction neither counts as reading nor makes anything unread for bob
    change(world, "alice", cid)
    assert summary_of(world, "alice", cid).unread == 2
    assert summary_of(world, "bob", cid).unread == 0


def test_reading_up_to_a_change_entry_reads_every_message_before_it(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid)
    last = change(world, "bob", cid)
    send(world, "bob", cid)
    # alice reads up to the change (seq 2): one message remains unread, the one after it
    summary = world.inbox.read("alice", "a1", cid, last.seq)
    assert summary.unread == 1 and summary.read_seq == last.seq
    assert summary_of(world, "alice", cid).unread == 1


def test_the_last_message_of_a_conversation_is_a_message_not_the_change_after_it(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid, text="hello")
    change(world, "alice", cid)
    summary = summary_of(world, "alice", cid)
    assert summary.last_message is not None and summary.last_message.body == MessageBody(text="hello")
    assert summary.last_seq == 2  # read may still go up to the change


def test_history_forward_returns_changes_in_order_and_backward_leaves_message_changes_out(world: World) -> None:
    cid = world.conversations.create_group("alice", ["bob", "carol"], "trio").conversation_id
    send(world, "alice", cid)
    change(world, "bob", cid)  # a reaction to seq 1
    renamed = change(world, "alice", cid, ChangeKind.RENAMED, target=None)
    send(world, "carol", cid)
    forward = world.messaging.history("bob", cid, before=None, after=0, limit=10)
    assert [(m.seq, m.is_change) for m in forward.messages] == [(1, False), (2, True), (3, True), (4, False)]
    backward = world.messaging.history("bob", cid, before=None, after=None, limit=10)
    assert [m.seq for m in backward.messages] == [1, renamed.seq, 4]  # the reaction is on message 1 already


def test_a_member_added_later_sees_nothing_before_they_joined_unless_the_group_keeps_all(world: World) -> None:
    group = world.conversations.create_group("alice", ["bob"], "pair")
    cid = group.conversation_id
    send(world, "alice", cid)
    send(world, "bob", cid)
    # dave joins at seq 3 under the default ("joined")
    joined = group.model_copy(update={"members": (*group.members, "dave"), "visible_from": {"dave": 3}})
    world.conversation_store.conversations[cid] = joined
    send(world, "alice", cid)
    assert [m.seq for m in world.messaging.history("dave", cid, before=None, after=None, limit=10).messages] == [3]
    assert [m.seq for m in world.messaging.history("dave", cid, before=None, after=0, limit=10).messages] == [3]
    # with "all", the whole history is his
    everything = joined.model_copy(update={"history_visibility": HistoryVisibility.ALL, "visible_from": {}})
    world.conversation_store.conversations[cid] = everything
    assert [m.seq for m in world.messaging.history("dave", cid, before=None, after=0, limit=10).messages] == [1, 2, 3]


def test_change_frames_in_both_formats() -> None:
    entry = Message(conversation_id="g_1", seq=7, sender_id="bob", sent_at=5, client_msg_id="~x", ordinal=4,
                    change=Change(kind=ChangeKind.EDITED, target=6, text="new"))
    frames = {f: json.loads(b) for f, b in message_frames(entry).items()}
    assert frames[FrameFormat.FULL] == {"type": "change", "conversationId": "g_1", "seq": 7, "kind": "edited",
                                        "by": "bob", "at": 5, "target": 6, "text": "new", "editedAt": 5}
    assert frames[FrameFormat.COMPACT] == {"t": "chg", "c": "g_1", "s": 7, "k": "edited", "f": "bob", "at": 5,
                                           "target": 6, "text": "new", "editedAt": 5}


def test_a_message_frame_shows_its_state_and_the_readers_own_reactions() -> None:
    message = Message(conversation_id="g_1", seq=3, sender_id="bob", sent_at=5, client_msg_id="b-1",
                      body=MessageBody(text="hi"), edited_at=9, reply_to=2, mentions=("alice",),
                      reactions={"👍": ("alice", "carol"), "🎉": ("carol",)})
    quoted = {2: Message(conversation_id="g_1", seq=2, sender_id="alice", sent_at=4, client_msg_id="a-1",
                         body=MessageBody(text="q" * 150))}
    frame = json.loads(entry_frame(message, FrameFormat.COMPACT, reader="alice", quoted=quoted).to_json())
    assert frame["editedAt"] == 9 and frame["replyTo"] == 2 and frame["mentions"] == ["alice"]
    assert frame["quote"] == {"seq": 2, "senderId": "alice", "text": "q" * 100}
    assert frame["reactions"] == [{"emoji": "🎉", "count": 1, "me": False}, {"emoji": "👍", "count": 2, "me": True}]
    tombstone = message.model_copy(update={"body": None, "deleted_at": 10})
    gone = json.loads(entry_frame(tombstone, FrameFormat.FULL, reader="alice").to_json())
    assert gone["deleted"] is True and "body" not in gone and "reactions" not in gone and "quote" not in gone


@settings(max_examples=60, deadline=None)
@given(actions=st.lists(st.tuples(st.sampled_from(["send", "read", "change"]), st.integers(0, RECENT_SENDERS + 1)),
                        min_size=1, max_size=40))
def test_unread_counts_the_messages_of_others_after_the_read_position_whatever_the_changes(
        actions: list[tuple[str, int]]) -> None:
    # a model: the stream by hand (sender, or None for a change) and each member's read seq, against the inbox
    world = World(Clock())
    members = [f"u{i}" for i in range(RECENT_SENDERS + 2)]
    cid = world.conversations.create_group(members[0], members[1:], None).conversation_id
    stream: list[str | None] = []
    position = dict.fromkeys(members, 0)
    for action, who in actions:
        user = members[who]
        if action == "send":
            assert send(world, user, cid).seq == len(stream) + 1
            stream.append(user)
            position[user] = len(stream)
        elif action == "change" and stream:
            assert change(world, user, cid).seq == len(stream) + 1
            stream.append(None)
        elif stream:
            world.inbox.read(user, "c", cid, len(stream))
            position[user] = max(position[user], len(stream))
    for user in members:
        expected = sum(1 for seq, sender in enumerate(stream, 1)
                       if seq > position[user] and sender is not None and sender != user)
        assert summary_of(world, user, cid).unread == expected, user


def test_the_python_client_reads_change_and_message_frames_of_both_formats_into_one_ordered_timeline() -> None:
    from parley_client.frames import Change as ClientChange
    from parley_client.frames import HistoryPage
    from parley_client.frames import Message as ClientMessage
    from parley_client.timeline import Timeline

    message = Message(conversation_id="g_1", seq=1, sender_id="bob", sent_at=5, client_msg_id="b-1",
                      body=MessageBody(text="hi"), edited_at=8, reactions={"👍": ("alice",)})
    edit = Message(conversation_id="g_1", seq=2, sender_id="bob", sent_at=8, client_msg_id="~x",
                   change=Change(kind=ChangeKind.EDITED, target=1, text="hi!"))
    for frame_format in FrameFormat:
        page = HistoryPage.from_frame({"conversationId": "g_1", "hasMore": False, "messages": [
            json.loads(entry_frame(m, frame_format, reader="alice").to_json()) for m in (message, edit)]})
        first, second = page.messages
        assert isinstance(first, ClientMessage) and first.edited_at == 8 and first.reactions[0].me
        assert isinstance(second, ClientChange) and (second.kind, second.target, second.text) == ("edited", 1, "hi!")
        assert second.message_id == "g_1.2"
        # a change fills its seq in the timeline: the message after it is not held back behind a gap
        timeline = Timeline(last_seq=0)
        later = json.loads(entry_frame(message.model_copy(update={"seq": 3}), frame_format).to_json())
        assert timeline.offer(ClientMessage.from_frame(later)) == []
        assert [e.seq for e in timeline.offer(first)] == [1]
        assert [e.seq for e in timeline.offer(second)] == [2, 3]
