"""Part 4: end to end on this machine. ``clients`` clients in pairs, each pair in a direct conversation;
every client sends ``messages`` messages to its peer, one after another (the next once the previous is
acked, as a chat app does), all clients at once. Measured: throughput (messages delivered per second)
and the delivery latency (from the sender starting ``send`` to the peer's client handing the message to
the app), and whether every message arrived exactly once and in order.

Twice, in the same run: against the local stack (``local.stack.StackThread``: the WebSocket gateway
running the real handlers in-process, its @connections endpoint and moto's server) with the Python client
``parley_client``, and against a bare ``websockets`` relay (``benchmarks.relay``) with the same clients
and messages -- the ceiling of this machine and library. The local stack's rate limits stay in the path
(every send still charges its bucket) with the limits raised, so they do not pace the load.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from benchmarks.relay import RelayClient, RelayThread
from parley.config import Settings

TEXT = "See you at 7 then :)"


@dataclass
class Delivery:
    receiver: str
    conversation_id: str
    seq: int
    sender: str
    client_msg_id: str
    at: float


@dataclass
class LoadResult:
    name: str
    clients: int
    messages_per_client: int
    elapsed_s: float
    latencies_ms: list[float]
    lost: int
    duplicated: int
    out_of_order: int
    errors: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.delivered / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def generous_rate_limits(rate: int = 100_000) -> str:
    """Every default rate limit raised to ``rate`` per second (and burst): limits stay in the path."""
    default = str(Settings.model_fields["rate_limits"].default)
    kinds = [entry.split("=", 1)[0].strip() for entry in default.split(",") if entry.strip()]
    return ",".join(f"{kind}={rate}:{rate}" for kind in kinds)


def check(name: str, clients: int, messages: int, sent: dict[str, list[str]], peers: dict[str, str],
          deliveries: list[Delivery], started: dict[str, float], elapsed: float) -> LoadResult:
    """Exactly once and in order: each receiver got its peer's messages, each once, in the order sent."""
    lost = duplicated = out_of_order = 0
    by_receiver: dict[str, list[Delivery]] = {}
    for d in deliveries:
        by_receiver.setdefault(d.receiver, []).append(d)
    for receiver, peer in peers.items():
        got = [d for d in by_receiver.get(receiver, []) if d.sender == peer]
        ids = [d.client_msg_id for d in got]
        duplicated += len(ids) - len(set(ids))
        lost += len(set(sent[peer]) - set(ids))
        unique = list(dict.fromkeys(ids))
        expected = [c for c in sent[peer] if c in set(unique)]
        out_of_order += sum(1 for a, b in zip(unique, expected, strict=True) if a != b)
        seqs = [d.seq for d in by_receiver.get(receiver, [])]
        out_of_order += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
    latencies = [(d.at - started[d.client_msg_id]) * 1000 for d in deliveries if d.client_msg_id in started]
    return LoadResult(name=name, clients=clients, messages_per_client=messages, elapsed_s=elapsed,
                      latencies_ms=latencies, lost=lost, duplicated=duplicated, out_of_order=out_of_order)


