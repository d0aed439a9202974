"""The connections item (``USER#<uid>`` / ``~CONNS``) against moto: the per-user cap under racing handshakes,
expired entries, pruning, and the batch read fan-out makes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from parley import aws, table
from parley.models import Connection
from parley.stores.connections import DynamoConnectionStore
from tests.integration.conftest import TABLE_NAME, connection_records
from tests.support.faults import Fault, Rule, batch_of, injected

NOW_MS = 1_800_000_000_000
TTL_S = 2 * 3600 + 600


def connection(user: str, cid: str, at_ms: int = NOW_MS) -> Connection:
    return Connection(connection_id=cid, user_id=user, connected_at=at_ms)


def claim(store: DynamoConnectionStore, user: str, cid: str, *, cap: int = 3, now_ms: int = NOW_MS) -> bool:
    return store.claim(connection(user, cid, now_ms), now_ms // 1000 + TTL_S, cap, now_ms)


class CallCounter:
    """Counts the calls Parley's DynamoDB client makes, by operation."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()
        aws.client("dynamodb").meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append(model.name)

    def close(self) -> None:
        aws.client("dynamodb").meta.events.unregister("before-call.dynamodb", self._seen)


def test_handshakes_racing_on_one_store_never_pass_the_cap(aws_env: Any, atomic_writes: None) -> None:
    # given a cap of 3, when 16 connections of one user claim their place at the same time
    store = DynamoConnectionStore(TABLE_NAME)
    start = threading.Barrier(16)

    def race(n: int) -> bool:
        start.wait(timeout=10)
        return claim(store, "alice", f"c{n}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = list(pool.map(race, range(16)))
    # then exactly three got in, and the item holds exactly those three
    assert accepted.count(True) == 3
    assert sorted(r.connection_id for r in connection_records(aws_env)) == sorted(
        f"c{n}" for n, ok in enumerate(accepted) if ok)


def test_expired_connections_do_not_block_a_new_one_and_are_removed_by_it(aws_env: Any) -> None:
    # given a user whose three places are all taken by connections that have expired (their TTL lags)
    store = DynamoConnectionStore(TABLE_NAME)
    long_ago = NOW_MS - 3 * 3600 * 1000
    for n in range(3):
        assert claim(store, "alice", f"old-{n}", now_ms=long_ago)
    # when a new connection claims a place: then it gets one, and the dead entries are gone
    assert claim(store, "alice", "new")
    assert [r.connection_id for r in connection_records(aws_env)] == ["new"]
    assert [c.connection_id for c in store.list_for_user("alice", NOW_MS)] == ["new"]


def test_live_connections_still_fill_the_cap_and_a_retried_connect_is_accepted(aws_env: Any) -> None:
    store = DynamoConnectionStore(TABLE_NAME)
    assert claim(store, "alice", "old", now_ms=NOW_MS - 3 * 3600 * 1000)  # expired
    assert all(claim(store, "alice", f"c{n}") for n in range(3))
    assert not claim(store, "alice", "c3")  # three live ones: full
    assert claim(store, "alice", "c1")  # the same $connect retried: already recorded
    assert sorted(c.connection_id for c in store.list_for_user("alice", NOW_MS)) == ["c0", "c1", "c2"]


def test_the_item_expires_after_its_newest_connection(aws_env: Any) -> None:
    store = DynamoConnectionStore(TABLE_NAME)
    claim(store, "alice", "early", now_ms=NOW_MS - 60_000)
    claim(store, "alice", "late")
    item = aws_env.get_item(TableName=TABLE_NAME, Key={"pk": {"S": "USER#alice"}, "sk": {"S": table.CONNECTIONS_SK}})
    assert int(item["Item"][table.TTL_ATTRIBUTE]["N"]) == NOW_MS // 1000 + TTL_S


def test_a_prune_removes_only_its_own_connection(aws_env: Any) -> None:
    store = DynamoConnectionStore(TABLE_NAME)
    claim(store, "alice", "a1")
    claim(store, "alice", "a2")
    store.delete("alice", "a1")
    store.delete("alice", "a1")  # again (a disconnect after a prune): nothing left to remove, nothing else touched
    store.delete("bob", "b1")  # a user with no item at all
    assert [r.connection_id for r in connection_records(aws_env)] == ["a2"]


def test_the_connections_of_a_hundred_users_are_read_in_one_call(aws_env: Any) -> None:
    # given 100 users, every other one online
    store = DynamoConnectionStore(TABLE_NAME)
    users = [f"user-{n:03d}" for n in range(100)]
    for user in users[::2]:
        claim(store, user, f"{user}-phone")
    counter = CallCounter()
    try:
        # when fan-out looks them up
        found = store.list_for_users(users, NOW_MS)
    finally:
        counter.close()
    # then one BatchGetItem answered for all of them: the online ones with their connection, the others none
    assert counter.calls == ["BatchGetItem"]
    assert {u: [c.connection_id for c in cs] for u, cs in found.items()} == {
        u: ([f"{u}-phone"] if n % 2 == 0 else []) for n, u in enumerate(users)}


def test_more_than_a_hundred_users_take_a_call_per_hundred(aws_env: Any) -> None:
    store = DynamoConnectionStore(TABLE_NAME)
    users = [f"user-{n:03d}" for n in range(150)]
    counter = CallCounter()
    try:
        found = store.list_for_users(users, NOW_MS)
    finally:
        counter.close()
    assert counter.calls == ["BatchGetItem", "BatchGetItem"] and set(found) == set(users)


def test_keys_left_unprocessed_are_asked_again(aws_env: Any) -> None:
    # given DynamoDB leaving every key unprocessed on the first call
    store = DynamoConnectionStore(TABLE_NAME)
    claim(store, "alice", "a1")
    rule = Rule("dynamodb", "BatchGetItem", Fault.UNPROCESSED, when=batch_of(table.CONNECTIONS_SK), times=1)
    with injected(rule):
        found = store.list_for_users(["alice", "bob"], NOW_MS)
    # then the read asked again and found both
    assert rule.injected == 1
    assert {u: [c.connection_id for c in cs] for u, cs in found.items()} == {"alice": ["a1"], "bob": []}


def test_users_still_unprocessed_after_the_retries_are_left_out_not_offline(aws_env: Any) -> None:
    store = DynamoConnectionStore(TABLE_NAME)
    claim(store, "alice", "a1")
    rule = Rule("dynamodb", "BatchGetItem", Fault.UNPROCESSED, when=batch_of(table.CONNECTIONS_SK), times=None)
    with injected(rule):
        found = store.list_for_users(["alice", "bob"], NOW_MS)
    assert found == {}  # not known: fan-out reports them pending, never unreached
