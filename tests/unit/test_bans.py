"""Bans against in-memory fakes: a ban closes the user's sockets, refuses their handshakes and their sends on a
socket left open, holds when a close fails, ends on its own or when lifted, and is kept in the history."""

from __future__ import annotations

import pytest

from parley.bans import BanService
from parley.connections import ConnectionService
from parley.errors import BannedError
from parley.events import Events
from parley.models import BanAction
from tests.fakes import FakeBanStore, FakeConnectionStore, FakeGateway, FakePublisher
from tests.unit.conftest import Clock


class Moderation:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.store, self.connection_store, self.gateway = FakeBanStore(), FakeConnectionStore(), FakeGateway()
        self.publisher = FakePublisher()
        self.bans = BanService(self.store, self.connection_store, self.gateway, events=Events(self.publisher),
                               clock=clock)
        self.connections = ConnectionService(self.connection_store, ttl_seconds=7800, bans=self.store, clock=clock)

    def open_connections(self, user: str) -> list[str]:
        return [c.connection_id for c in self.connection_store.list_for_user(user, self.clock.now)]


@pytest.fixture
def mod(clock: Clock) -> Moderation:
    return Moderation(clock)


def test_a_ban_closes_every_open_connection_of_the_user_and_only_theirs(mod: Moderation) -> None:
    # given mallory on two devices and bob on one
    mod.connections.connect("mallory", "m1")
    mod.connections.connect("mallory", "m2")
    mod.connections.connect("bob", "b1")
    # when mallory is banned for an hour
    outcome = mod.bans.ban("mallory", by="arn:aws:iam::1:role/mod", duration_seconds=3600, reason="spam")
    # then both her sockets are closed, bob's is not
    assert sorted(mod.gateway.closed) == ["m1", "m2"]
    assert outcome.connections_closed == 2 and outcome.connections_left_open == 0
    assert outcome.ban.until == outcome.ban.banned_at + 3_600_000
    # and a user.banned event says so
    assert mod.publisher.published == [("user.banned", {
        "type": "user.banned", "version": 1, "userId": "mallory", "bannedAt": outcome.ban.banned_at,
        "until": outcome.ban.until, "reason": "spam", "by": "arn:aws:iam::1:role/mod", "connectionsClosed": 2})]


def test_a_banned_user_cannot_connect_and_leaves_no_connection_record(mod: Moderation) -> None:
    # given mallory banned for good
    mod.bans.ban("mallory", by="ops")
    # when she opens a socket / then it is refused, and no record of it is left to count or deliver to
    with pytest.raises(BannedError):
        mod.connections.connect("mallory", "m3")
    assert mod.open_connections("mallory") == []
    # and a permanent ban has no end and never lapses
    mod.clock.now += 10 * 365 * 86_400_000
    with pytest.raises(BannedError):
        mod.bans.require_not_banned("mallory")


def test_a_ban_ends_by_itself_when_its_time_is_up(mod: Moderation) -> None:
    mod.bans.ban("mallory", by="ops", duration_seconds=60)
    with pytest.raises(BannedError):
        mod.connections.connect("mallory", "m1")
    # when a minute has passed / then she connects again
    mod.clock.now += 60_000
    mod.connections.connect("mallory", "m2")
    assert mod.open_connections("mallory") == ["m2"]
    # and she is not among the bans in force
    assert mod.bans.page(10, None)[0] == []


def test_unbanning_lets_the_user_connect_and_is_kept_in_the_history(mod: Moderation) -> None:
    mod.bans.ban("mallory", by="ops", reason="spam")
    # when she is unbanned / then she may connect again
    assert mod.bans.unban("mallory", by="lead") is True
    mod.connections.connect("mallory", "m1")
    # and unbanning again changes nothing
    assert mod.bans.unban("mallory", by="lead") is False
    # and her history keeps both, newest first
    history, _ = mod.bans.history("mallory", 10, None)
    assert [(e.action, e.by) for e in history] == [(BanAction.UNBANNED, "lead"), (BanAction.BANNED, "ops")]


def test_a_ban_whose_connection_close_fails_still_holds(mod: Moderation) -> None:
    # given mallory on two sockets, one of which cannot be closed now (the management API fails)
    mod.connections.connect("mallory", "m1")
    mod.connections.connect("mallory", "m2")
    mod.gateway.broken.add("m1")
    # when she is banned
    outcome = mod.bans.ban("mallory", by="ops")
    # then the other is closed, the failure is told, and the ban is in force all the same
    assert mod.gateway.closed == ["m2"]
    assert (outcome.connections_closed, outcome.connections_left_open) == (1, 1)
    with pytest.raises(BannedError):
        mod.bans.require_not_banned("mallory")  # what a socket route checks before a send
    with pytest.raises(BannedError):
        mod.connections.connect("mallory", "m3")
    # and banning again, once the API works, closes what was left
    mod.gateway.broken.clear()
    assert mod.bans.ban("mallory", by="ops").connections_left_open == 0
    assert "m1" in mod.gateway.closed


def test_a_connection_already_gone_counts_as_closed_and_its_record_goes(mod: Moderation) -> None:
    mod.connections.connect("mallory", "m1")
    mod.gateway.stale.add("m1")  # closed already; its $disconnect never came
    outcome = mod.bans.ban("mallory", by="ops")
    assert (outcome.connections_closed, outcome.connections_left_open) == (1, 0)
    assert mod.open_connections("mallory") == []


def test_a_handshake_that_claimed_its_connection_before_the_ban_is_closed_by_it(mod: Moderation) -> None:
    # given a handshake that recorded its connection just before the ban was stored
    mod.connections.connect("mallory", "m1")
    # when the ban comes / then it finds that connection and closes it
    mod.bans.ban("mallory", by="ops")
    assert mod.gateway.closed == ["m1"]


def test_bans_in_force_are_listed_newest_first_in_pages(mod: Moderation) -> None:
    for user in ("a", "b", "c"):
        mod.bans.ban(user, by="ops")
    first, cursor = mod.bans.page(2, None)
    rest, end = mod.bans.page(2, cursor)
    assert [b.user_id for b in first + rest] == ["c", "b", "a"]
    assert end is None


def test_a_warning_is_recorded_in_the_history_without_banning(mod: Moderation) -> None:
    mod.bans.warn("mallory", by="ops", reason="be nice")
    mod.bans.require_not_banned("mallory")
    history, _ = mod.bans.history("mallory", 10, None)
    assert [(e.action, e.reason) for e in history] == [(BanAction.WARNED, "be nice")]
