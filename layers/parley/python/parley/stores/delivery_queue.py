"""The delivery queue (SQS): delivery work a ``send`` could not finish, for the ``deliver`` function."""

from __future__ import annotations

from parley.aws import client
from parley.models import DeliveryJob
from parley.ports import DeliveryQueue


class SqsDeliveryQueue(DeliveryQueue):
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def enqueue(self, job: DeliveryJob) -> None:
        client("sqs").send_message(QueueUrl=self._url, MessageBody=job.model_dump_json(by_alias=True))
