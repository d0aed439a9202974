"""The service's figures for the admin console's overview (docs/admin.md, "Where the figures come from").

Every figure is a sum of one of the metrics Parley's functions already emit (EMF, namespace ``Parley``), over
the last 5 minutes ("now") and the last 24 hours, plus the dead-letter queues' messages. In AWS they are read
from CloudWatch in one ``GetMetricData`` call (``parley.stores.cloudwatch``); on the local stack from the
stack's own counters, which count the same ``add_metric`` calls in memory (``LocalCounters``).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from parley.clock import Clock, now_ms

NAMESPACE = "Parley"
ERROR_FRAME_METRIC_PREFIX = "ErrorFrame_"  # one metric per code: ErrorFrame_rate_limited...
DEAD_LETTERED = "DeadLettered"  # the dead-letter queues' messages (SQS metrics in AWS)
BUCKET_MS = 300_000  # 5 minutes: "now"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# figure -> the metric it sums
FIGURE_METRICS = {
    "connectionsOpen": "Connections",  # less "Disconnections" (the same window)
    "activeUsers": "UsersOnline",
    "messagesSent": "MessagesSent",
    "pushesSent": "PushPushed",
    "pushesFailed": "PushFailures",
    "deadLettered": DEAD_LETTERED,
}
DISCONNECTIONS = "Disconnections"


def socket_error_codes() -> list[str]:
    from parley.errors import error_classes

    return sorted({c.code for c in error_classes() if c.socket})


def metric_names() -> list[str]:
    """Every metric the overview reads."""
    return [*FIGURE_METRICS.values(), DISCONNECTIONS,
            *(ERROR_FRAME_METRIC_PREFIX + code for code in socket_error_codes())]


class MetricSource(ABC):
    @abstractmethod
    def sums(self, names: list[str], start_ms: int, end_ms: int) -> dict[str, list[tuple[int, float]]]:
        """Per metric, its sum per 5-minute bucket from ``start_ms`` to ``end_ms``: (bucket start, sum)."""

    @abstractmethod
    def source(self, name: str) -> str:
        """Where ``name`` is read from: ``cloudwatch:<namespace>/<metric>`` or ``local:<counter>``."""


@dataclass(frozen=True)
class FigureSet:
    connections_open: int
    active_users: int
    messages_sent: int
    pushes_sent: int
    pushes_failed: int
    error_frames: dict[str, int]
    dead_lettered: int


@dataclass(frozen=True)
class Overview:
    now: FigureSet
    last_24h: FigureSet
    message_rate: list[tuple[int, int]]  # (hour start, messages), oldest first
    sources: dict[str, str]
    at: int


def _figures(totals: dict[str, float]) -> FigureSet:
    def n(name: str) -> int:
        return round(totals.get(name, 0.0))

    errors = {name[len(ERROR_FRAME_METRIC_PREFIX):]: n(name) for name in totals
              if name.startswith(ERROR_FRAME_METRIC_PREFIX) and n(name) > 0}
    return FigureSet(connections_open=max(0, n("Connections") - n(DISCONNECTIONS)),
                     active_users=n("UsersOnline"), messages_sent=n("MessagesSent"), pushes_sent=n("PushPushed"),
                     pushes_failed=n("PushFailures"), error_frames=errors, dead_lettered=n(DEAD_LETTERED))


def overview(source: MetricSource, *, clock: Clock = now_ms) -> Overview:
    at = clock()
    end = at - at % BUCKET_MS + BUCKET_MS  # the current 5-minute bucket included
    start = end - DAY_MS
    names = metric_names()
    series = source.sums(names, start, end)
    day = {name: sum(v for _, v in points) for name, points in series.items()}
    recent = {name: sum(v for t, v in points if t >= end - BUCKET_MS) for name, points in series.items()}
    hourly: dict[int, float] = {start + h * HOUR_MS: 0.0 for h in range(24)}
    for t, v in series.get("MessagesSent", []):
        hour = start + (t - start) // HOUR_MS * HOUR_MS
        if hour in hourly:
            hourly[hour] += v
    sources = {figure: source.source(metric) for figure, metric in FIGURE_METRICS.items()}
    sources["errorFrames"] = source.source(ERROR_FRAME_METRIC_PREFIX + "<code>")
    return Overview(now=_figures(recent), last_24h=_figures(day),
                    message_rate=[(t, round(v)) for t, v in sorted(hourly.items())], sources=sources, at=at)


@dataclass
class LocalCounters(MetricSource):
    """The local stack's counters: each ``add_metric`` of its functions, kept in memory for 24 hours."""

    clock: Clock = now_ms
    max_points: int = 200_000
    _points: deque[tuple[int, str, float]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, value: float) -> None:
        if not value:
            return
        now = self.clock()
        with self._lock:
            self._points.append((now, name, float(value)))
            while self._points and (len(self._points) > self.max_points or self._points[0][0] < now - DAY_MS):
                self._points.popleft()

    def clear(self) -> None:
        with self._lock:
            self._points.clear()

    def sums(self, names: list[str], start_ms: int, end_ms: int) -> dict[str, list[tuple[int, float]]]:
        wanted = set(names)
        buckets: dict[str, dict[int, float]] = {name: {} for name in names}
        with self._lock:
            points: Iterable[tuple[int, str, float]] = list(self._points)
        for t, name, value in points:
            if name in wanted and start_ms <= t < end_ms:
                bucket = t - (t - start_ms) % BUCKET_MS
                buckets[name][bucket] = buckets[name].get(bucket, 0.0) + value
        return {name: sorted(b.items()) for name, b in buckets.items()}

    def source(self, name: str) -> str:
        return f"local:{name}"


# The process's counters, on the local stack only (``PARLEY_CONSOLE_METRICS=local``): ``parley.observability``
# adds each metric here as well.
local_counters = LocalCounters()
