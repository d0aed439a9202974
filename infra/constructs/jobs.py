"""The jobs queue (docs/server-api.md, "Erasure and export"): a user's erasure or export runs as bounded batches,
each handing the next to this queue; the server API function consumes it (the same function, dispatching on the
event's shape: no function of its own). A batch that fails every attempt parks its ticket in the delivery queue's
dead-letter queue, shared to keep the resources per instance few (its alarm watches both; a redrive returns each
message to the queue it came from); ``POST`` on the job's path hands the job on again."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class Jobs(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, worker_timeout: Duration,
                 dead_letter_queue: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue
        self.queue = sqs.Queue(
            self, "JobsQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # six times the worker's timeout (AWS's advice for a Lambda-fed queue): a slow batch is never offered
            # to a second worker while it still runs
            visibility_timeout=Duration.seconds(worker_timeout.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=constants.JOB_ATTEMPTS,
                                                  queue=self.dead_letter_queue),
        )

    def environment(self) -> dict[str, str]:
        """Settings field name -> value, for the server API function."""
        return {"jobs_queue_url": self.queue.queue_url}

    def run_with(self, worker: lambda_.IFunction) -> None:
        """``worker`` starts jobs (sends their first ticket) and runs their batches (consumes the queue, one ticket
        per invocation: a batch has the whole invocation's time)."""
        self.queue.grant_send_messages(worker)
        worker.add_event_source(event_sources.SqsEventSource(self.queue, batch_size=1,
                                                             report_batch_item_failures=True))
