"""Issue 12, section 2: does a group message cost more when its offline recipient is in many conversations?

For each inbox size k (1, 20, 200 by default) a recipient R is a member of k conversations: a group {S, R},
where the sender S is online and R offline with one APNs device, plus k - 1 direct conversations with other
users, each with two messages R has not read (opened and sent through the real handlers). S sends into the
group, as ``benchmarks.cost`` measures a message; the notifier's work is all for R, its one offline
recipient (with the per-message steps: the push ledger claim, the sender's profile). The goal: the same
units whatever k.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import prices
from benchmarks.bill import Floor
from benchmarks.cost import GB, Measured, measure
from benchmarks.metering import Meter, moto_items
from benchmarks.progress import Progress
from benchmarks.sandbox import Sandbox, moto_sandbox
from benchmarks.scenarios import World

HISTORY = 2  # messages in each of the recipient's other conversations
NOTIFIER = "notifier"


@dataclass
class InboxRow:
    conversations: int  # the recipient is a member of this many
    notifier_rru: float  # per message: the notifier's reads, all for the one offline recipient
    notifier_wru: float
    notifier_calls: float
    notifier_usd: float  # per message: the notifier's DynamoDB, SNS and Lambda (requests and duration)
    message_usd: float  # per message: everything the message bills (send and notifier; no connection share)


def _user() -> str:
    return str(uuid.uuid4())


def build_inbox(sb: Sandbox, sender: str, conversations: int) -> World:
    """The recipient, offline with one device, in ``conversations`` conversations; the group with the sender."""
    recipient = _user()
    sb.connect(recipient, f"R{conversations}-conn")
    sb.register_apns(recipient, f"R{conversations}-conn", f"{conversations:04d}" + "cd" * 30)
    sb.disconnect(recipient, f"R{conversations}-conn")
    for index in range(conversations - 1):
        peer, peer_connection = _user(), f"P{conversations}-{index}"
        cid = sb.open_direct(peer, peer_connection, recipient)
        for n in range(HISTORY):
            sb.request(peer, peer_connection, {"action": "send", "conversationId": cid, "clientMsgId": f"h{n}",
                                               "body": {"text": f"message {n}"}}, "send")
    group = sb.create_group(sender, "S-conn", [recipient], f"inbox of {conversations}")
    return World(sender, "S-conn", group, Floor(apigw_messages=2, pushes=1))


def run(sizes: tuple[int, ...], *, messages: int, memory_mb: int, progress_factory: Callable[[str, int], Progress],
        warmup: int) -> list[InboxRow]:
    rows = []
    with moto_sandbox(Meter(items=moto_items())) as sb:
        sender = _user()
        sb.connect(sender, "S-conn")
        with progress_factory("cost: inbox sizes (issue 12, section 2)", len(sizes) * 2 * messages) as bar:
            for size in sizes:
                world = build_inbox(sb, sender, size)
                result = measure(sb, world, f"inbox-{size}", f"recipient in {size} conversations", messages,
                                 memory_mb, bar, warmup=warmup)
                rows.append(row(size, result.message, memory_mb))
    return rows


def row(size: int, message: Measured, memory_mb: int) -> InboxRow:
    steps = [r for name, r in message.purposes.items() if name.startswith(f"{NOTIFIER}: ")]
    calls, wru, rru, _posts, sns_requests, pushes = (sum(r[i] for r in steps) for i in range(6))
    usd = wru * prices.DYNAMODB_WRU.usd + rru * prices.DYNAMODB_RRU.usd + sns_requests * prices.SNS_REQUEST.usd \
        + pushes * prices.SNS_MOBILE_PUSH.usd
    timing = message.functions.get(NOTIFIER)
    if timing is not None:
        usd += timing.per_event * (prices.LAMBDA_REQUEST.usd + timing.billed_ms / 1000 * memory_mb / GB
                                   * prices.LAMBDA_ARM_GB_SECOND.usd)
    return InboxRow(conversations=size, notifier_rru=rru, notifier_wru=wru, notifier_calls=calls, notifier_usd=usd,
                    message_usd=message.billable.total())
