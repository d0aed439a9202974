"""Part: one busy conversation. How often a sender sees ``conflict`` as the rate of messages into one group
rises, measured on the local stack and modelled for DynamoDB's latencies (``benchmarks.seq_model``).

Locally: the local stack (``local.stack.StackThread``) with ``members`` users, each on its own WebSocket,
in one group (a fresh group for each rate). At each total rate, every member sends its share of ``sends``
messages at random (Poisson) times, not waiting for the previous ack, as several people typing at once do.
A ``conflict`` answer is counted and the message resent with the same ``clientMsgId`` at once, as apps do.
Per rate: the sends, the races the server lost (conditional puts of a message that found their seq taken,
seen through botocore's hooks in this process, where the handlers run), how many of them it retried itself,
the ``conflict`` answers clients saw, and the ack latency (first attempt to the ack, wall clock, this
machine). Every message must be acked once, at seqs 1..sends with none twice. The rate limiter stays in the
path with its limits raised so that it does not pace the load.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from benchmarks.e2e import generous_rate_limits
from benchmarks.metering import Meter
from parley import table

TEXT = "On my way, 5 min"
ANSWER_TIMEOUT_S = 120.0
RESENDS = 20  # resends of one message after retryable errors before the benchmark gives up on it
RETRYABLE = frozenset({"conflict", "throttled", "internal_error"})


@dataclass
class RateRow:
    rate: float  # offered: messages per second, all members together
    sends: int
    elapsed_s: float = 0.0  # first send to last ack
    lost_races: int = 0  # message puts that found their seq taken
    conflicts: int = 0  # conflict answers clients saw
    resends: int = 0  # frames sent again after a retryable error (conflicts included)
    latencies_ms: list[float] = field(default_factory=list)  # per acked message: first attempt to ack
    errors: list[str] = field(default_factory=list)

    @property
    def server_retries(self) -> int:
        """Lost races the server retried itself (the others ended in a conflict answer)."""
        return self.lost_races - self.conflicts

    @property
    def conflict_share(self) -> float:
        return self.conflicts / self.sends if self.sends else 0.0

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class ConflictsResult:
    members: int
    local: list[RateRow] = field(default_factory=list)
    local_error: str | None = None
    model: Any = None  # benchmarks.seq_model.ModelResult


class _Member:
    """One user's socket: sends frames and matches each answer to its clientMsgId."""

    def __init__(self, user: str, ws: ClientConnection) -> None:
        self.user = user
        self.ws = ws
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.requests: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if not isinstance(frame, dict):
                continue
            ref = frame.get("ref")
            if ref in self.requests:
                self.requests.pop(ref).set_result(frame)
                continue
            cmid = frame.get("clientMsgId")
            if frame.get("type") in ("ack", "error") and cmid in self.waiting:
                self.waiting.pop(cmid).set_result(frame)

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        ref = secrets.token_hex(6)
        answer = self.requests[ref] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({**frame, "requestId": ref}))
        return await asyncio.wait_for(answer, ANSWER_TIMEOUT_S)

    async def send(self, conversation_id: str, cmid: str) -> dict[str, Any]:
        answer = self.waiting[cmid] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"action": "send", "conversationId": conversation_id, "clientMsgId": cmid,
                                       "body": {"text": TEXT}}))
        return await asyncio.wait_for(answer, ANSWER_TIMEOUT_S)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


def _lost_races(meter: Meter, mark: int) -> int:
    return sum(1 for call in meter.since(mark)
               if call.operation == "PutItem" and call.error == "ConditionalCheckFailedException"
               and str(call.params.get("Item", {}).get(table.SK, {}).get("S", "")).startswith(table.MSG_PREFIX))


