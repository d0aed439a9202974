"""Unread counters, the conversation list, read receipts and typing against fakes."""

from __future__ import annotations

import pytest

from parley.errors import InvalidFrameError, InvalidSeqError, NotMemberError
from parley.models import MessageBody, NotifyMode, Profile, Visibility
from tests.unit.conftest import World


def send(world: World, sender: str, cid: str, n: int) -> None:
    for i in range(n):
        world.messaging.send(sender, cid, f"{sender}-{cid}-{i}-{world.clock()}", MessageBody(text=f"m{i}"))


def test_unread_is_last_seq_minus_last_read_and_read_updates_it(world: World) -> None:
    direct = world.conversations.open_direct("alice", "bob").conversation_id
    group = world.conversations.create_group("carol", ["alice", "bob"], "g").conversation_id
    send(world, "bob", direct, 3)
    send(world, "carol", group, 5)
    unread, total = world.inbox.unread_counts("alice")
    assert {s.conversation.conversation_id: s.unread for s in unread} == {direct: 3, group: 5} and total == 8
    summary = world.inbox.read("alice", "a1", group, 4)
    assert summary.unread == 1
    assert world.inbox.unread_counts("alice")[1] == 4


def test_sending_writes_no_counters(world: World) -> None:
    group = world.conversations.create_group("alice", [f"u{i}" for i in range(9)], None).conversation_id
    before = dict(world.conversation_store.members)
    send(world, "alice", group, 3)
    assert world.conversation_store.members == before


def test_read_never_goes_backwards_and_cannot_pass_the_last_message(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid, 5)
    world.inbox.read("alice", "a1", cid, 4)
    assert world.inbox.read("alice", "a1", cid, 2).membership.last_read_seq == 4
    with pytest.raises(InvalidSeqError):
        world.inbox.read("alice", "a1", cid, 6)
    with pytest.raises(NotMemberError):
        world.inbox.read("mallory", "m1", cid, 1)
    assert world.conversation_store.members[("alice", cid)].last_read_seq == 4


def test_read_sends_a_receipt_to_others_and_counts_to_my_other_devices(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    for user, conn in (("alice", "a-phone"), ("alice", "a-laptop"), ("bob", "b1")):
        world.connect(user, conn)
    send(world, "bob", cid, 3)
    world.inbox.read("alice", "a-phone", cid, 2)
    assert world.frames("b1", "receipt") == [{"type": "receipt", "conversationId": cid, "userId": "alice", "seq": 2}]
    assert world.frames("a-laptop", "unread") == [{"type": "unread", "conversationId": cid, "unread": 1,
                                                   "lastReadSeq": 2}]
    assert world.frames("a-phone", "unread") == []  # the reader's own device gets the route response


def test_hide_read_receipts_suppresses_them(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    world.connect("bob", "b1")
    send(world, "bob", cid, 2)
    world.preferences.update("alice", visibility=None, hide_read_receipts=True, notify=None)
    world.inbox.read("alice", "a1", cid, 2)
    assert world.frames("b1", "receipt") == []


def test_the_list_is_newest_activity_first_with_unread_and_last_message_paged(world: World) -> None:
    ids = [world.conversations.open_direct("alice", peer).conversation_id for peer in ("b", "c", "d")]
    send(world, "b", ids[0], 1)
    send(world, "d", ids[2], 2)
    page1 = world.inbox.page("alice", 2, None)
    page2 = world.inbox.page("alice", 2, page1.cursor)
    ordered = [s.conversation.conversation_id for s in page1.conversations + page2.conversations]
    assert ordered == [ids[2], ids[0], ids[1]] and page2.cursor is None
    first = page1.conversations[0]
    assert first.unread == 2 and first.last_message is not None and first.last_message.body.text == "m1"
    with pytest.raises(InvalidFrameError):
        world.inbox.page("alice", 2, "not-a-cursor")


def test_typing_is_relayed_to_other_members_and_throttled(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    for user, conn in (("alice", "a1"), ("alice", "a2"), ("bob", "b1")):
        world.connect(user, conn)
    assert world.typing.typing("alice", cid) is True
    assert world.typing.typing("alice", cid) is False  # within 3 s: dropped
    world.clock.now += 3000
    assert world.typing.typing("alice", cid) is True
    assert len(world.frames("b1", "typing")) == 2 and world.frames("a2", "typing") == []
    with pytest.raises(NotMemberError):
        world.typing.typing("mallory", cid)


def test_conversation_preferences_override_and_mute(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    profile = world.preferences.update("alice", visibility=None, hide_read_receipts=None, notify=NotifyMode.BADGE)
    now = world.clock.now
    muted = world.preferences.update_conversation("alice", cid, notify=NotifyMode.PUSH, muted_until=now + 60_000,
                                                  fields={"notify", "muted_until"})
    assert muted.effective_notify(profile, now) is NotifyMode.PASSIVE
    assert muted.effective_notify(profile, now + 60_001) is NotifyMode.PUSH
    cleared = world.preferences.update_conversation("alice", cid, notify=None, muted_until=None, fields={"notify"})
    assert cleared.notify is None and cleared.muted_until == now + 60_000
    assert cleared.effective_notify(Profile(user_id="alice", notify=NotifyMode.BADGE), now + 60_001) \
        is NotifyMode.BADGE
    with pytest.raises(NotMemberError):
        world.preferences.update_conversation("mallory", cid, notify=None, muted_until=None, fields=set())


def test_an_invisible_users_read_sends_no_receipts_but_still_updates_their_own_devices(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    send(world, "bob", cid, 2)
    world.connect("bob", "b1")
    world.connect("alice", "a1")
    world.connect("alice", "a2")
    world.preferences.update("alice", visibility=Visibility.INVISIBLE, hide_read_receipts=None, notify=None)
    world.inbox.read("alice", "a1", cid, 2)
    # invisible users look offline on every route: a receipt would say "alice is here, reading"
    assert world.frames("b1", "receipt") == []
    assert [f["unread"] for f in world.frames("a2", "unread")] == [0]
    # visible again, her next read sends one
    world.preferences.update("alice", visibility=Visibility.VISIBLE, hide_read_receipts=None, notify=None)
    send(world, "bob", cid, 1)
    world.inbox.read("alice", "a1", cid, 3)
    assert [f["seq"] for f in world.frames("b1", "receipt")] == [3]
