"""How the functions that are not WebSocket routes get their events locally: from SQS queues the stack polls.

In AWS, S3 invokes the thumbnails function for each new upload and SNS invokes the notifier for each unread
event, both asynchronously (a failed invocation is retried twice), and Lambda's SQS poller feeds the deliver
function from the delivery queue. Locally, S3 and SNS deliver to an SQS queue instead (moto does that
in-process, as AWS would), and a :class:`QueueTrigger` long-polls each queue and invokes the function with
the event Lambda would have received: for S3 the notification itself (the SQS body), for SNS a
``Records[].Sns`` event built from the notification, for the delivery queue a ``Records[]`` SQS event. A
failed invocation leaves the message in the queue: it comes back after a short delay, and after three
attempts the queue's redrive policy moves it to ``<queue>-dlq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from local.lambdas import LambdaRuntime

log = logging.getLogger("parley.local.triggers")

LONG_POLL_SECONDS = 10  # how long one ReceiveMessage waits for a message (SQS allows up to 20)
MAX_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first attempt and two retries
RETRY_DELAY_SECONDS = 2  # times the attempt number; Lambda waits minutes, a laptop need not
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# Sent by the stack to its own queues when it stops, so that a waiting long poll returns at once.
WAKE_UP = {"parleyLocal": "wake-up"}

EventMaker = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str


def provision_queue(sqs: Any, name: str, *, visibility_timeout: int, sender_service: str,
                    sender_arn: str) -> Queue:
    """A queue that ``sender_service`` (``s3.amazonaws.com``, ``sns.amazonaws.com``) may send to from
    ``sender_arn`` only, with a dead-letter queue after :data:`MAX_ATTEMPTS` receives. Existing queues are
    reused and their attributes set again."""
    dead_letters = _queue(sqs, f"{name}-dlq", {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)})
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = _arn(sqs, url)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": sender_service}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": sender_arn}}}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "VisibilityTimeout": str(visibility_timeout),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters.arn, "maxReceiveCount": MAX_ATTEMPTS}),
        "Policy": json.dumps(policy),
    })
    return Queue(url, arn)


def provision_work_queue(sqs: Any, name: str, *, visibility_timeout: int) -> Queue:
    """A queue Parley's own functions send to (the delivery queue), with a dead-letter queue after
    :data:`MAX_ATTEMPTS` receives. Existing queues are reused and their attributes set again."""
    dead_letters = _queue(sqs, f"{name}-dlq", {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)})
    return _queue(sqs, name, {
        "VisibilityTimeout": str(visibility_timeout),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters.arn, "maxReceiveCount": MAX_ATTEMPTS}),
    })


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> Queue:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return Queue(url, _arn(sqs, url))


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


# -- the events Lambda would receive -------------------------------------------------------------------


def s3_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """An S3 notification as S3 sends it to Lambda; None for S3's ``s3:TestEvent``, which S3 sends to a
    queue (never to a function) when the notification is configured.

    Keys in S3 events are URL-encoded with ``/`` left as it is (``u/d_x/photo+1.jpg``); moto also encodes
    the slashes (``u%2Fd_x%2F...``). The key is re-encoded as S3 does, so the handler sees what AWS sends."""
    records = body.get("Records")
    if not isinstance(records, list):
        return None
    for record in records:
        stored = record.get("s3", {}).get("object", {}) if isinstance(record, dict) else {}
        if isinstance(stored.get("key"), str):
            stored["key"] = quote_plus(unquote_plus(stored["key"]), safe="/")
    return body


def sns_event(subscription_arn: str) -> EventMaker:
    """SNS notifications (the bodies SNS puts in a queue without raw delivery) as SNS invokes Lambda."""
    def make(body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("Type") != "Notification":
            return None
        attributes = {name: {"Type": value.get("Type", "String"), "Value": value.get("Value")}
                      for name, value in (body.get("MessageAttributes") or {}).items()}
        return {"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn,
            "Sns": {"Type": "Notification", "MessageId": body["MessageId"], "TopicArn": body["TopicArn"],
                    "Subject": body.get("Subject"), "Message": body["Message"], "Timestamp": body["Timestamp"],
                    "SignatureVersion": body.get("SignatureVersion", "1"), "Signature": body.get("Signature", ""),
                    "SigningCertUrl": body.get("SigningCertURL", ""),
                    "UnsubscribeUrl": body.get("UnsubscribeURL", ""), "MessageAttributes": attributes},
        }]}

    return make


def sqs_event(queue_arn: str, region: str) -> EventMaker:
    """A queue's own messages as Lambda's SQS event source delivers them: one record per message."""
    def make(body: dict[str, Any]) -> dict[str, Any] | None:
        raw = json.dumps(body, separators=(",", ":"))
        return {"Records": [{
            "messageId": str(uuid.uuid4()), "receiptHandle": "local", "body": raw,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "local",
                           "ApproximateFirstReceiveTimestamp": "0"},
            "messageAttributes": {}, "md5OfBody": hashlib.md5(raw.encode()).hexdigest(),  # noqa: S324 (SQS's)
            "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
        }]}

    return make


# -- the poller ----------------------------------------------------------------------------------------


class QueueTrigger:
    """Long-polls one queue on its own thread and invokes ``function`` once per message, on the stack's
    event loop (so the runtime's concurrency limit, timeout and observers apply)."""

    def __init__(self, sqs: Any, queue: Queue, runtime: LambdaRuntime, function: str, make_event: EventMaker) -> None:
        self._sqs = sqs
        self.queue = queue
        self._runtime = runtime
        self.function = function
        self._make_event = make_event
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"trigger-{function}")
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.invoked = 0
        self.failed = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"trigger-{self.function}")

    async def stop(self) -> None:
        """Stop polling: what the last poll received is still handled, then the thread ends."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            try:  # end the long poll now rather than when it times out
                await asyncio.to_thread(self._sqs.send_message, QueueUrl=self.queue.url,
                                        MessageBody=json.dumps(WAKE_UP))
            except Exception as exc:  # the poll still ends within LONG_POLL_SECONDS
                log.warning("could not wake the %s trigger up: %s", self.function, exc)
            with contextlib.suppress(Exception):
                await self._task
        self._task = None
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        self._sqs.close()  # its keep-alive connections

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping:
            try:
                messages = await loop.run_in_executor(self._executor, self._receive)
            except RuntimeError:  # the executor is shut down: the interpreter is exiting without a stop()
                return
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.warning("polling %s for %s failed: %s", self.queue.url, self.function, exc)
                await asyncio.sleep(min(failures, 5))
                continue
            failures = 0
            await asyncio.gather(*(self._handle(m) for m in messages))

    def _receive(self) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(QueueUrl=self.queue.url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=LONG_POLL_SECONDS,
                                           MessageSystemAttributeNames=["ApproximateReceiveCount"])
        return list(answer.get("Messages", []))

    async def _handle(self, message: dict[str, Any]) -> None:
        try:
            body = json.loads(message["Body"])
        except ValueError:
            body = None
        event = self._make_event(body) if isinstance(body, dict) and body != WAKE_UP else None
        if event is not None:
            self.invoked += 1
            try:
                await self._runtime.invoke(self.function, event)
            except Exception as exc:  # FunctionError: the handler raised or timed out
                self.failed += 1
                attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                log.warning("%s failed (attempt %d of %d): %s", self.function, attempt, MAX_ATTEMPTS, exc)
                await self._call(self._sqs.change_message_visibility, QueueUrl=self.queue.url,
                                 ReceiptHandle=message["ReceiptHandle"],
                                 VisibilityTimeout=RETRY_DELAY_SECONDS * attempt)
                return
        await self._call(self._sqs.delete_message, QueueUrl=self.queue.url, ReceiptHandle=message["ReceiptHandle"])

    async def _call(self, operation: Callable[..., Any], **kwargs: Any) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, lambda: operation(**kwargs))
        except Exception as exc:  # the message comes back after its visibility timeout
            log.warning("%s on %s failed: %s", getattr(operation, "__name__", "SQS call"), self.queue.url, exc)
