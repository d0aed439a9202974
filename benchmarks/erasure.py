"""Issue 14: is erasing a user bounded for a user with 100,000 messages? (and exporting one, the same walk)

A user U with ``messages`` messages, spread over ``conversations`` direct conversations whose peers wrote a tenth
as many (their entries are read by the walk, not written), is erased through the real job service
(``parley.jobs``, ``parley.erasure``) on in-process moto: every batch is one worker invocation, run from its
ticket on the jobs queue. The items are seeded straight into the table in the shapes the stores write
(``entry_item``, ``member_item``): going through the socket handlers would take hours and measure nothing of the
erasure.

Each batch is metered (``benchmarks.metering``: billing units from item sizes) and its Lambda duration modelled
(``benchmarks.duration``): the invocation's own CPU (process CPU minus what moto spent answering) at the CPU
share of the server API function's memory, plus the calls' latencies, the stream's writes running 16 at a time
(``parley.erasure``'s pool). The figures: batches, entries erased per second of a batch, the modelled wall time of
the whole job (batches run one after another: each hands the next to the queue), and what it costs.

``python -m benchmarks.erasure [--messages 100000] [--mode tombstone|delete]`` prints the Markdown table.
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from benchmarks import prices
from benchmarks.duration import SERVER_CPU, billed_ms, call_ms, cpu_share, server_cpu_metered
from benchmarks.metering import Meter, Totals, moto_items
from benchmarks.sandbox import BASE_ENV, TABLE_NAME, environment
from parley import aws, table
from parley.models import Conversation, ConversationKind, JobKind, JobStatus, JobTicket, Message, MessageBody

MEMORY_MB = 256  # the server API function's memory (infra/constants.py MEMORY_MB)
LARGER_MB = 1024  # what the figures would be with more memory (more CPU) for the function
WRITERS = 16  # parley.erasure._WRITERS: stream writes in flight at once
SQS_SEND = 10.0  # ms (benchmarks.duration LATENCIES)
_BATCH_WRITE = 25


@dataclass
class ErasureFigures:
    mode: str
    messages: int  # the user's messages
    entries: int  # stream entries the walk read (theirs and their peers')
    batches: int
    batch_items: int
    erased_per_batch_s: float  # the user's entries erased per second of a batch, at the Lambda's CPU
    batch_ms_p50: int  # modelled billed duration of one conversation batch
    batch_ms_max: int
    wall_s: float  # modelled: every batch one after another, plus the queue hop between them
    wru: float
    rru: float
    lambda_usd: float
    usd: float  # DynamoDB, Lambda (requests and duration) and SQS
    wall_s_larger: float  # the whole job at LARGER_MB
    usd_larger: float


def _seed(ddb: Any, user: str, messages: int, conversations: int) -> int:
    """The user's conversations with their messages, interleaved with their peers' (one in ten): entries made."""
    now = int(time.time() * 1000)
    entries = 0
    per_conversation = math.ceil(messages / conversations)
    requests: list[dict[str, Any]] = []

    def put(item: dict[str, Any]) -> None:
        requests.append({"PutRequest": {"Item": item}})
        if len(requests) == _BATCH_WRITE:
            flush()

    def flush() -> None:
        pending: dict[str, Any] = {TABLE_NAME: list(requests)}
        requests.clear()
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    from parley.stores.conversations import member_item, meta_item
    from parley.stores.messages import entry_item

    left = messages
    for c in range(conversations):
        peer = f"peer-{c}"
        conversation = Conversation(conversation_id=f"d_bench{c:06d}", kind=ConversationKind.DIRECT,
                                    members=tuple(sorted((user, peer))), created_by=user, created_at=now)
        put(meta_item(conversation))
        put(member_item(user, conversation))
        put(member_item(peer, conversation))
        seq = 0
        mine_here = min(left, per_conversation)
        for n in range(mine_here + mine_here // 10):
            seq += 1
            ordinal = seq  # every entry a message
            sender = peer if n % 11 == 10 else user
            put(entry_item(Message(
                conversation_id=conversation.conversation_id, seq=seq, sender_id=sender, sent_at=now + seq,
                client_msg_id=uuid.uuid4().hex[:12], ordinal=ordinal,
                body=MessageBody(text="a message of about sixty characters, as chat messages often are"),
                recent_senders={user: (seq, ordinal), peer: (max(seq - 1, 1), max(ordinal - 1, 1))})))
        entries += seq
        left -= mine_here
        if left <= 0:
            break
    if requests:
        flush()
    return entries


def _batch_wait_ms(calls: list[Any]) -> float:
    """The batch's waits: its stream writes 16 at a time, every other call in turn."""
    stream_writes = [c for c in calls if c.service == "dynamodb" and c.operation in ("UpdateItem", "PutItem")
                     and "MSG#" in str(c.params.get("Key", c.params.get("Item", {})).get("sk", ""))]
    others = [c for c in calls if c not in stream_writes]
    waves = math.ceil(len(stream_writes) / WRITERS)
    return waves * call_ms("dynamodb", "UpdateItem") + sum(call_ms(c.service, c.operation) for c in others)


