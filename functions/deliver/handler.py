"""Fed by the delivery queue: finishes the delivery of stored messages that ``send`` handed off (members
not reached yet, unread events not published). What is still left undone fails its record, so SQS offers
it again, and after its last attempt parks it in the dead-letter queue (with an alarm)."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.errors import DeliveryIncompleteError
from parley.models import DeliveryJob
from parley.observability import logger, metrics, tracer
from parley.wiring import deliverer

processor = BatchProcessor(event_type=EventType.SQS)


def deliver(record: SQSRecord, deadline_s: float | None = None) -> None:
    job = DeliveryJob.model_validate_json(record.body)
    report = deliverer().redeliver(job, deadline_s)
    if report is not None and report.remaining is not None:
        metrics.add_metric(name="RedeliveriesIncomplete", unit="Count", value=1)
        raise DeliveryIncompleteError(f"seq {job.seq}: {len(report.remaining.live)} members not reached yet")
    metrics.add_metric(name="Redeliveries", unit="Count", value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    return process_partial_response(event=event, record_handler=partial(deliver, deadline_s=deadline),
                                    processor=processor, context=context)
