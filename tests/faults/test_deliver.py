"""Faults at every AWS call of the deliver function, which finishes what a send handed off (SQS offers a
failed job again, then dead-letters it): the promises hold after each."""

from __future__ import annotations

import pytest

from parley import table
from tests.faults.harness import BATCH_FAULTS, FaultCase, Point, Run, cases, key_of, topic_publish
from tests.support.faults import batch_of, is_item_of

# The connections of every member, in one batch read: besides the faults of every call, keys left unprocessed.
CONNECTION_LOOKUP: Point = ("connections of the members", "dynamodb", "BatchGetItem", batch_of(table.CONNECTIONS_SK))
DELIVER_POINTS: list[Point] = [
    ("the stored message", "dynamodb", "GetItem", is_item_of("MSG#")),
    ("the conversation", "dynamodb", "GetItem", is_item_of("~META")),
    ("upload record", "dynamodb", "UpdateItem", key_of("UPLOAD#")),
    ("attachment tags", "s3", "PutObjectTagging", None),
    CONNECTION_LOOKUP,
    ("post to a connection", "apigatewaymanagementapi", "PostToConnection", None),
    ("unread event", "sns", "Publish", topic_publish),
]


@pytest.mark.parametrize("case", cases("deliver", DELIVER_POINTS) + cases("deliver", [CONNECTION_LOOKUP], BATCH_FAULTS),
                         ids=str)
def test_the_promises_hold_with_a_fault_in_the_deliver_function(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    run.check()
