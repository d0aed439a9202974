"""Per-user rate limits: a token bucket per user and route class, in shared state, so the limit holds
across all of a user's connections and every Lambda instance.

Each Lambda instance takes tokens from the shared bucket in small leases (about a second's worth), so a
steady sender costs one conditional write per lease, not per request. A lease is paid for in the shared
bucket before any of its tokens is spent, so no user can ever exceed the limit; at worst a user is limited
slightly early while leased tokens sit unused in another instance.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from parley.clock import Clock, now_ms
from parley.errors import RateLimitedError
from parley.ports import ThrottleStore

MAX_LEASES = 10_000  # users remembered per instance (least recently limited first out)


def lease_size(rate_per_second: float, burst: int) -> int:
    """Tokens per lease: one second's worth, at most a quarter of the burst, at least one."""
    return max(1, min(math.floor(rate_per_second), burst // 4))


class RateLimiter:
    def __init__(self, throttles: ThrottleStore, limits: dict[str, tuple[float, int]], clock: Clock = now_ms) -> None:
        self._throttles = throttles
        self._limits = {kind: spec for kind, spec in limits.items() if spec[0] > 0}
        self._clock = clock
        self._leases: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._taking: OrderedDict[tuple[str, str], threading.Lock] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, kind: str, user_id: str) -> None:
        """Raise ``RateLimitedError`` if ``user_id`` is over the ``kind`` limit; otherwise count the request."""
        spec = self._limits.get(kind)
        if spec is None:
            return
        if self._spend_leased(kind, user_id):
            return
        # One lease at a time per user and kind in this instance: requests that arrive together (threads of
        # one host, as in the local stack) share it instead of each taking a lease of its own.
        with self._lock_for(kind, user_id):
            if self._spend_leased(kind, user_id):
                return
            self._take(kind, user_id, spec)

    def _take(self, kind: str, user_id: str, spec: tuple[float, int]) -> None:
        rate, burst = spec
        now = self._clock()
        size = lease_size(rate, burst)
        wait = self._throttles.take(kind, user_id, rate, burst, now, count=size)
        if wait == 0:
            self._keep(kind, user_id, size - 1)
            return
        if size > 1:  # not a whole lease: is there one token?
            single_wait = wait - (size - 1) * max(1, round(1000 / rate))
            if single_wait > 0:
                raise RateLimitedError(single_wait)  # no: refused without a second write
            wait = self._throttles.take(kind, user_id, rate, burst, now)
            if wait == 0:
                return
        raise RateLimitedError(wait)

    def _lock_for(self, kind: str, user_id: str) -> threading.Lock:
        with self._lock:
            lock = self._taking.get((kind, user_id))
            if lock is None:
                lock = self._taking[(kind, user_id)] = threading.Lock()
                while len(self._taking) > MAX_LEASES:
                    self._taking.popitem(last=False)
            return lock

    def _spend_leased(self, kind: str, user_id: str) -> bool:
        with self._lock:
            left = self._leases.get((kind, user_id), 0)
            if left <= 0:
                return False
            self._leases[(kind, user_id)] = left - 1
            self._leases.move_to_end((kind, user_id))
            return True

    def _keep(self, kind: str, user_id: str, tokens: int) -> None:
        if tokens <= 0:
            return
        with self._lock:
            self._leases[(kind, user_id)] = tokens
            self._leases.move_to_end((kind, user_id))
            while len(self._leases) > MAX_LEASES:
                self._leases.popitem(last=False)
