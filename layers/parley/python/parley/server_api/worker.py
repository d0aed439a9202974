"""The jobs-queue worker of the server API's function: each SQS record is a ticket for one bounded batch of a user's
erasure or export (``parley.jobs``). A batch that fails fails its record: SQS offers it again after the queue's
visibility timeout, and the job resumes from its last checkpoint; after the queue's last attempt the record is
parked in the dead-letter queue (with an alarm), and ``POST`` on the job's path hands it on again."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from parley.models import JobStatus, JobTicket
from parley.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


@cache
def _processor() -> BatchProcessor:
    """Built on the first queue event: an API call never imports the batch utility."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS)


def is_queue_event(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and records[0].get("eventSource") == "aws:sqs"


def run_batch(record: SQSRecord) -> None:
    from parley.wiring import jobs

    ticket = JobTicket.model_validate_json(record.body)
    logger.append_keys(job_id=ticket.job_id, job_kind=ticket.kind.value)
    job = jobs().run(ticket)
    metrics.add_metric(name="JobBatches", unit="Count", value=1)
    if job is not None and job.status is JobStatus.DONE:
        metrics.add_metric(name="JobsDone", unit="Count", value=1)
        logger.info("job done", extra={"batches": job.step, "counts": job.counts})


def handle_queue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    return dict(process_partial_response(event=event, record_handler=run_batch, processor=_processor(),
                                         context=context))
