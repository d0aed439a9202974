"""Per-user rate limits: a token bucket per user and route class, in shared state, so the limit holds
across all of a user's connections and every Lambda instance."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.errors import RateLimitedError
from parley.ports import ThrottleStore


class RateLimiter:
    def __init__(self, throttles: ThrottleStore, limits: dict[str, tuple[float, int]], clock: Clock = now_ms) -> None:
        self._throttles = throttles
        self._limits = {kind: spec for kind, spec in limits.items() if spec[0] > 0}
        self._clock = clock

    def check(self, kind: str, user_id: str) -> None:
        """Raise ``RateLimitedError`` if ``user_id`` is over the ``kind`` limit; otherwise count the request."""
        spec = self._limits.get(kind)
        if spec is None:
            return
        rate, burst = spec
        wait = self._throttles.take(kind, user_id, rate, burst, self._clock())
        if wait > 0:
            raise RateLimitedError(wait)
