"""The audit log's store under moto: a time range read day by day, newest first, in pages that lose and repeat
nothing; one target's entries through the index; cursors that were not ours refused."""

from __future__ import annotations

from typing import Any

import pytest

from parley.audit import AuditEntry
from parley.errors import InvalidRequestError
from parley.stores.audit import DynamoAuditStore
from tests.integration.conftest import TABLE_NAME

DAY = 86_400_000
START = 1_795_000_000_000  # 2026-11-19


def entry(n: int, at: int, targets: tuple[str, ...] = ()) -> AuditEntry:
    return AuditEntry(entry_id=f"e{n:03d}", at=at, caller="arn:aws:iam::1:user/x", operation="GET /v1/audit",
                      status=200, targets=targets)


@pytest.fixture
def store(aws_env: Any) -> DynamoAuditStore:
    return DynamoAuditStore(TABLE_NAME)


def every_page(read: Any, limit: int) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        page = read(limit, cursor)
        found += [e.entry_id for e in page.entries]
        if page.cursor is None:
            return found
        cursor = page.cursor


def test_a_time_range_is_read_newest_first_across_days_in_pages(store: DynamoAuditStore) -> None:
    # given entries on four days, one day empty between them
    ats = [START + 10, START + 20, START + DAY + 5, START + 3 * DAY + 1, START + 3 * DAY + 2, START + 3 * DAY + 3]
    for n, at in enumerate(ats):
        store.put(entry(n, at), expires_at=0)
    # when the range from the first to the last day is read two at a time
    found = every_page(lambda limit, cursor: store.by_time(START, START + 3 * DAY + 3, limit, cursor), 2)
    # then every entry comes once, newest first
    assert found == ["e005", "e004", "e003", "e002", "e001", "e000"]
    # and a range excludes what lies outside it
    assert every_page(lambda limit, cursor: store.by_time(START + 15, START + DAY + 5, limit, cursor), 10) == \
        ["e002", "e001"]


def test_one_targets_entries_come_from_the_index_in_pages(store: DynamoAuditStore) -> None:
    for n in range(5):
        store.put(entry(n, START + n, ("user:alice",) if n % 2 == 0 else ("user:bob",)), expires_at=0)
    found = every_page(lambda limit, cursor: store.by_target("user:alice", START, START + 10, limit, cursor), 1)
    assert found == ["e004", "e002", "e000"]


def test_many_targets_are_each_indexed(store: DynamoAuditStore) -> None:
    members = tuple(f"user:u{i}" for i in range(60))  # more than one BatchWriteItem holds
    store.put(entry(1, START, members), expires_at=0)
    assert [e.entry_id for e in store.by_target("user:u59", START, START, 10, None).entries] == ["e001"]


@pytest.mark.parametrize("cursor", ["not base64!", "bnVsbA==", "eyJkIjoiMjAyNi0xMy00MCJ9"])
def test_a_cursor_that_is_not_ours_is_refused(store: DynamoAuditStore, cursor: str) -> None:
    with pytest.raises(InvalidRequestError):
        store.by_time(START, START + DAY, 10, cursor)
    with pytest.raises(InvalidRequestError):
        store.by_target("user:alice", START, START + DAY, 10, cursor)