async def _rate(members: list[_Member], meter: Meter, rate: float, sends: int, rng: random.Random) -> RateRow:
    row = RateRow(rate=rate, sends=sends)
    creator = members[0]
    created = await creator.request({"action": "createGroup", "name": f"busy at {rate:g}/s",
                                     "members": [m.user for m in members[1:]]})
    conversation_id = created["conversation"]["conversationId"]
    mark = meter.mark()
    acked: dict[str, int] = {}

    async def one(member: _Member, cmid: str) -> None:
        first = time.perf_counter()
        for _attempt in range(RESENDS + 1):
            answer = await member.send(conversation_id, cmid)
            if answer.get("type") == "ack":
                row.latencies_ms.append((time.perf_counter() - first) * 1000)
                acked[cmid] = int(answer["seq"])
                return
            code = str(answer.get("code"))
            if code == "conflict":
                row.conflicts += 1
            if code not in RETRYABLE:
                row.errors.append(code)
                return
            row.resends += 1
        row.errors.append(f"{cmid} not acked after {RESENDS} resends")

    async def sender(member: _Member, count: int, share: float) -> None:
        tasks = []
        for n in range(count):
            await asyncio.sleep(rng.expovariate(share))
            tasks.append(asyncio.create_task(one(member, f"{member.user[-6:]}.{rate:g}.{n}")))
        await asyncio.gather(*tasks)

    counts = [sends // len(members) + (1 if i < sends % len(members) else 0) for i in range(len(members))]
    begin = time.perf_counter()
    try:
        await asyncio.gather(*(sender(m, c, rate / len(members)) for m, c in zip(members, counts, strict=True)))
    except TimeoutError:
        row.errors.append(f"an answer took over {ANSWER_TIMEOUT_S:.0f} s")
    row.elapsed_s = time.perf_counter() - begin
    row.lost_races = _lost_races(meter, mark)
    seqs = sorted(acked.values())
    if seqs != list(range(1, len(seqs) + 1)) or len(seqs) != sends:
        row.errors.append(f"acked seqs are not 1..{sends} once each: {len(seqs)} acks, {len(set(seqs))} distinct")
    return row


async def _load(stack: Any, meter: Meter, members: int, rates: tuple[float, ...], sends: int,
                seed: int) -> list[RateRow]:
    users = [f"busy-{i}-{secrets.token_hex(3)}" for i in range(members)]
    sockets = []
    for user in users:
        # full frames: acks carry the clientMsgId the sends wait on
        ws = await connect(f"{stack.ws_url}?token={stack.mint_token(user)}&format=full", ping_interval=None,
                           max_queue=None, open_timeout=30)
        sockets.append(_Member(user, ws))
    rng = random.Random(seed)  # noqa: S311 -- a seeded load, not cryptography
    try:
        return [await _rate(sockets, meter, rate, sends, rng) for rate in rates]
    finally:
        await asyncio.gather(*(m.close() for m in sockets), return_exceptions=True)


def run_local(*, members: int, rates: tuple[float, ...], sends: int, seed: int = 7) -> list[RateRow]:
    from local.settings import LocalSettings
    from local.stack import StackThread

    settings = LocalSettings(ws_port=0, connections_port=0, moto_port=0, web_port=0, server_api_port=0, console_port=0,
                             log_level="WARNING",
                             token_secret=secrets.token_urlsafe(32), table_name="parley-bench-conflicts")
    meter = Meter()
    with meter.installed(), warnings.catch_warnings(), \
            StackThread(settings, handler_env={"PARLEY_RATE_LIMITS": generous_rate_limits()}) as stack:
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        return asyncio.run(_load(stack, meter, members, rates, sends, seed))


def run(*, members: int, rates: tuple[float, ...], sends: int, model_sends: int, seed: int = 7) -> ConflictsResult:
    from benchmarks import seq_model

    result = ConflictsResult(members=members)
    try:
        result.local = run_local(members=members, rates=rates, sends=sends, seed=seed)
    except ImportError as exc:  # the local stack is not there
        result.local_error = f"local stack not importable: {exc}"
    result.model = seq_model.run(sends=model_sends)
    return result
