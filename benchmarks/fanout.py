"""Part 3: fan-out. ``send`` to a group whose members are all online, for 2, 50 and 100 recipient connections:
a group of that many members, each with one connection, the sender with a second device (so 100 is the
largest group, ``PARLEY_MAX_GROUP_MEMBERS``, and its sender's other device).

Posts go through the handlers' real botocore ``apigatewaymanagementapi`` client to a stand-in @connections
endpoint on 127.0.0.1 that answers each after ``POST_SECONDS`` (``benchmarks.connections_api``, another
process): serializing, signing and urllib3 are the handler's CPU, as in Lambda. DynamoDB is in-process moto.

Per send it reports the wall time and the handler's own CPU (``Invocation.lambda_cpu_s``: the process's CPU, every
thread, minus what in-process moto spent answering its DynamoDB calls, ``benchmarks.duration``). One more send
per size is metered with units (``benchmarks.metering``): what ``send`` reads per message.

From the own CPU it models ``send`` on Lambda at each memory size as the cost model does
(``benchmarks.duration``: own CPU / CPU share + the modelled waits on AWS, its DynamoDB calls one after another
and the posts on the fan-out pool's workers), and what that costs per million sends.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass, field
from typing import Any

from benchmarks import connections_api, duration, prices
from benchmarks.cost import TEXT, purpose, send_interval_s
from benchmarks.lambdas import Invocation, invoke, is_ack, route_body
from benchmarks.metering import AwsCall, Meter, moto_items
from benchmarks.progress import ProgressFactory
from benchmarks.sandbox import Sandbox, moto_sandbox, wait_for_idle_bucket
from parley import wiring
from tests.support.events import message_event

POST_SECONDS = 0.020
GOAL_MS = 3 * POST_SECONDS * 1000  # issue 12: p50 within three posts' time
MEMORY_SIZES = (256, 512, 1024, 1769)


@dataclass
class Modelled:
    memory_mb: int
    latency_ms: float  # billed duration: own CPU at the memory's CPU share, plus the modelled waits
    usd_per_million: float  # Lambda duration of a million such sends (arm64)


@dataclass
class FanoutResult:
    recipients: int  # connections each send posts to
    members: int
    workers: int
    runs: int
    wall_ms: list[float]
    own_cpu_ms: list[float]
    moto_cpu_ms: list[float]
    posts_per_run: float
    lookup_calls: float  # connection lookups (DynamoDB calls) per send
    wait_ms: float  # modelled AWS waits of one send (``benchmarks.duration``)
    reads: dict[str, tuple[float, float]] = field(default_factory=dict)  # purpose -> (calls, RRU) of one send
    modelled: list[Modelled] = field(default_factory=list)

    @property
    def wall_p50(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def own_cpu_p50(self) -> float:
        return statistics.median(self.own_cpu_ms)

    @property
    def read_units(self) -> float:
        return sum(rru for _calls, rru in self.reads.values())

    @property
    def read_calls(self) -> float:
        return sum(calls for calls, _rru in self.reads.values())

    def model(self, memory_mb: int) -> Modelled:
        latency = duration.billed_ms(self.own_cpu_p50 / 1000, self.wait_ms, memory_mb)
        usd = latency / 1000 * memory_mb / 1024 * prices.LAMBDA_ARM_GB_SECOND.usd * prices.MILLION
        return Modelled(memory_mb=memory_mb, latency_ms=latency, usd_per_million=usd)


def _is_lookup(call: AwsCall) -> bool:
    return call.service == "dynamodb" and purpose(call).startswith("connections of")


def _workers() -> int:
    fanout = wiring.services().fanout
    return int(getattr(fanout, "workers", 0) or getattr(wiring.get_settings(), "fanout_workers", 0))


def measure(sb: Sandbox, api: connections_api.ConnectionsApi, recipients: int, runs: int,
            progress: Any) -> FanoutResult:
    """A group of ``recipients`` members, the sender with a second device: ``recipients`` posts per send."""
    users = [str(uuid.uuid4()) for _ in range(recipients)]
    sender, sending = users[0], f"F{recipients}-conn-0"
    for i, user in enumerate(users):
        sb.connect(user, f"F{recipients}-conn-{i}")
    sb.connect(sender, f"F{recipients}-conn-0b")  # the sender's other device
    cid = sb.create_group(sender, sending, users[1:], f"fan-out {recipients}")
    interval = send_interval_s()
    last = 0.0
    timed: list[Invocation] = []
    accounted: Invocation | None = None
    posts_before = api.posts
    for n in range(runs + 2):  # the first warms the pool and the clients; the last is metered with units
        last = wait_for_idle_bucket(last, interval)
        body = {"action": "send", "conversationId": cid, "clientMsgId": f"fan{recipients}x{n}", "body": {"text": TEXT}}
        sb.meter.accounting = n == runs + 1
        invocation = invoke(sb.meter, "send", message_event(sender, sending, body))
        sb.meter.accounting = True
        if not is_ack(route_body(invocation)):
            raise RuntimeError(f"send was not acked: {route_body(invocation)}")
        if n == runs + 1:
            accounted = invocation
        elif n:
            timed.append(invocation)
        progress.update()
    posts = api.posts - posts_before
    workers = _workers()
    assert accounted is not None
    reads: dict[str, tuple[float, float]] = {}
    for call in accounted.calls:
        if call.service == "dynamodb" and call.rru:
            calls, rru = reads.get(purpose(call), (0.0, 0.0))
            reads[purpose(call)] = (calls + 1, rru + call.rru)
    result = FanoutResult(
        recipients=recipients, members=len(users), workers=workers, runs=runs,
        wall_ms=[i.wall_s * 1000 for i in timed],
        own_cpu_ms=[i.lambda_cpu_s * 1000 for i in timed],
        moto_cpu_ms=[i.server_cpu_s * 1000 for i in timed],
        posts_per_run=posts / (runs + 2),
        lookup_calls=statistics.fmean(sum(1 for c in i.calls if _is_lookup(c)) for i in timed),
        wait_ms=statistics.median(i.waited_ms for i in timed), reads=reads)
    result.modelled = [result.model(mb) for mb in MEMORY_SIZES]
    return result


def run(*, recipient_counts: tuple[int, ...], runs: int, progress_factory: ProgressFactory) -> list[FanoutResult]:
    results = []
    with progress_factory("fan-out", (runs + 2) * len(recipient_counts)) as bar, \
            connections_api.running(POST_SECONDS) as api, \
            moto_sandbox(Meter(items=moto_items()), env={"PARLEY_CALLBACK_URL": api.callback_url()}) as sb:
        for count in recipient_counts:
            results.append(measure(sb, api, count, runs, bar))
    return results
