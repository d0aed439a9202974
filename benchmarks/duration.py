"""Lambda billed duration, modelled from what was measured: the invocation's own CPU at the CPU share its
memory size buys, plus the time it waits on AWS calls, taken from a latency table.

    billed ms = ceil( own CPU ms x CORE_FACTOR / cpu_share(memory) + wait ms )

* **Own CPU**: the process CPU of the invocation (every thread: fan-out runs in a pool) minus what in-process
  moto spent answering the calls. moto answers inside botocore's ``before-send`` event, so timing its
  ``BotocoreStubber`` (``server_cpu_metered``) isolates the server side; the client side (serializing,
  signing, parsing) stays in own CPU, as it runs in the Lambda.
* **CPU share**: Lambda allocates CPU in proportion to memory, one vCPU at 1,769 MB ("Memory and computing
  power", https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): 256 MB is 0.145 of a
  vCPU. One thread cannot use more than one vCPU, so the share stops at 1.
* **CORE_FACTOR**: this machine's x86 core against a Graviton (arm64) core, assumed 1.0 (no source gives a
  factor for this workload; a Graviton2 core is a full physical core, not a hyperthread).
* **Wait**: each call waits its service's latency (``LATENCIES``). Calls in one lane run one after another;
  the tasks of a pool batch (``benchmarks.lanes``) run on the pool's workers, each task going to the first
  worker free, and the batch lasts until its last task ends (its makespan). CPU is counted as if it never
  overlapped a wait (at a seventh of a vCPU the CPU is the scarce resource): an upper bound, by at most the
  smaller of the two terms.

Wall-clock time of this machine never enters the billed figure.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks.lanes import Batch, Lane

FULL_VCPU_MB = 1769
CORE_FACTOR = 1.0
CPU_SHARE_SOURCE = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"


def cpu_share(memory_mb: int) -> float:
    """The fraction of one vCPU a function of ``memory_mb`` gets (capped at one: handlers run one thread of
    Python at a time)."""
    return min(1.0, memory_mb / FULL_VCPU_MB)


@dataclass(frozen=True)
class Latency:
    service: str
    operations: frozenset[str]  # empty: every operation of the service not listed on its own
    ms: float
    source: str


_DYNAMODB = ("https://aws.amazon.com/dynamodb/ (\"single-digit millisecond performance at any scale\"): 5 ms, "
             "the middle of that range, is an assumption")
LATENCIES = (
    Latency("dynamodb", frozenset({"TransactWriteItems", "TransactGetItems"}), 10.0,
            "assumption: two phases (prepare, commit) of a single-digit-ms write"),
    Latency("dynamodb", frozenset({"BatchGetItem", "BatchWriteItem"}), 8.0,
            "assumption: items read or written in parallel partitions, slower than one item"),
    Latency("dynamodb", frozenset(), 5.0, _DYNAMODB),
    Latency("apigatewaymanagementapi", frozenset(), 20.0,
            "assumption, the figure issue 12 uses for one @connections post"),
    Latency("sns", frozenset(), 20.0, "assumption (SNS publishes no latency figure)"),
    Latency("sqs", frozenset(), 10.0, "assumption (SQS publishes no latency figure)"),
    Latency("secretsmanager", frozenset(), 20.0, "assumption (cached 300 s by the authorizer: rare)"),
    Latency("lambda", frozenset(), 30.0, "assumption: a synchronous invoke of a warm function"),
)
DEFAULT_LATENCY_MS = 20.0  # any other service


def call_ms(service: str, operation: str) -> float:
    for latency in LATENCIES:
        if latency.service == service and (not latency.operations or operation in latency.operations):
            return latency.ms
    return DEFAULT_LATENCY_MS


def wait_ms(lane: Lane) -> float:
    """The time ``lane`` waits on AWS: its calls in turn, each pool batch for its makespan."""
    total = 0.0
    for step in lane.steps:
        total += makespan_ms(step) if isinstance(step, Batch) else call_ms(step.service, step.operation)
    return total


def makespan_ms(batch: Batch) -> float:
    """The batch's tasks, in the order they were submitted, each on the first of ``workers`` to be free."""
    workers = [0.0] * max(1, min(batch.workers, len(batch.tasks)))
    for task in batch.tasks:
        heapq.heappush(workers, heapq.heappop(workers) + wait_ms(task))
    return max(workers)


def billed_ms(own_cpu_s: float, waited_ms: float, memory_mb: int) -> int:
    """Lambda bills duration rounded up to the millisecond (at least 1)."""
    return max(1, math.ceil(own_cpu_s * 1000 * CORE_FACTOR / cpu_share(memory_mb) + waited_ms - 1e-9))


# -- moto's side of each call ----------------------------------------------------------------------


class ServerCpu:
    """CPU seconds in-process moto spent answering calls, summed over every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


SERVER_CPU = ServerCpu()


@contextmanager
def server_cpu_metered() -> Iterator[ServerCpu]:
    """Times moto's ``before-send`` handler (where it answers a call) with the calling thread's CPU clock."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def timed(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(self, event_name, request, **kwargs)
        finally:
            SERVER_CPU.add(time.thread_time() - started)

    BotocoreStubber.__call__ = timed  # type: ignore[method-assign]
    try:
        yield SERVER_CPU
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
