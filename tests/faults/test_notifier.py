"""Faults at every AWS call of the push notifier (Lambda retries an unread event twice): every offline
member is still pushed, and no device shows a push twice."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultCase, Point, Run, batch_of, cases, device_publish, key_of
from tests.support.faults import is_item_of, is_query_of

NOTIFIER_POINTS: list[Point] = [
    ("push ledger read", "dynamodb", "GetItem", key_of("PUSHED#")),
    ("profiles", "dynamodb", "BatchGetItem", batch_of("~PROFILE")),
    ("membership", "dynamodb", "GetItem", is_item_of("MEMBER#")),
    ("devices of a member", "dynamodb", "Query", is_query_of("DEVICE#")),
    ("memberships for the badge", "dynamodb", "Query", is_query_of("MEMBER#")),
    ("conversations for the badge", "dynamodb", "BatchGetItem", batch_of("~META")),
    ("newest message for the badge", "dynamodb", "Query", is_query_of("MSG#")),
    ("push to a device", "sns", "Publish", device_publish),
    ("push ledger write", "dynamodb", "UpdateItem", key_of("PUSHED#")),
]


@pytest.mark.parametrize("case", cases("notifier", NOTIFIER_POINTS), ids=str)
def test_the_promises_hold_with_a_fault_in_the_notifier(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    run.check()
