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

from parley import table, wiring
from parley.attachments import uploader_segment
from parley.models import JobTicket
from tests.integration.conftest import TABLE_NAME, Chat
from tests.integration.uploads import BUCKET, png, s3_event, upload
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
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=JOBS_QUEUE)["QueueUrl"]
    found: list[JobTicket] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in batch:
            found.append(JobTicket.model_validate_json(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return found


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
    return World(direct=direct, group=group, left_group=left_group, photo=photo, pending=pending)


def read(ddb: Any, pk: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=TABLE_NAME, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                               ConsistentRead=True).get("Item")
    return item


def query(ddb: Any, pk: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ddb.query(TableName=TABLE_NAME, KeyConditionExpression="pk = :pk",
                                            ExpressionAttributeValues={":pk": {"S": pk}},
                                            ConsistentRead=True)["Items"]
    return items


def traces_of(ddb: Any, s3: Any, world: World, user: str = "alice", *, authorless: bool = False) -> list[str]:
    """Every place the user could be found by key, after an erasure: empty if nothing of theirs is left. Each item
    kind of parley.table is read (the user's own partition, the pair, the blocks on the others' side, the reports,
    the token owner, the upload records, the jobs, rate-limit buckets, typing markers, every stream entry).
    ``authorless``: their id must not name the author or a recent sender of any entry either (``delete`` mode)."""
    found: list[str] = []
    found += [f"user item {i['sk']['S']}" for i in query(ddb, table.user_pk(user))]  # profile, conns, members, ...
    if read(ddb, table.direct_pair_pk(user, "bob"), table.META_SK):
        found.append("direct pair")
    for other in ("bob", "carol", "dave", "erin"):
        for sk in (table.block_sk(user), table.blocked_by_sk(user)):
            if read(ddb, table.user_pk(other), sk):
                found.append(f"block {other} {sk}")
    if read(ddb, table.push_token_pk(table.device_hash(APNS_TOKEN)), table.THROTTLE_SK):
        found.append("push token owner")
    for kind in ("erasure", "export"):
        job = read(ddb, table.job_pk(kind, user), table.JOB_SK)
        if job and kind == "export":
            found.append("export job")
    for kind in wiring.get_settings().rate_limit_table:
        if read(ddb, table.throttle_pk(kind, user, "bucket"), table.THROTTLE_SK):
            found.append(f"rate limit {kind}")
    for cid in (world.direct, world.group, world.left_group):
        if read(ddb, table.throttle_pk("typing", user, cid), table.THROTTLE_SK):
            found.append("typing")
        found += [f"report {cid}" for r in query(ddb, table.report_pk(cid)) if r["reporter"]["S"] == user]
        for entry in query(ddb, table.conversation_pk(cid)):
            if entry["sk"]["S"] == table.META_SK:
                continue
            where = f"{cid} {entry['sk']['S']}"
            mine = entry[table.ATTR_SENDER]["S"] == user
            if authorless and mine:
                found.append(f"author {where}")
            if authorless and user in entry.get(table.ATTR_RECENT_SENDERS, {}).get("M", {}):
                found.append(f"recent sender {where}")
            if mine and table.ATTR_BODY in entry:
                found.append(f"message {where}")
            if mine and "text" in entry.get(table.ATTR_CHANGE, {}).get("M", {}):
                found.append(f"edit text {where}")
            found += [f"reaction {where}" for a, v in entry.items()
                      if a.startswith(table.REACTION_PREFIX) and user in v["SS"]]
    for key in (world.photo, world.pending):
        if read(ddb, table.upload_pk(key), table.THROTTLE_SK):
            found.append(f"upload record {key}")
    segment = uploader_segment(user)
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    found += [f"object {o['Key']}" for o in listed if segment in o["Key"]]
    return found
