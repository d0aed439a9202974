"""Part: a load test of the local stack. ``clients`` users (200), each with its own ``parley_client``
connection, all sending at once: ``messages`` messages each (100), one after another (the next once the
previous is acked, as a chat app does). Users come in pairs, each pair in a direct conversation, and in
groups of ``group_size`` (5); every other message of a user goes to its group (``group_share`` 0.5), the
rest to its direct peer. The local stack runs as ``make run`` runs it (``local.stack.StackThread``: the
gateway with the real handlers, the @connections endpoint, moto in its own process), with the rate limits
raised so that they do not pace the load (every send still charges its bucket).

Checked by every client, for every message stored (acked) in its conversations by someone else: that the
app got it exactly once, and in seq order. Measured: messages (acked sends) and deliveries per second from
the first send to the last delivery, ack latency (send started -> ack) and delivery latency (send started ->
the recipient's app has it), the CPU time of the stack's process (clients included) and of moto's, and the
whole run time (stack start to stop).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.e2e import generous_rate_limits
from benchmarks.progress import ProgressFactory, silent

TEXT = "See you at 7 then :)"
# Issue 12: the local stack's end-to-end throughput before (20 clients x 25 messages, 2026-11): the goal is 3x.
BASELINE_MESSAGES_PER_S = 7.4
THROUGHPUT_GOAL = 3 * BASELINE_MESSAGES_PER_S
RUN_TIME_GOAL_S = 15 * 60
AT_ONCE = 20  # handshakes or setup requests in flight while the clients connect and open conversations
DRAIN_SECONDS = 60.0  # after the last ack, how long deliveries may still come in


@dataclass
class LoadTestResult:
    clients: int
    messages_per_client: int
    group_size: int
    group_share: float
    groups: int = 0
    sent: int = 0  # acked sends: messages stored
    group_messages: int = 0
    expected: int = 0  # deliveries owed: every stored message to each other member
    delivered: int = 0  # distinct deliveries the apps got
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    unexpected: int = 0  # deliveries of messages no sender got an ack for
    load_s: float = 0.0  # first send started -> last delivery
    setup_s: float = 0.0  # stack start, connections, conversations
    total_s: float = 0.0  # the whole part, stack start to stop
    ack_ms: dict[str, float] = field(default_factory=dict)  # p50 / p99 / max
    delivery_ms: dict[str, float] = field(default_factory=dict)
    stack_cpu_s: float = 0.0  # this process during the load: gateway, handlers, @connections, clients
    moto_cpu_s: float | None = None  # moto's process during the load (None where /proc cannot tell)
    client_stats: dict[str, int] = field(default_factory=dict)  # resends, reconnects, recovered, ...
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.sent / self.load_s if self.load_s else 0.0

    @property
    def deliveries_per_s(self) -> float:
        return self.delivered / self.load_s if self.load_s else 0.0

    def cpu_ms_per_message(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.sent else seconds / self.sent * 1000

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.out_of_order or self.unexpected)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {"p50": at(50), "p99": at(99), "max": ordered[-1]}


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of another process so far, from /proc (None where there is none)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Plan:
    """Who talks to whom: pairs in direct conversations, chunks of ``group_size`` in groups."""

    users: list[str]
    group_size: int

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(self.users[i], self.users[i + 1]) for i in range(0, len(self.users), 2)]

    @property
    def groups(self) -> list[list[str]]:
        chunks = [self.users[i:i + self.group_size] for i in range(0, len(self.users), self.group_size)]
        if len(chunks) > 1 and len(chunks[-1]) < 2:  # a group of one is no group: it joins the one before
            last = chunks.pop()
            chunks[-1] = chunks[-1] + last
        return chunks


def to_group(n: int, share: float) -> bool:
    """Whether a user's ``n``-th message goes to its group: ``share`` of them, spread evenly."""
    return int((n + 1) * share) > int(n * share)


