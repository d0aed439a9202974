"""Replies and mentions against fakes: what send accepts and refuses, the quote each member is shown live, the
mention marks, and the push rule for mentions (an alert even in badge or passive mode, nothing when muted)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.delivery import DeliveryService
from parley.errors import InvalidMentionsError, InvalidReplyError
from parley.messaging import MAX_MENTIONS
from parley.models import Change, ChangeKind, Conversation, DeliveryJob, MessageBody, NotifyMode, Platform
from parley.protocol import messages as protocol_messages
from tests.fakes import FakeMessageStore
from tests.unit.conftest import World
from tests.unit.test_notifier import PushWorld


@pytest.fixture
def push(world: World) -> PushWorld:
    return PushWorld(world)


def body(text: str) -> MessageBody:
    return MessageBody(text=text)


def group(world: World, *others: str) -> str:
    """A group of alice (connected, on "a-phone": her sends come from there) and ``others``."""
    gid = world.conversations.create_group("alice", list(others), "g").conversation_id
    world.connect("alice", "a-phone")
    return gid


def delivery(world: World) -> DeliveryService:
    return DeliveryService(world.fanout, None, None, None, messages=world.message_store,
                           conversations=world.conversation_store, blocks=world.blocks, clock=world.clock)


def live(world: World, connection_id: str) -> list[dict[str, Any]]:
    """The message frames a connection received."""
    frames = [json.loads(d) for d in world.gateway.received_by(connection_id)]
    return [f for f in frames if f.get("t") == "msg" or f.get("type") == "message"]


# -- what send accepts --------------------------------------------------------------------------------------


def test_a_reply_and_its_mentions_are_stored_with_the_message(world: World) -> None:
    gid = group(world, "bob", "carol")
    first = world.messaging.send("bob", gid, "b1", body("lunch?"))
    sent = world.messaging.send("alice", gid, "a1", body("yes"), reply_to=first.message.seq,
                                mentions=["bob", "carol", "bob"])
    stored = world.message_store.get(gid, sent.message.seq)
    assert stored is not None and stored.reply_to == first.message.seq
    assert stored.mentions == ("bob", "carol")  # repeats count once
    assert sent.quoted is not None and sent.quoted.body == body("lunch?")


@pytest.mark.parametrize("reply_to", [99, 0])
def test_a_reply_to_a_seq_the_conversation_does_not_have_is_refused_and_nothing_stored(world: World,
                                                                                        reply_to: int) -> None:
    gid = group(world, "bob")
    world.messaging.send("bob", gid, "b1", body("hi"))
    with pytest.raises(InvalidReplyError):
        world.messaging.send("alice", gid, "a1", body("yes"), reply_to=reply_to)
    assert [m.seq for m in world.message_store.page(gid, before=None, after=None, limit=10).messages] == [1]


def test_a_reply_to_a_change_entry_is_refused(world: World) -> None:
    gid = group(world, "bob")
    world.messaging.send("bob", gid, "b1", body("hi"))
    head = world.message_store.head(gid, 10)
    change = world.messaging.record_change("bob", head, Change(kind=ChangeKind.RENAMED, name="x"), ("alice", "bob"))
    with pytest.raises(InvalidReplyError):
        world.messaging.send("alice", gid, "a1", body("yes"), reply_to=change.message.seq)


def test_a_group_member_cannot_reply_to_a_message_of_someone_they_blocked(world: World) -> None:
    gid = group(world, "bob", "carol")
    hidden = world.messaging.send("carol", gid, "c1", body("hi")).message.seq
    world.blocks.block("alice", "carol", world.clock())
    with pytest.raises(InvalidReplyError):
        world.messaging.send("alice", gid, "a1", body("yes"), reply_to=hidden)


def test_a_member_cannot_reply_to_what_came_before_they_joined(world: World) -> None:
    gid = group(world, "bob")
    early = world.messaging.send("bob", gid, "b1", body("before dave")).message.seq
    _add_member(world, gid, "dave", visible_from=early + 1)
    with pytest.raises(InvalidReplyError):
        world.messaging.send("dave", gid, "d1", body("what?"), reply_to=early)


def test_a_deleted_message_may_be_replied_to_and_its_quote_says_deleted(world: World) -> None:
    gid = group(world, "bob")
    seq = world.messaging.send("bob", gid, "b1", body("oops")).message.seq
    _tombstone(world.message_store, gid, seq)
    world.connect("bob", "b-phone")
    sent = world.messaging.send("alice", gid, "a1", body("too late"), reply_to=seq)
    delivery(world).deliver_sent(sent, "a-phone")
    [frame] = live(world, "b-phone")
    assert frame["quote"] == {"seq": seq, "senderId": "bob", "deleted": True}


@pytest.mark.parametrize("mentions", [["mallory"], ["bob", "mallory"], [f"u{i}" for i in range(MAX_MENTIONS + 1)]])
def test_mentions_must_be_members_else_nothing_is_stored(world: World, mentions: list[str]) -> None:
    gid = group(world, "bob")
    with pytest.raises(InvalidMentionsError):
        world.messaging.send("alice", gid, "a1", body("hey"), mentions=mentions)
    assert world.message_store.page(gid, before=None, after=None, limit=10).messages == ()


def test_a_resend_is_recognised_before_its_reply_and_mentions_are_checked(world: World) -> None:
    gid = group(world, "bob", "carol")
    target = world.messaging.send("bob", gid, "b1", body("hi")).message.seq
    first = world.messaging.send("alice", gid, "a1", body("yo"), reply_to=target, mentions=["carol"])
    # when carol is no longer a member and the resend names someone else, it is still the stored message
    again = world.messaging.send("alice", gid, "a1", body("yo"), reply_to=target, mentions=["mallory"])
    assert again.duplicate and again.message.seq == first.message.seq
    assert again.message.mentions == ("carol",) and again.message.reply_to == target
    # and its delivery quotes the original again
    world.connect("bob", "b-phone")
    delivery(world).deliver_sent(again, "a-phone")
    [frame] = live(world, "b-phone")
    assert frame["quote"]["text"] == "hi"


def test_the_protocol_bound_on_mentions_is_the_services() -> None:
    assert protocol_messages.MAX_MENTIONS == MAX_MENTIONS


# -- the live quote -------------------------------------------------------------------------------------------


def test_the_live_reply_quotes_the_sender_and_the_first_100_characters(world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(world.messaging, "_max_text_bytes", 4096)
    gid = group(world, "bob")
    long_text = "x" * 150
    seq = world.messaging.send("bob", gid, "b1", body(long_text)).message.seq
    world.connect("bob", "b-phone")
    sent = world.messaging.send("alice", gid, "a1", body("agreed"), reply_to=seq, mentions=["bob"])
    delivery(world).deliver_sent(sent, "a-phone")
    [frame] = live(world, "b-phone")
    assert frame["replyTo"] == seq and frame["mentions"] == ["bob"]
    assert frame["quote"] == {"seq": seq, "senderId": "bob", "text": "x" * 100}


def test_a_member_who_blocked_the_quoted_sender_gets_the_reply_without_the_quoted_text(world: World) -> None:
    gid = group(world, "bob", "carol")
    seq = world.messaging.send("carol", gid, "c1", body("carol's words")).message.seq
    world.blocks.block("bob", "carol", world.clock())
    world.connect("bob", "b-phone")
    world.connect("carol", "c-phone")
    sent = world.messaging.send("alice", gid, "a1", body("quoting carol"), reply_to=seq)
    delivery(world).deliver_sent(sent, "a-phone")
    [to_bob] = live(world, "b-phone")
    [to_carol] = live(world, "c-phone")
    assert to_bob["quote"] == {"seq": seq, "senderId": "", "deleted": True}
    assert to_carol["quote"]["text"] == "carol's words"


def test_a_redelivered_reply_reads_its_quote_again(world: World) -> None:
    gid = group(world, "bob")
    seq = world.messaging.send("bob", gid, "b1", body("original")).message.seq
    sent = world.messaging.send("alice", gid, "a1", body("reply"), reply_to=seq)
    world.connect("bob", "b-phone")
    delivery(world).redeliver(DeliveryJob(conversation_id=gid, seq=sent.message.seq, live=("bob",)))
    [frame] = live(world, "b-phone")
    assert frame["quote"]["text"] == "original"


# -- mention marks ----------------------------------------------------------------------------------------------


def test_a_mention_is_counted_until_the_member_reads_past_it(world: World) -> None:
    gid = group(world, "bob", "carol")
    sent = world.messaging.send("alice", gid, "a1", body("@bob look"), mentions=["bob", "alice"])
    delivery(world).deliver_sent(sent, "a-phone")
    [summary] = world.badges.unread_counts("bob").conversations
    assert summary.mentions == 1
    assert world.badges.unread_counts("carol").conversations[0].mentions == 0
    assert world.conversation_store.membership("alice", gid).mention_seqs == frozenset()  # type: ignore[union-attr]
    world.inbox.read("bob", "b-phone", gid, sent.message.seq)
    assert world.conversation_store.membership("bob", gid).mention_seqs == frozenset()  # type: ignore[union-attr]
    assert world.inbox.summaries("bob")[0].mentions == 0


def test_a_mention_that_could_not_be_recorded_is_handed_on(world: World) -> None:
    gid = group(world, "bob")
    sent = world.messaging.send("alice", gid, "a1", body("@bob"), mentions=["bob"])

    def broken(*_args: object) -> None:
        raise RuntimeError("throttled")

    service = delivery(world)
    real = world.conversation_store.add_mention
    world.conversation_store.add_mention = broken  # type: ignore[method-assign]
    report = service.complete(sent.message, sent.conversation, DeliveryJob(
        conversation_id=gid, seq=sent.message.seq, mark=("bob",)), hand_off=False)
    assert report.remaining is not None and report.remaining.mark == ("bob",)
    world.conversation_store.add_mention = real  # type: ignore[method-assign]
    service.redeliver(report.remaining)
    assert world.inbox.summaries("bob")[0].mentions == 1


def test_a_member_who_blocked_the_sender_is_not_marked(world: World) -> None:
    gid = group(world, "bob", "carol")
    world.blocks.block("bob", "alice", world.clock())
    sent = world.messaging.send("alice", gid, "a1", body("@bob"), mentions=["bob", "carol"])
    delivery(world).deliver_sent(sent, "a-phone")
    assert world.conversation_store.membership("bob", gid).mention_seqs == frozenset()  # type: ignore[union-attr]
    assert world.conversation_store.membership("carol", gid).mention_seqs == {sent.message.seq}  # type: ignore[union-attr]


# -- the push rule ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [NotifyMode.PUSH, NotifyMode.BADGE, NotifyMode.PASSIVE])
@pytest.mark.parametrize("mentioned", [True, False])
@pytest.mark.parametrize("muted", [True, False])
def test_a_mention_alerts_whatever_the_mode_unless_the_conversation_is_muted(
        push: PushWorld, mode: NotifyMode, mentioned: bool, muted: bool) -> None:
    world = push.world
    gid = group(world, "bob", "carol")
    push.registry.register("bob", Platform.APNS, "a" * 64)
    until = world.clock.now + 10**9 if muted else None
    world.preferences.update_conversation("bob", gid, notify=mode, muted_until=until, fields={"notify", "muted_until"})
    sent = world.messaging.send("alice", gid, "a1", body("hey"), mentions=["bob"] if mentioned else [])
    event = push.events.publish(sent.message, sent.conversation, ["bob", "carol"])
    assert event.mentions == (["bob"] if mentioned else None)
    push.notifier.notify(event)
    if muted:
        expected = None  # mute means mute everything
    elif mentioned:
        expected = "alert"
    else:
        expected = {NotifyMode.PUSH: "alert", NotifyMode.BADGE: "silent", NotifyMode.PASSIVE: None}[mode]
    got = None
    if push.gateway.published:
        got = "alert" if "alert" in push.pushed()["aps"] else "silent"
    assert got == expected


def test_a_mention_in_a_passive_conversation_leaves_the_badge_as_it_was(push: PushWorld) -> None:
    world = push.world
    gid = group(world, "bob")
    push.registry.register("bob", Platform.APNS, "a" * 64)
    world.preferences.update_conversation("bob", gid, notify=NotifyMode.PASSIVE, muted_until=None, fields={"notify"})
    sent = world.messaging.send("alice", gid, "a1", body("@bob"), mentions=["bob"])
    push.notifier.notify(push.events.publish(sent.message, sent.conversation, ["bob"]))
    assert push.pushed()["aps"]["badge"] == 0 == world.profiles.get("bob").badge


# -- helpers ----------------------------------------------------------------------------------------------------


def _add_member(world: World, gid: str, user: str, *, visible_from: int) -> None:
    from parley.models import Membership

    store = world.conversation_store
    conversation = store.conversations[gid]
    store.conversations[gid] = Conversation.model_validate({
        **conversation.model_dump(), "members": (*conversation.members, user),
        "visible_from": {**conversation.visible_from, user: visible_from}})
    store.members[(user, gid)] = Membership(user_id=user, conversation_id=gid, joined_at=world.clock())


def _tombstone(store: FakeMessageStore, gid: str, seq: int) -> None:
    """As a delete leaves a message: its body gone, the time of deletion set (part E's work, done by hand)."""
    message = store.get(gid, seq)
    assert message is not None
    store.messages[gid][seq] = message.model_copy(update={"body": None, "deleted_at": message.sent_at + 1})
