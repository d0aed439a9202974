"""When to send the keepalive ``ping`` (docs/protocol.md, "Keeping a connection open").

API Gateway closes a connection that carried no message, in either direction, for 10 minutes, and mobile
carriers' NATs drop idle TCP connections too. So a ping is due once the connection has been quiet (nothing
sent, nothing received) for ``KEEPALIVE_INTERVAL_S``: half the idle timeout, so a ping delayed by a
suspended app still lands in time. Any frame counts, received ones included: a conversation that is
talking needs no pings at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

KEEPALIVE_INTERVAL_S = 300.0  # API Gateway's idle timeout is 600 s
PONG_TIMEOUT_S = 10.0  # no pong within this: the connection is dead, reconnect


class Keepalive:
    """The connection's last activity, on an injectable monotonic clock (seconds)."""

    def __init__(self, interval: float = KEEPALIVE_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("the keepalive interval must be positive")
        self.interval = interval
        self._clock = clock
        self._last = clock()

    def active(self) -> None:
        """A frame went out or came in."""
        self._last = self._clock()

    def due_in(self) -> float:
        """Seconds until a ping is due; zero or less: due now."""
        return self._last + self.interval - self._clock()
