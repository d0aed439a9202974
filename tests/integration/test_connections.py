from __future__ import annotations

import time
from typing import Any

from tests.integration.conftest import all_items, connection_items
from tests.support.events import connect_event, disconnect_event
from tests.support.handlers import invoke


def test_connect_records_the_connection_with_a_ttl_beyond_two_hours(aws_env: Any) -> None:
    before = int(time.time())
    assert invoke("connect", connect_event("alice", "conn-A"))["statusCode"] == 200
    [item] = connection_items(aws_env)
    assert item["pk"]["S"] == "USER#alice" and item["sk"]["S"] == "CONN#conn-A"
    assert int(item["expiresAt"]["N"]) >= before + 2 * 3600 + 10 * 60


def test_disconnect_removes_the_record(aws_env: Any) -> None:
    invoke("connect", connect_event("alice", "conn-A"))
    invoke("connect", connect_event("alice", "conn-B"))
    assert invoke("disconnect", disconnect_event("alice", "conn-A"))["statusCode"] == 200
    assert [i["sk"]["S"] for i in connection_items(aws_env)] == ["CONN#conn-B"]


def test_connect_without_an_authorizer_identity_is_refused_and_stores_nothing(aws_env: Any) -> None:
    assert invoke("connect", connect_event(None, "conn-A"))["statusCode"] == 401
    assert all_items(aws_env) == []
