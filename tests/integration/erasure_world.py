"""A user with something of every kind Parley keeps, for the erasure and export tests (integration and faults),
and the reads that show what is left of them: every item kind of parley.table, read by key.

alice, the one erased, has: an open connection, a device, a block of dave and a block by erin, a direct
conversation with bob (messages both ways, an edit, a reaction on bob's message, a photo with its thumbnail and
served copy, a pending upload never sent), a group she owns with bob and carol (her messages, a report she made),
and a group she left (her message there stays hers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from parley import wiring
from parley.models import JobTicket
from tests.integration.conftest import TABLE_NAME, Chat, drained
from tests.integration.uploads import BUCKET, png, s3_event, upload
from tests.support.erasure_reads import Known, traces
from tests.support.events import sqs_record
from tests.support.handlers import invoke

APNS_TOKEN = "a1" * 32
JOBS_QUEUE = "parley-test-jobs"


@dataclass
class World:
    direct: str
    group: str
    left_group: str
    photo: str
    pending: str
    # what bob sees before the erasure: seqs of the direct conversation, and his unread count there
    direct_seqs: list[int] = field(default_factory=list)
    alice_seqs: list[int] = field(default_factory=list)


def configure_jobs(configure: Any, **extra: str) -> str:
    """The jobs queue, the moderation topic (events) with a queue capturing them, push applications: the queue."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    queue = sqs.create_queue(QueueName=JOBS_QUEUE)["QueueUrl"]
    topic = sns.create_topic(Name="parley-events")["TopicArn"]
    capture = sqs.create_queue(QueueName="events-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    apns = sns.create_platform_application(Name="ios", Platform="APNS", Attributes={
        "PlatformCredential": "key", "PlatformPrincipal": "cert"})["PlatformApplicationArn"]
    configure(PARLEY_JOBS_QUEUE_URL=queue, PARLEY_MODERATION_TOPIC_ARN=topic, PARLEY_PUSH_APNS_APPLICATION_ARN=apns,
              **extra)
    return capture


def tickets() -> list[JobTicket]:
    """Take every ticket waiting in the jobs queue, as Lambda's SQS poller does."""
    url = boto3.client("sqs").get_queue_url(QueueName=JOBS_QUEUE)["QueueUrl"]
    return [JobTicket.model_validate_json(m["Body"]) for m in drained(url)]


def run_jobs(limit: int = 1000) -> int:
    """Run the worker on every ticket until the queue is empty: how many batches ran."""
    batches = 0
    while (waiting := tickets()) and batches < limit:
        for ticket in waiting:
            wiring.jobs().run(ticket)
            batches += 1
    return batches


def run_worker(limit: int = 1000) -> int:
    """The same, through the server API function's queue worker (SQS events of up to 10 records)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=JOBS_QUEUE)["QueueUrl"]
    batches = 0
    while (batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])) and batches < limit:
        answer = invoke("server_api", {"Records": [sqs_record(m["Body"], m["MessageId"], JOBS_QUEUE) for m in batch]})
        assert answer == {"batchItemFailures": []}, answer
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        batches += len(batch)
    return batches


def build(connections_api: Any) -> World:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    carol, erin = Chat("carol", "c1").connect(), Chat("erin", "e1")
    registered = alice.call("devices", {"action": "registerDevice", "platform": "apns", "token": APNS_TOKEN})
    assert registered.get("type") != "error", registered
    alice.call("blocks", {"action": "block", "userId": "dave"})
    erin.call("blocks", {"action": "block", "userId": "alice"})

    direct = alice.open_direct("bob")
    bob.send(direct, "hi alice", "b-1")
    alice.send(direct, "hello bob", "a-1")
    alice.call("changes", {"action": "edit", "conversationId": direct, "seq": 2, "text": "hello, bob"})
    alice.call("changes", {"action": "react", "conversationId": direct, "seq": 1, "emoji": "👍"})
    photo = upload(alice, direct, png(), "image/png")
    assert invoke("thumbnails", s3_event(photo)) == {"processed": 1}
    assert alice.send_body(direct, {"text": "a photo", "attachments": [
        {"key": photo, "contentType": "image/png", "size": len(png())}]}, "a-2")["t"] == "ack"
    pending = upload(alice, direct, png(10, 10), "image/png")
    bob.send(direct, "nice", "b-2")

    group = alice.call("conversations", {"action": "createGroup", "members": ["bob", "carol"], "name": "team"})[
        "conversation"]["conversationId"]
    alice.send(group, "welcome", "a-3")
    carol.send(group, "thanks", "c-1")
    thanks = carol.send(group, "buy followers", "c-2")
    reported = alice.call("reports", {"action": "report", "conversationId": group, "seq": thanks.get("s", thanks.get(
        "seq")), "reason": "spam"})
    assert reported.get("type") == "reported", reported

    left_group = bob.call("conversations", {"action": "createGroup", "members": ["alice", "carol"],
                                            "name": "old"})["conversation"]["conversationId"]
    alice.send(left_group, "bye all", "a-4")
    assert alice.call("groups", {"action": "leave", "conversationId": left_group})["type"] != "error"
    # and a moderator's warning, then a ban in force: her ban history and her ban
    moderator = "arn:aws:iam::123456789012:role/moderator"
    wiring.services().bans.warn("alice", by=moderator, reason="first warning")
    wiring.services().bans.ban("alice", by=moderator, duration_seconds=3600, reason="spam")
    return World(direct=direct, group=group, left_group=left_group, photo=photo, pending=pending)


def traces_of(ddb: Any, s3: Any, world: World, user: str = "alice", *, authorless: bool = False) -> list[str]:
    """Every place the user is still found by key (tests/support/erasure_reads.py): empty if nothing is left."""
    known = Known(user=user, others=["bob", "carol", "dave", "erin"],
                  conversations=[world.direct, world.group, world.left_group], uploads=[world.photo, world.pending],
                  device_tokens=[APNS_TOKEN], rate_limit_kinds=sorted(wiring.get_settings().rate_limit_table))
    return traces(ddb, TABLE_NAME, known, s3=s3, bucket=BUCKET, authorless=authorless)
