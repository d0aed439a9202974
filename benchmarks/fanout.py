"""Part 3: fan-out. ``send`` to a group whose other members are all online, against an @connections
API that takes ``POST_SECONDS`` per post (``parley.stores.management_api.client`` is patched, as the integration tests
patch it). Posts run in parallel (``parley.fanout``, ``PARLEY_FANOUT_WORKERS``), so 50 recipients should
cost about 5 posts of wall time, not 50.

Per invocation it reports the wall time, the time spent looking up the members' connections, and our
own code's CPU: process CPU minus the CPU spent inside botocore calls (which, with in-process moto,
includes moto's own work).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks.cost import TEXT, send_interval_s
from benchmarks.lambdas import Invocation, invoke, is_ack, route_body
from benchmarks.metering import Meter
from benchmarks.progress import ProgressFactory
from benchmarks.sandbox import Sandbox, moto_sandbox, wait_for_idle_bucket
from parley import aws
from parley.config import get_settings
from tests.support.events import message_event

POST_SECONDS = 0.020


class SlowConnectionsApi:
    """A boto3-like @connections client whose every post takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        import boto3

        self.exceptions = boto3.client("apigatewaymanagementapi", endpoint_url="https://example.invalid/x",
                                       region_name="us-east-1").exceptions
        self._delay = delay
        self.posts = 0

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        time.sleep(self._delay)
        self.posts += 1
        return {}


@contextmanager
def slow_connections(delay: float) -> Iterator[SlowConnectionsApi]:
    from parley.stores import management_api

    fake = SlowConnectionsApi(delay)
    real = management_api.client

    def client(service: str, endpoint_url: str | None = None) -> Any:
        return fake if service == "apigatewaymanagementapi" else aws.client(service, endpoint_url)

    setattr(management_api, "client", client)  # noqa: B010 (a patch, as the integration tests do)
    try:
        yield fake
    finally:
        setattr(management_api, "client", real)  # noqa: B010


@dataclass
class FanoutResult:
    recipients: int
    workers: int
    runs: int
    wall_ms: list[float]
    lookup_ms: list[float]  # wall time of the connection lookups (first to last Query of CONN#)
    own_cpu_ms: list[float]
    aws_cpu_ms: list[float]
    posts_per_run: float

    @property
    def wall_p50(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def budget_ms(self) -> float:
        return 5 * POST_SECONDS * 1000


def _lookup_window_ms(invocation: Invocation) -> float:
    queries = [c for c in invocation.calls if c.operation == "Query"
               and c.params.get("ExpressionAttributeValues", {}).get(":prefix", {}).get("S") == "CONN#"]
    if not queries:
        return 0.0
    return (max(c.started + c.wall_s for c in queries) - min(c.started for c in queries)) * 1000


def measure(sb: Sandbox, recipients: int, runs: int, progress: Any) -> FanoutResult:
    users = [str(uuid.uuid4()) for _ in range(recipients + 1)]
    for i, user in enumerate(users):
        sb.connect(user, f"F{recipients}-conn-{i}")
    cid = sb.create_group(users[0], f"F{recipients}-conn-0", users[1:], f"fan-out {recipients}")
    interval = send_interval_s()
    last = 0.0
    results: list[Invocation] = []
    with slow_connections(POST_SECONDS) as api:
        for n in range(runs + 1):  # the first one warms the pool and the clients
            last = wait_for_idle_bucket(last, interval)
            body = {"action": "send", "conversationId": cid, "clientMsgId": f"fan.{recipients}.{n}",
                    "body": {"text": TEXT}}
            invocation = invoke(sb.meter, "send", message_event(users[0], f"F{recipients}-conn-0", body))
            if not is_ack(route_body(invocation)):
                raise RuntimeError(f"send was not acked: {route_body(invocation)}")
            if n:
                results.append(invocation)
            progress.update()
        posts = api.posts
    return FanoutResult(recipients=recipients, workers=get_settings().fanout_workers, runs=runs,
                        wall_ms=[i.wall_s * 1000 for i in results],
                        lookup_ms=[_lookup_window_ms(i) for i in results],
                        own_cpu_ms=[i.own_cpu_s * 1000 for i in results],
                        aws_cpu_ms=[i.aws_cpu_s * 1000 for i in results],
                        posts_per_run=posts / (runs + 1))


def run(*, recipient_counts: tuple[int, ...], runs: int, progress_factory: ProgressFactory,
        more_workers: int | None = 64) -> list[FanoutResult]:
    """Each count with the default workers; the largest also with ``more_workers`` (a sensitivity row)."""
    results = []
    total = (runs + 1) * (len(recipient_counts) + (1 if more_workers else 0))
    with progress_factory("fan-out", total) as bar:
        with moto_sandbox(Meter()) as sb:  # counts and times calls; no units needed here
            for count in recipient_counts:
                results.append(measure(sb, count, runs, bar))
        if more_workers:
            with moto_sandbox(Meter(), env={"PARLEY_FANOUT_WORKERS": str(more_workers)}) as sb:
                results.append(measure(sb, max(recipient_counts), runs, bar))
    return results
