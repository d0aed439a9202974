from __future__ import annotations

from parley.fanout import Fanout
from parley.models import Connection
from tests.fakes import FakeConnectionStore, FakeGateway

NOW_MS = 1_700_000_000_000


def connected(store: FakeConnectionStore, user: str, conn: str, age_ms: int = 60_000) -> None:
    store.put(Connection(connection_id=conn, user_id=user, connected_at=NOW_MS - age_ms),
              expires_at=NOW_MS // 1000 + 60)


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


def test_expired_connection_records_are_not_posted_to() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    store.put(Connection(connection_id="old", user_id="bob", connected_at=0), expires_at=NOW_MS // 1000 - 1)
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
