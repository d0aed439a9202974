from __future__ import annotations

import threading
import time

from parley.config import Settings
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


def test_one_batch_read_finds_the_connections_of_every_member_of_the_largest_group() -> None:
    # given the largest group (PARLEY_MAX_GROUP_MEMBERS), every member online
    members = [f"user-{n}" for n in range(Settings().max_group_members)]
    store, gateway = FakeConnectionStore(), FakeGateway()
    for member in members:
        connected(store, member, f"{member}-phone")
    # when a frame goes to all of them
    result = Fanout(store, gateway).deliver(members, b"frame", NOW_MS)
    # then their connections were looked up with one read, for all of them at once, and each got the frame
    assert store.reads == [members]
    assert result.delivered == len(members) and len(gateway.posts) == len(members)


class OneRound(FakeGateway):
    """Each post waits until ``expected`` posts are in flight at once (then all go through together)."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.together = threading.Barrier(expected)

    def post(self, connection_id: str, data: bytes) -> None:
        self.together.wait(timeout=10)  # broken (a failed post) if fewer are ever in flight together
        super().post(connection_id, data)


def test_a_message_to_the_largest_group_goes_out_in_one_round_of_posts() -> None:
    # given the largest group, every member online, and the pool the settings size for fan-out
    settings = Settings()
    members = [f"user-{n}" for n in range(settings.max_group_members)]
    store, gateway = FakeConnectionStore(), OneRound(expected=len(members))
    for member in members:
        connected(store, member, f"{member}-phone")
    fanout = Fanout(store, gateway, workers=settings.fanout_pool_size)
    try:
        # when a frame goes to all of them
        result = fanout.deliver(members, b"frame", NOW_MS)
    finally:
        fanout.close()
    # then every post was in flight at the same time: none waited for another to finish
    assert result.delivered == len(members) and result.failed == 0


class SlowLookups(FakeConnectionStore):
    """The batch read raises while ``failing`` (a throttled BatchGetItem), leaves ``unprocessed`` users out of
    its answer, and waits for ``release`` while ``held``."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False
        self.unprocessed: set[str] = set()
        self.held = False
        self.release = threading.Event()

    def list_for_users(self, user_ids: list[str], now_ms: int) -> dict[str, list[Connection]]:
        if self.failing:
            raise ThrottledError()
        if self.held:
            self.release.wait(10)
        found = super().list_for_users(user_ids, now_ms)
        return {uid: connections for uid, connections in found.items() if uid not in self.unprocessed}


def test_members_the_lookup_could_not_read_are_pending_and_the_others_get_the_frame() -> None:
    store, gateway = SlowLookups(), FakeGateway()
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")
    store.unprocessed.add("bob")  # DynamoDB left his key unprocessed, however often it was asked again
    result = Fanout(store, gateway).deliver(["bob", "carol"], b"frame", NOW_MS)
    assert result.pending == ("bob",) and result.unreached == ()
    assert gateway.received_by("c-phone") == [b"frame"] and gateway.received_by("b-phone") == []


def test_a_failed_lookup_leaves_every_member_pending_not_unreached() -> None:
    store, gateway = SlowLookups(), FakeGateway()
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")
    store.failing = True
    result = Fanout(store, gateway).deliver(["bob", "carol"], b"frame", NOW_MS)
    assert result.pending == ("bob", "carol") and result.unreached == ()
    assert gateway.posts == []


def test_a_lookup_not_answered_by_the_deadline_leaves_every_member_pending_and_posts_nothing_later() -> None:
    store, gateway = SlowLookups(), FakeGateway()
    connected(store, "bob", "b-phone")
    store.held = True
    fanout = Fanout(store, gateway)
    try:
        result = fanout.deliver(["bob"], b"frame", NOW_MS, deadline_s=time.monotonic() + 0.5)
    finally:
        store.release.set()
    fanout.close()
    assert result.pending == ("bob",)
    assert gateway.posts == []  # the late answer is never used: the delivery queue delivers to bob instead


class HeldPosts(FakeGateway):
    """Posts to ``held`` connections wait for ``release``."""

    def __init__(self) -> None:
        super().__init__()
        self.held: set[str] = set()
        self.release = threading.Event()

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.held:
            self.release.wait(10)
        super().post(connection_id, data)


def test_members_whose_posts_are_not_done_by_the_deadline_are_pending_and_unstarted_posts_never_go_out() -> None:
    # given one worker, busy with a post to bob that hangs, and carol's post queued behind it
    store, gateway = FakeConnectionStore(), HeldPosts()
    connected(store, "bob", "b-phone")
    connected(store, "carol", "c-phone")
    gateway.held.add("b-phone")
    fanout = Fanout(store, gateway, workers=1)
    try:
        result = fanout.deliver(["bob", "carol"], b"frame", NOW_MS, deadline_s=time.monotonic() + 0.5)
    finally:
        gateway.release.set()
    fanout.close()
    # then both are pending (the caller delivers to them again, from the queue)
    assert result.pending == ("bob", "carol")
    # bob's post was under way and lands; carol's had not started, and never goes out from this invocation, so a
    # post from an invocation long past its deadline cannot land after the queue's
    assert gateway.received_by("b-phone") == [b"frame"] and gateway.received_by("c-phone") == []


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