@dataclass
class _Tally:
    started: dict[tuple[str, int], float] = field(default_factory=dict)  # (conversation, seq) -> send started
    senders: dict[tuple[str, int], str] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)
    # receiver -> conversation -> [(seq, at)] in the order its app got them
    received: dict[str, dict[str, list[tuple[int, float]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    deliveries: int = 0
    group_messages: int = 0


@dataclass
class _Conversations:
    direct: dict[str, str] = field(default_factory=dict)  # user -> its direct conversation
    group: dict[str, str] = field(default_factory=dict)  # user -> its group
    members: dict[str, list[str]] = field(default_factory=dict)  # conversation -> members


async def _set_up(clients: dict[str, Any], plan: Plan) -> _Conversations:
    """Connect every client, then open the direct conversations and groups (a few requests at a time)."""
    gate = asyncio.Semaphore(AT_ONCE)
    found = _Conversations()

    async def connect(client: Any) -> None:
        async with gate:
            await client.connect()

    async def pair(a: str, b: str) -> None:
        async with gate:
            cid = found.direct[a] = found.direct[b] = (await clients[a].open_direct(b)).conversation_id
            await clients[b].open_direct(a)
            found.members[cid] = [a, b]

    async def group(members: list[str]) -> None:
        async with gate:
            cid = (await clients[members[0]].create_group(members[1:], name="load")).conversation_id
        found.members[cid] = members
        for user in members:
            found.group[user] = cid
            clients[user].track(cid, 0)

    await asyncio.gather(*(connect(c) for c in clients.values()))
    await asyncio.gather(*(pair(a, b) for a, b in plan.pairs), *(group(m) for m in plan.groups))
    return found


async def _load(stack: Any, result: LoadTestResult, progress: ProgressFactory, timeout: float,
                moto_pid: int | None) -> None:
    from parley_client import Backoff, Message, ParleyClient

    setup_started = time.perf_counter()
    run_id = secrets.token_hex(3)
    plan = Plan([f"load-{run_id}-{i:03d}" for i in range(result.clients)], result.group_size)
    clients = {u: ParleyClient(stack.ws_url, stack.mint_token(u), backoff=Backoff(initial=0.05, maximum=1.0),
                               ack_timeout=60.0, request_timeout=60.0, open_timeout=60.0) for u in plan.users}
    conversations = await _set_up(clients, plan)
    result.groups = len(plan.groups)
    tally = _Tally()
    total = result.clients * result.messages_per_client

    async def receive(user: str) -> None:
        async for item in clients[user]:
            if isinstance(item, Message) and item.sender_id != user:
                tally.received[user][item.conversation_id].append((item.seq, time.perf_counter()))
                tally.deliveries += 1

    async def send(user: str, bar: Any) -> None:
        for n in range(result.messages_per_client):
            grouped = to_group(n, result.group_share)
            started = time.perf_counter()
            ack = await clients[user].send((conversations.group if grouped else conversations.direct)[user], TEXT,
                                           client_msg_id=f"{user[-3:]}.{n}")
            tally.ack_ms.append((time.perf_counter() - started) * 1000)
            tally.started[(ack.conversation_id, ack.seq)] = started
            tally.senders[(ack.conversation_id, ack.seq)] = user
            tally.group_messages += grouped
            bar.update()

    readers = [asyncio.create_task(receive(u)) for u in plan.users]
    stack_cpu, moto_cpu = time.process_time(), process_cpu_seconds(moto_pid)
    begin = time.perf_counter()
    result.setup_s += begin - setup_started
    try:
        async with asyncio.timeout(timeout):
            with progress("load: messages acked", total) as bar:
                await asyncio.gather(*(send(u, bar) for u in plan.users))
            owed = sum(len(conversations.members[cid]) - 1 for cid, _seq in tally.senders)
            drain_until = time.monotonic() + DRAIN_SECONDS
            while tally.deliveries < owed and time.monotonic() < drain_until:
                await asyncio.sleep(0.05)
    except TimeoutError:
        result.errors.append(f"timed out after {timeout:.0f} s with {len(tally.senders)} of {total} messages acked")
    last = max((at for conversations_got in tally.received.values() for got in conversations_got.values()
                for _seq, at in got), default=time.perf_counter())
    result.load_s = last - begin
    result.stack_cpu_s = time.process_time() - stack_cpu
    moto_after = process_cpu_seconds(moto_pid)
    result.moto_cpu_s = None if moto_cpu is None or moto_after is None else moto_after - moto_cpu
    stats: Counter[str] = Counter()
    for client in clients.values():
        stats.update({k: v for k, v in vars(client.stats).items() if isinstance(v, int)})
    result.client_stats = dict(stats)
    await asyncio.gather(*(c.close() for c in clients.values()))
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    _check(result, tally, conversations.members)


def _check(result: LoadTestResult, tally: _Tally, members: dict[str, list[str]]) -> None:
    """Exactly once and in order, for every receiver and conversation, against what was acked."""
    result.sent, result.group_messages = len(tally.senders), tally.group_messages
    owed: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for (cid, seq), sender in tally.senders.items():
        for member in members[cid]:
            if member != sender:
                owed[member].add((cid, seq))
    result.expected = sum(len(keys) for keys in owed.values())
    delivery_ms = []
    for receiver in set(owed) | set(tally.received):
        got: set[tuple[str, int]] = set()
        for cid, arrivals in tally.received.get(receiver, {}).items():
            seqs = [seq for seq, _at in arrivals]
            result.out_of_order += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
            for seq, at in arrivals:
                key = (cid, seq)
                if key in got:
                    result.duplicated += 1
                    continue
                got.add(key)
                if key in tally.started:
                    delivery_ms.append((at - tally.started[key]) * 1000)
        result.delivered += len(got & owed[receiver])
        result.lost += len(owed[receiver] - got)
        result.unexpected += len(got - owed[receiver])
    result.ack_ms, result.delivery_ms = percentiles(tally.ack_ms), percentiles(delivery_ms)


def run(*, clients: int = 200, messages: int = 100, group_size: int = 5, group_share: float = 0.5,
        timeout: float = 30 * 60, progress_factory: ProgressFactory = silent) -> LoadTestResult:
    if clients < 2 or clients % 2:
        raise ValueError("clients come in pairs")
    if not 2 <= group_size <= clients or not 0 <= group_share <= 1:
        raise ValueError("a group has 2 to `clients` members, and group_share is between 0 and 1")
    from local.settings import LocalSettings
    from local.stack import StackThread

    result = LoadTestResult(clients=clients, messages_per_client=messages, group_size=group_size,
                            group_share=group_share)
    started = time.perf_counter()
    settings = LocalSettings(ws_port=0, connections_port=0, moto_port=0, web_port=0, server_api_port=0, console_port=0,
                             log_level="WARNING",
                             token_secret=secrets.token_urlsafe(32), table_name="parley-load")
    with warnings.catch_warnings(), \
            StackThread(settings, handler_env={"PARLEY_RATE_LIMITS": generous_rate_limits()}) as stack:
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        result.setup_s = time.perf_counter() - started  # the stack's start; _load adds the clients' setup
        asyncio.run(_load(stack, result, progress_factory, timeout, stack.moto_pid))
    result.total_s = time.perf_counter() - started
    return result


def _ms(values: dict[str, float]) -> str:
    return " / ".join(f"{values[k]:,.0f}" for k in ("p50", "p99", "max")) if values else "-"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def section(r: LoadTestResult) -> str:
    """The Markdown of docs/performance.md's load test section."""
    stack_ms, moto_ms = r.cpu_ms_per_message(r.stack_cpu_s), r.cpu_ms_per_message(r.moto_cpu_s)
    cpu = f"{stack_ms:.1f} ms in the stack's process (clients included)" if stack_ms is not None else "-"
    if moto_ms is not None:
        cpu += f", {moto_ms:.1f} ms in moto's"
    stats = ", ".join(f"{k} {v:,}" for k, v in sorted(r.client_stats.items())) or "-"
    rows = [
        ["messages (acked sends) per second", f"{r.throughput:,.1f}",
         f">= {THROUGHPUT_GOAL:.1f} (3x {BASELINE_MESSAGES_PER_S})", _verdict(r.throughput >= THROUGHPUT_GOAL)],
        ["whole run (stack start to stop)", f"{r.total_s / 60:.1f} min", f"< {RUN_TIME_GOAL_S // 60} min",
         _verdict(r.total_s < RUN_TIME_GOAL_S)],
        ["lost / duplicated / out of order", f"{r.lost} / {r.duplicated} / {r.out_of_order}", "0 / 0 / 0",
         _verdict(r.exact and not r.errors)],
        ["deliveries per second", f"{r.deliveries_per_s:,.1f}", "", ""],
        ["ack latency p50 / p99 / max, ms", _ms(r.ack_ms), "", ""],
        ["delivery latency p50 / p99 / max, ms", _ms(r.delivery_ms), "", ""],
        ["CPU per message", cpu, "", ""],
    ]
    out = ["### Local load test", "",
           f"{r.clients} clients x {r.messages_per_client} messages over real sockets against the local stack: "
           f"{r.sent:,} messages acked ({r.sent - r.group_messages:,} in {r.clients // 2} direct conversations, "
           f"{r.group_messages:,} in {r.groups} groups of {r.group_size}), {r.delivered:,} of {r.expected:,} "
           f"deliveries owed; {r.load_s:.0f} s of load after {r.setup_s:.0f} s of setup.", "",
           "| | measured | goal | |", "|---|---|---|---|", *("| " + " | ".join(row) + " |" for row in rows), "",
           f"Clients: {stats}. Deliveries of messages never acked: {r.unexpected}."]
    if r.errors:
        out += ["", "Errors: " + "; ".join(r.errors)]
    return "\n".join(out)
