"""Faults at every AWS call of the send path: the promises hold after each."""

from __future__ import annotations

import pytest

from parley import table
from tests.faults.harness import BATCH_FAULTS, FaultCase, Point, Run, cases, key_of, topic_publish
from tests.support.faults import batch_of, is_item_of, is_query_of

# The connections of every member, in one batch read: besides the faults of every call, keys left unprocessed.
CONNECTION_LOOKUP: Point = ("connections of the members", "dynamodb", "BatchGetItem", batch_of(table.CONNECTIONS_SK))
SEND_POINTS: list[Point] = [
    ("rate-limit bucket", "dynamodb", "UpdateItem", key_of("THROTTLE#")),
    ("conversation head", "dynamodb", "Query", is_query_of("CONV#")),
    ("who blocked the sender", "dynamodb", "Query", is_query_of("BLOCKEDBY#")),
    ("attachment check", "s3", "HeadObject", None),
    ("message write", "dynamodb", "PutItem", is_item_of("MSG#")),
    ("mention mark", "dynamodb", "UpdateItem", is_item_of(table.MEMBER_PREFIX)),
    ("upload record", "dynamodb", "UpdateItem", key_of("UPLOAD#")),
    ("attachment tags", "s3", "PutObjectTagging", None),
    CONNECTION_LOOKUP,
    ("post to a connection", "apigatewaymanagementapi", "PostToConnection", None),
    ("pruning a stale connection", "dynamodb", "UpdateItem", is_item_of(table.CONNECTIONS_SK)),
    ("unread event", "sns", "Publish", topic_publish),
]


@pytest.mark.parametrize("case", cases("send", SEND_POINTS) + cases("send", [CONNECTION_LOOKUP], BATCH_FAULTS),
                         ids=str)
def test_the_promises_hold_with_a_fault_on_the_send_path(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    run.check()


# The put after a lost race: bob's message took the seq alice's send read, and her next put (at the seq after
# bob's) meets the fault.
RACE_POINTS: list[Point] = [("message write after a lost race", "dynamodb", "PutItem", is_item_of("MSG#"))]


@pytest.mark.parametrize("case", cases("race", RACE_POINTS), ids=str)
def test_the_promises_hold_with_a_fault_on_the_put_after_a_lost_race(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    assert run.lost_races() == 1, "alice's first put did not lose its race to bob's message"
    run.check()
