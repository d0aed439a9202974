"""The push notifier, subscribed to the unread-events topic. A failure raises, so Lambda retries the
event and finally sends it to the dead-letter queue; the push ledger keeps retries from pushing twice."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.unread_events import UNREAD_EVENT, UnreadEvent
from parley.wiring import notifier


def notify(event: dict[str, Any], deadline_s: float | None = None) -> dict[str, int]:
    """Reads the SNS event as a dict (Powertools' event class costs a cold start)."""
    totals = {"pushed": 0, "duplicates": 0, "removedEndpoints": 0, "skippedPassive": 0, "skippedRead": 0}
    for record in event.get("Records") or []:
        sns = record["Sns"]
        kind = (sns.get("MessageAttributes") or {}).get("type")
        if kind is not None and kind.get("Value") != UNREAD_EVENT:
            continue  # another event type on a shared topic
        report = notifier().notify(UnreadEvent.model_validate_json(sns["Message"]), deadline_s)
        totals["pushed"] += report.pushed
        totals["duplicates"] += report.duplicates
        totals["removedEndpoints"] += report.removed_endpoints
        totals["skippedPassive"] += report.skipped_passive
        totals["skippedRead"] += report.skipped_read
    for name, value in totals.items():
        metrics.add_metric(name=f"Push{name[0].upper()}{name[1:]}", unit="Count", value=value)
    return totals


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return notify(event, time.monotonic() + context.get_remaining_time_in_millis() / 1000)
