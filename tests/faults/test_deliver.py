"""Faults at every AWS call of the deliver function, which finishes what a send handed off (SQS offers a
failed job again, then dead-letters it): the promises hold after each."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultCase, Point, Run, cases, key_of, topic_publish
from tests.support.faults import is_item_of, is_query_of

DELIVER_POINTS: list[Point] = [
    ("the stored message", "dynamodb", "GetItem", is_item_of("MSG#")),
    ("the conversation", "dynamodb", "GetItem", is_item_of("~META")),
    ("upload record", "dynamodb", "UpdateItem", key_of("UPLOAD#")),
    ("attachment tags", "s3", "PutObjectTagging", None),
    ("connections of a member", "dynamodb", "Query", is_query_of("CONN#")),
    ("post to a connection", "apigatewaymanagementapi", "PostToConnection", None),
    ("unread event", "sns", "Publish", topic_publish),
]


@pytest.mark.parametrize("case", cases("deliver", DELIVER_POINTS), ids=str)
def test_the_promises_hold_with_a_fault_in_the_deliver_function(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    run.check()
