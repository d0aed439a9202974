"""The rate limiter against the fake shared bucket (the same GCRA rules as the DynamoDB store)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from parley.errors import RateLimitedError
from parley.rate_limits import RateLimiter, lease_size
from tests.fakes import FakeThrottleStore


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_a_burst_is_admitted_then_refused_with_the_wait() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(FakeThrottleStore(), {"send": (5, 20)}, clock)
    for _ in range(20):
        limiter.check("send", "alice")
    with pytest.raises(RateLimitedError) as refused:
        limiter.check("send", "alice")
    assert refused.value.retry_after_ms == 200
    limiter.check("send", "bob")  # everyone has their own bucket


def test_leases_cut_shared_writes_but_never_exceed_the_limit() -> None:
    # given two Lambda instances sharing one bucket, both serving alice
    clock, shared = FrozenClock(), FakeThrottleStore()
    first, second = RateLimiter(shared, {"send": (5, 20)}, clock), RateLimiter(shared, {"send": (5, 20)}, clock)
    for i in range(20):
        (first if i % 2 else second).check("send", "alice")
    # then the burst cost 4 shared writes (leases of 5), not 20, and the limit still holds for both
    assert shared.writes == 4
    for limiter in (first, second):
        with pytest.raises(RateLimitedError):
            limiter.check("send", "alice")
    assert shared.writes == 6  # one write per refusal: a flood costs the flooder's bucket, not more
    # and a steady sender at the sustained rate is admitted, one shared write per second's worth
    for _ in range(50):
        clock.now += 200
        first.check("send", "bob")
    assert lease_size(5, 20) == 5 and lease_size(0.2, 10) == 1 and lease_size(1, 3) == 1


def test_a_slow_limit_is_never_leased() -> None:
    clock, shared = FrozenClock(), FakeThrottleStore()
    limiter = RateLimiter(shared, {"connect": (0.2, 2)}, clock)
    limiter.check("connect", "alice")
    limiter.check("connect", "alice")
    with pytest.raises(RateLimitedError):
        limiter.check("connect", "alice")
    assert shared.writes == 3


class SlowBucket(FakeThrottleStore):
    """A shared bucket whose write takes a while (a DynamoDB round trip): held until ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def take(self, kind: str, user_id: str, rate_per_second: float, burst: int, now_ms: int, count: int = 1) -> int:
        self.gate.wait(5)
        return super().take(kind, user_id, rate_per_second, burst, now_ms, count)


def test_requests_arriving_together_share_one_lease() -> None:
    # given ten requests of one user at once on one host (threads), within the burst of their bucket
    throttles = SlowBucket()
    limiter = RateLimiter(throttles, {"history": (10.0, 40)}, clock=lambda: 1_000_000)
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = [pool.submit(_refused, limiter) for _ in range(10)]
        threading.Timer(0.2, throttles.gate.set).start()  # all ten are waiting on the bucket by then
        refused = [a for a in answers if a.result()]
    # then none is refused, and they took a single lease from the shared bucket
    assert refused == [] and throttles.writes == 1


def _refused(limiter: RateLimiter) -> bool:
    try:
        limiter.check("history", "alice")
    except RateLimitedError:
        return True
    return False
