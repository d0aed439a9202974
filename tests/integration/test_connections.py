from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.conftest import all_items, connection_records
from tests.support.events import connect_event, disconnect_event
from tests.support.handlers import invoke


def test_connect_records_the_connection_with_a_ttl_beyond_two_hours(aws_env: Any) -> None:
    before = int(time.time())
    assert invoke("connect", connect_event("alice", "conn-A"))["statusCode"] == 200
    [record] = connection_records(aws_env)
    assert (record.user, record.connection_id) == ("alice", "conn-A")
    assert record.expires_at >= before + 2 * 3600 + 10 * 60


def test_disconnect_removes_the_record(aws_env: Any) -> None:
    invoke("connect", connect_event("alice", "conn-A"))
    invoke("connect", connect_event("alice", "conn-B"))
    assert invoke("disconnect", disconnect_event("alice", "conn-A"))["statusCode"] == 200
    assert [r.connection_id for r in connection_records(aws_env)] == ["conn-B"]


def test_connect_without_an_authorizer_identity_is_refused_and_stores_nothing(aws_env: Any) -> None:
    assert invoke("connect", connect_event(None, "conn-A"))["statusCode"] == 401
    assert all_items(aws_env) == []


def test_handshakes_racing_for_the_last_connections_never_pass_the_cap(configure: Any, aws_env: Any,
                                                                     atomic_writes: None) -> None:
    # given a cap of 3 connections per user, when 12 handshakes of the same user run at once
    configure(PARLEY_MAX_CONNECTIONS_PER_USER="3", PARLEY_RATE_LIMITS="")
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda n: invoke("connect", connect_event("alice", f"conn-{n}"))["statusCode"],
                              range(12)))
    # then exactly three are accepted and recorded, and the others refused with 429
    assert sorted(codes) == [200] * 3 + [429] * 9
    assert len(connection_records(aws_env)) == 3


def test_a_freed_place_is_taken_again_and_a_reconnect_within_the_cap_is_accepted(configure: Any,
                                                                               aws_env: Any) -> None:
    configure(PARLEY_MAX_CONNECTIONS_PER_USER="2", PARLEY_RATE_LIMITS="")
    assert invoke("connect", connect_event("alice", "conn-1"))["statusCode"] == 200
    assert invoke("connect", connect_event("alice", "conn-2"))["statusCode"] == 200
    assert invoke("connect", connect_event("alice", "conn-3"))["statusCode"] == 429
    invoke("disconnect", disconnect_event("alice", "conn-1"))
    assert invoke("connect", connect_event("alice", "conn-3"))["statusCode"] == 200
    assert sorted(r.connection_id for r in connection_records(aws_env)) == ["conn-2", "conn-3"]