async def _parley_load(stack: Any, clients: int, messages: int, timeout: float) -> LoadResult:
    from parley_client import Backoff, Message, ParleyClient

    users = [f"bench-{i:03d}-{secrets.token_hex(4)}" for i in range(clients)]
    peers = {users[i]: users[i ^ 1] for i in range(clients)}
    conns = {u: ParleyClient(stack.ws_url, stack.mint_token(u), backoff=Backoff(initial=0.05, maximum=0.5),
                             ack_timeout=20.0, request_timeout=20.0) for u in users}
    await asyncio.gather(*(c.connect() for c in conns.values()))
    conversation: dict[str, str] = {}
    for i in range(0, clients, 2):
        a, b = users[i], users[i + 1]
        opened = await conns[a].open_direct(b)
        await conns[b].open_direct(a)
        conversation[a] = conversation[b] = opened.conversation_id
    deliveries: list[Delivery] = []
    started: dict[str, float] = {}
    sent: dict[str, list[str]] = {u: [] for u in users}
    sent_as: dict[str, str] = {}  # messageId -> clientMsgId, from the acks
    expected = clients * messages

    async def receive(user: str) -> None:
        async for item in conns[user]:
            if isinstance(item, Message) and item.sender_id != user:
                # A compact message frame carries no clientMsgId: its id stands in until the ack names it.
                deliveries.append(Delivery(user, item.conversation_id, item.seq, item.sender_id,
                                           item.client_msg_id or item.message_id, time.perf_counter()))

    async def send(user: str) -> None:
        for n in range(messages):
            cmid = f"{user[-8:]}.{n}"
            sent[user].append(cmid)
            started[cmid] = time.perf_counter()
            ack = await conns[user].send(conversation[user], TEXT, client_msg_id=cmid)
            sent_as[ack.message_id] = cmid

    readers = [asyncio.create_task(receive(u)) for u in users]
    begin = time.perf_counter()
    errors: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(send(u) for u in users))
            while len(deliveries) < expected:
                await asyncio.sleep(0.01)
    except TimeoutError:
        errors.append(f"timed out after {timeout:.0f} s with {len(deliveries)} of {expected} delivered")
    elapsed = (max((d.at for d in deliveries), default=time.perf_counter())) - begin
    await asyncio.gather(*(c.close() for c in conns.values()))
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    deliveries = [dataclasses.replace(d, client_msg_id=sent_as.get(d.client_msg_id, d.client_msg_id))
                  for d in deliveries]
    result = check("local stack + parley_client", clients, messages, sent, peers, deliveries, started, elapsed)
    result.errors = errors
    return result


async def _relay_load(url: str, clients: int, messages: int, timeout: float) -> LoadResult:
    users = [f"relay-{i:03d}-{secrets.token_hex(4)}" for i in range(clients)]
    peers = {users[i]: users[i ^ 1] for i in range(clients)}
    deliveries: list[Delivery] = []
    started: dict[str, float] = {}
    sent: dict[str, list[str]] = {u: [] for u in users}
    conns = {u: RelayClient(url, u, lambda d: deliveries.append(Delivery(**d, at=time.perf_counter())))
             for u in users}
    await asyncio.gather(*(c.connect() for c in conns.values()))

    async def send(user: str) -> None:
        conversation = "|".join(sorted((user, peers[user])))
        for n in range(messages):
            cmid = f"{user[-8:]}.{n}"
            sent[user].append(cmid)
            started[cmid] = time.perf_counter()
            await conns[user].send(conversation, peers[user], TEXT, cmid)

    begin = time.perf_counter()
    errors: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(send(u) for u in users))
            while len(deliveries) < clients * messages:
                await asyncio.sleep(0.005)
    except TimeoutError:
        errors.append(f"timed out with {len(deliveries)} delivered")
    elapsed = (max((d.at for d in deliveries), default=time.perf_counter())) - begin
    await asyncio.gather(*(c.close() for c in conns.values()))
    result = check("bare websockets relay", clients, messages, sent, peers, deliveries, started, elapsed)
    result.errors = errors
    return result


@dataclass
class E2EResult:
    parley: LoadResult | None
    relay: LoadResult
    stack_error: str | None = None


def run(*, clients: int, messages: int, timeout: float = 300.0) -> E2EResult:
    if clients % 2:
        raise ValueError("clients come in pairs")
    with RelayThread() as relay:
        relay_result = asyncio.run(_relay_load(relay.url, clients, messages, timeout))
    try:
        from local.settings import LocalSettings
        from local.stack import StackThread
    except ImportError as exc:  # the local stack is not there (yet)
        return E2EResult(parley=None, relay=relay_result, stack_error=f"local stack not importable: {exc}")
    settings = LocalSettings(ws_port=0, connections_port=0, moto_port=0, web_port=0, server_api_port=0, console_port=0,
                             log_level="WARNING",
                             token_secret=secrets.token_urlsafe(32), table_name="parley-bench")
    with warnings.catch_warnings(), \
            StackThread(settings, handler_env={"PARLEY_RATE_LIMITS": generous_rate_limits()}) as stack:
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        parley_result = asyncio.run(_parley_load(stack, clients, messages, timeout))
    return E2EResult(parley=parley_result, relay=relay_result)


def summary(result: LoadResult) -> dict[str, float]:
    return {"clients": result.clients, "messages": result.delivered, "elapsed_s": result.elapsed_s,
            "throughput": result.throughput, "p50_ms": result.percentile(50), "p99_ms": result.percentile(99),
            "mean_ms": statistics.fmean(result.latencies_ms) if result.latencies_ms else float("nan")}
