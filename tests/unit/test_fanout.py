from __future__ import annotations

import threading
import time

from parley.errors import ThrottledError
from parley.fanout import Fanout
from parley.models import Connection
from tests.fakes import FakeConnectionStore, FakeGateway

NOW_MS = 1_700_000_000_000


def connected(store: FakeConnectionStore, user: str, conn: str, age_ms: int = 60_000) -> None:
    assert store.claim(Connection(connection_id=conn, user_id=user, connected_at=NOW_MS - age_ms),
                       expires_at=NOW_MS // 1000 + 60, max_per_user=10, now_ms=NOW_MS)


def test_every_connection_of_every_member_gets_the_frame_but_the_origin() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "alice", "a-phone")
    connected(store, "alice", "a-laptop")
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")  # not a recipient
    result = Fanout(store, gateway).deliver(["alice", "bob"], b"frame", NOW_MS, exclude_connection="a-phone")
    assert sorted(cid for cid, _ in gateway.posts) == ["a-laptop", "b-phone"]
    assert result.delivered == 2


def test_a_gone_connection_is_deleted_and_the_others_still_receive() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "bob", "b-stale")
    connected(store, "bob", "b-live")
    connected(store, "carol", "c-live")
    gateway.stale.add("b-stale")
    result = Fanout(store, gateway).deliver(["bob", "carol"], b"frame", NOW_MS)
    assert result.stale == 1 and result.delivered == 2
    assert ("bob", "b-stale") not in store.records
    assert gateway.received_by("b-live") == [b"frame"] and gateway.received_by("c-live") == [b"frame"]


def test_a_failing_post_does_not_stop_the_others_and_keeps_the_record() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "bob", "b-broken")
    connected(store, "carol", "c-live")
    gateway.broken.add("b-broken")
    result = Fanout(store, gateway).deliver(["bob", "carol"], b"frame", NOW_MS)
    assert result.failed == 1 and result.delivered == 1
    assert ("bob", "b-broken") in store.records
    # bob did not get it live: he is reported unreached (the unread path), carol reached
    assert result.unreached == ("bob",) and result.pending == ()


def test_a_member_with_one_connection_failing_is_unreached_even_if_another_got_it() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "bob", "b-phone")
    connected(store, "bob", "b-tablet")
    gateway.broken.add("b-tablet")
    result = Fanout(store, gateway).deliver(["bob"], b"frame", NOW_MS)
    assert gateway.received_by("b-phone") == [b"frame"]
    assert result.unreached == ("bob",)


def test_a_member_without_open_connections_is_unreached_and_the_senders_own_connection_counts() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "alice", "a-phone")  # the sender, on the connection that sends
    result = Fanout(store, gateway).deliver(["alice", "dave"], b"frame", NOW_MS, exclude_connection="a-phone")
    assert gateway.posts == []
    assert result.unreached == ("dave",)


class SlowLookups(FakeConnectionStore):
    """Lookups of ``failing`` users raise (a throttled Query); those of ``held`` users wait for ``release``."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = set()
        self.held: set[str] = set()
        self.release = threading.Event()

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        if user_id in self.failing:
            raise ThrottledError()
        if user_id in self.held:
            self.release.wait(10)
        return super().list_for_user(user_id, now_ms)


def test_a_member_whose_lookup_fails_is_pending_not_unreached() -> None:
    store, gateway = SlowLookups(), FakeGateway()
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")
    store.failing.add("bob")
    result = Fanout(store, gateway).deliver(["bob", "carol"], b"frame", NOW_MS)
    assert result.pending == ("bob",) and result.unreached == ()
    assert gateway.received_by("c-phone") == [b"frame"]


def test_members_not_done_by_the_deadline_are_pending() -> None:
    store, gateway = SlowLookups(), FakeGateway()
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")
    store.held.add("bob")
    fanout = Fanout(store, gateway)
    try:
        result = fanout.deliver(["bob", "carol"], b"frame", NOW_MS, deadline_s=time.monotonic() + 1.0)
    finally:
        store.release.set()
    assert result.pending == ("bob",)
    assert gateway.received_by("c-phone") == [b"frame"]
    # bob's late task stops before posting: the caller delivers to him again (the delivery queue), so a
    # post from an invocation long past its deadline cannot land after that one
    fanout.close()
    assert gateway.received_by("b-phone") == []


def test_expired_connection_records_are_not_posted_to() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    store.records[("bob", "old")] = (Connection(connection_id="old", user_id="bob", connected_at=0),
                                     NOW_MS // 1000 - 1)
    Fanout(store, gateway).deliver(["bob"], b"frame", NOW_MS)
    assert gateway.posts == []


def test_a_410_from_a_connection_still_opening_does_not_prune_it() -> None:
    # given a record written by $connect a moment ago: API Gateway answers 410 until the handshake completes
    store, gateway = FakeConnectionStore(), FakeGateway()
    connected(store, "bob", "b-opening", age_ms=500)
    gateway.stale.add("b-opening")
    result = Fanout(store, gateway, prune_grace_ms=10_000).deliver(["bob"], b"frame", NOW_MS)
    assert ("bob", "b-opening") in store.records
    assert result.stale == 0 and result.unreached == ("bob",)
