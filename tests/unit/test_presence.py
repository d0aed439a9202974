"""Presence and invisible mode against fakes."""

from __future__ import annotations

from parley.models import MessageBody, PresenceStatus, Visibility
from tests.unit.conftest import World


def test_online_while_any_connection_is_open_offline_with_last_seen_after_the_last(world: World) -> None:
    world.conversations.open_direct("alice", "bob")
    world.connect("bob", "b1")
    # when alice connects two devices, then closes one, then the other
    world.connect("alice", "a-phone")
    world.connect("alice", "a-laptop")
    world.disconnect("alice", "a-phone")
    assert [p.status for p in world.presence.query("bob", ["alice"])] == [PresenceStatus.ONLINE]
    world.disconnect("alice", "a-laptop")
    # then bob saw exactly one "online" and one "offline" event, the latter with lastSeen
    events = [f["users"][0] for f in world.frames("b1", "presence")]  # type: ignore[index]
    assert [e["status"] for e in events] == ["online", "offline"]  # type: ignore[index]
    [seen] = world.presence.query("bob", ["alice"])
    assert seen.status is PresenceStatus.OFFLINE and seen.last_seen == events[1]["lastSeen"]  # type: ignore[index]


def test_a_stale_connection_found_at_fanout_makes_its_user_offline(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    world.connect("bob", "b1")
    world.connect("alice", "a1")
    world.gateway.stale.add("a1")
    outcome = world.messaging.send("bob", cid, "m1", MessageBody(text="hi"))
    world.fanout.deliver(outcome.recipients, b"{}", world.clock(), exclude_connection="b1")
    assert world.presence.query("bob", ["alice"])[0].status is PresenceStatus.OFFLINE
    assert [f["users"][0]["status"] for f in world.frames("b1", "presence")][-1] == "offline"  # type: ignore[index]


def test_presence_answers_only_for_users_who_share_a_conversation(world: World) -> None:
    world.conversations.open_direct("alice", "bob")
    world.connect("carol", "c1")
    world.connect("bob", "b1")
    answered = world.presence.query("alice", ["bob", "carol", "nobody"])
    assert [p.user_id for p in answered] == ["bob"]


def test_invisible_users_look_offline_emit_nothing_and_keep_their_last_seen(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    world.connect("bob", "b1")
    world.connect("alice", "a1")
    world.disconnect("alice", "a1")
    [before] = world.presence.query("bob", ["alice"])
    world.preferences.update("alice", visibility=Visibility.INVISIBLE, hide_read_receipts=None, notify=None)
    events_before = len(world.frames("b1", "presence"))
    # when invisible alice connects, types and disconnects
    world.connect("alice", "a2")
    assert world.presence.query("bob", ["alice"]) == [before]
    assert world.typing.typing("alice", cid) is False
    world.disconnect("alice", "a2")
    # then bob saw no presence or typing event and the same lastSeen as before
    assert len(world.frames("b1", "presence")) == events_before
    assert world.frames("b1", "typing") == []
    assert world.presence.query("bob", ["alice"]) == [before]


def test_an_invisible_user_still_receives_everything(world: World) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    world.preferences.update("alice", visibility=Visibility.INVISIBLE, hide_read_receipts=None, notify=None)
    world.connect("alice", "a1")
    world.connect("bob", "b1")
    world.typing.typing("bob", cid)
    world.fanout.deliver(["alice"], b'{"type":"message"}', world.clock())
    assert world.frames("a1", "typing") and world.frames("a1", "message") and world.frames("a1", "presence")


def test_going_invisible_while_online_looks_like_going_offline_and_back(world: World) -> None:
    world.conversations.open_direct("alice", "bob")
    world.connect("bob", "b1")
    world.connect("alice", "a1")
    world.preferences.update("alice", visibility=Visibility.INVISIBLE, hide_read_receipts=None, notify=None)
    world.preferences.update("alice", visibility=Visibility.VISIBLE, hide_read_receipts=None, notify=None)
    statuses = [f["users"][0]["status"] for f in world.frames("b1", "presence")]  # type: ignore[index]
    assert statuses == ["online", "offline", "online"]
