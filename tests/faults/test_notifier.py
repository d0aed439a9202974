"""Faults at every AWS call of the push notifier (Lambda retries an unread event twice): every offline
member is still pushed, no device shows a push twice, and each badge counts the conversation once."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultCase, Point, Run, batch_of, cases, device_publish, key_of
from tests.support.faults import is_item_of, is_query_of

NOTIFIER_POINTS: list[Point] = [
    ("push ledger read", "dynamodb", "GetItem", key_of("PUSHED#")),
    ("profiles and memberships of the recipients", "dynamodb", "BatchGetItem", batch_of("~PROFILE")),
    ("newest message", "dynamodb", "Query", is_query_of("MSG#")),
    ("badge counted", "dynamodb", "UpdateItem", is_item_of("~PROFILE")),
    ("push to a device", "sns", "Publish", device_publish),
    ("push ledger write", "dynamodb", "UpdateItem", key_of("PUSHED#")),
]


@pytest.mark.parametrize("case", cases("notifier", NOTIFIER_POINTS), ids=str)
def test_the_promises_hold_with_a_fault_in_the_notifier(case: FaultCase, run: Run) -> None:
    run.play()
    assert case.rule.injected, f"{case} never happened"
    run.check()