def run(*, messages: int = 100_000, conversations: int = 10, mode: str = "tombstone",
        batch_items: int = 200) -> ErasureFigures:
    meter = Meter(moto_items())
    env = {**BASE_ENV, "PARLEY_ERASURE_MESSAGES": mode, "PARLEY_JOB_BATCH_ITEMS": str(batch_items),
           "PARLEY_UPLOADS_BUCKET": None, "PARLEY_CALLBACK_URL": None, "PARLEY_MODERATION_TOPIC_ARN": None}
    from moto import mock_aws

    with environment(env), mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(**table.TABLE.create_table_kwargs(TABLE_NAME))
        queue = boto3.client("sqs").create_queue(QueueName="parley-jobs")["QueueUrl"]
        user = "erased-user"
        entries = _seed(ddb, user, messages, conversations)
        with environment({"PARLEY_JOBS_QUEUE_URL": queue}), meter.installed(), server_cpu_metered():
            aws.reset_clients()
            from parley.wiring import jobs

            sqs = boto3.client("sqs")
            jobs().start(JobKind.ERASURE, user, mode=mode)
            per_batch: list[tuple[int, int, Totals]] = []  # (billed ms, entries erased, units)
            larger: list[int] = []  # billed ms at LARGER_MB
            while True:
                received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get("Messages", [])
                if not received:
                    break
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=received[0]["ReceiptHandle"])
                mark, cpu0, server0 = meter.mark(), time.process_time(), SERVER_CPU.seconds
                before = jobs().status(JobKind.ERASURE, user)
                after = jobs().run(JobTicket.model_validate_json(received[0]["Body"]))
                calls = meter.since(mark)
                own_cpu = max(0.0, time.process_time() - cpu0 - (SERVER_CPU.seconds - server0))
                erased = sum((after.counts if after else {}).values()) - sum((before.counts if before else {})
                                                                              .values())
                waited = _batch_wait_ms(calls)
                per_batch.append((billed_ms(own_cpu, waited, MEMORY_MB), erased, Totals.of(calls)))
                larger.append(billed_ms(own_cpu, waited, LARGER_MB))
            done = jobs().status(JobKind.ERASURE, user)
            assert done is not None and done.status is JobStatus.DONE, done
    walking = sorted(ms for ms, erased, _ in per_batch if erased)
    total_ms = sum(ms for ms, _, _ in per_batch) + len(per_batch) * SQS_SEND
    wru = sum(t.wru for _, _, t in per_batch)
    rru = sum(t.rru for _, _, t in per_batch)
    sqs_requests = 3 * len(per_batch)  # send, receive, delete per ticket
    gb_s = sum(ms for ms, _, _ in per_batch) / 1000 * MEMORY_MB / 1024
    lambda_usd = gb_s * prices.LAMBDA_ARM_GB_SECOND.usd + len(per_batch) * prices.LAMBDA_REQUEST.usd
    usd = (wru * prices.DYNAMODB_WRU.usd + rru * prices.DYNAMODB_RRU.usd + lambda_usd
           + sqs_requests * prices.SQS_REQUEST.usd)
    erased_total = sum(e for _, e, _ in per_batch)
    lambda_larger = (sum(larger) / 1000 * LARGER_MB / 1024 * prices.LAMBDA_ARM_GB_SECOND.usd
                     + len(per_batch) * prices.LAMBDA_REQUEST.usd)
    return ErasureFigures(
        mode=mode, messages=messages, entries=entries, batches=len(per_batch), batch_items=batch_items,
        erased_per_batch_s=erased_total / (sum(walking) / 1000) if walking else 0.0,
        batch_ms_p50=walking[len(walking) // 2] if walking else 0, batch_ms_max=walking[-1] if walking else 0,
        wall_s=total_ms / 1000, wru=wru, rru=rru, lambda_usd=lambda_usd, usd=usd,
        wall_s_larger=(sum(larger) + len(per_batch) * SQS_SEND) / 1000, usd_larger=usd - lambda_usd + lambda_larger)


def markdown(rows: list[ErasureFigures]) -> str:
    lines = [
        f"| mode | user's messages | entries walked | batches ({rows[0].batch_items} entries each) | "
        "entries erased per second of a batch | one batch, p50 / max (modelled, "
        f"{MEMORY_MB} MB at {cpu_share(MEMORY_MB):.3f} vCPU) | whole job, wall time (modelled) | WRU | RRU | cost | "
        f"whole job at {LARGER_MB} MB: wall time, cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.mode} | {r.messages:,} | {r.entries:,} | {r.batches:,} | {r.erased_per_batch_s:,.0f} | "
              f"{r.batch_ms_p50:,} / {r.batch_ms_max:,} ms | {r.wall_s:,.0f} s ({r.wall_s / 60:.1f} min) | "
              f"{r.wru:,.0f} | {r.rru:,.0f} | ${r.usd:.4f} | {r.wall_s_larger:,.0f} s, ${r.usd_larger:.4f} |"
              for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--mode", choices=["tombstone", "delete"], action="append")
    parser.add_argument("--batch-items", type=int, default=200)
    args = parser.parse_args()
    started = time.monotonic()
    rows = [run(messages=args.messages, conversations=args.conversations, mode=mode, batch_items=args.batch_items)
            for mode in args.mode or ["tombstone"]]
    print(markdown(rows))
    print(f"\n(measured in {time.monotonic() - started:.0f} s on this machine, in-process moto)")


if __name__ == "__main__":
    main()
