"""The delivery queue (docs/protocol.md "Delivery guarantees"): where ``send`` hands the delivery work it
could not finish, the ``deliver`` function that finishes it, and the dead-letter queue for what still
fails after every attempt (an alarm watches it, see Monitoring)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class Delivery(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self, "DeliveryDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.DEAD_LETTER_RETENTION,
        )
        self.queue = sqs.Queue(
            self, "DeliveryQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's advice for a Lambda-fed queue: six times the function's timeout, so a slow attempt is
            # never offered to a second poller while it still runs.
            visibility_timeout=Duration.seconds(constants.DELIVER_TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=constants.DELIVERY_ATTEMPTS,
                                                  queue=self.dead_letter_queue),
        )

    def environment(self) -> dict[str, str]:
        """Settings field name -> value, for ``send`` (which hands work off)."""
        return {"delivery_queue_url": self.queue.queue_url}

    def grant_hand_off(self, function: lambda_.IFunction) -> None:
        self.queue.grant_send_messages(function)

    def feed(self, deliver: lambda_.IFunction) -> None:
        """``deliver`` consumes the queue; a record it fails comes back until its last attempt."""
        deliver.add_event_source(event_sources.SqsEventSource(
            self.queue, batch_size=constants.DELIVERY_BATCH_SIZE, report_batch_item_failures=True))
