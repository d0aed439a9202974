"""A model of one busy conversation on DynamoDB: how often ``send`` loses the race for the next ``seq``, and
what its retries cost, at DynamoDB's latencies rather than the local stack's.

``send`` reads the conversation head (a strongly consistent Query), reads who blocked the sender (a second
Query), builds the message and puts it at head + 1 with a conditional PutItem. A put that finds its seq
taken has lost a race. The model is a discrete-event simulation of that path for sends arriving at random
(Poisson) at a given total rate in one conversation, with every call's latency drawn from a lognormal
distribution fitted to an assumed p50 and p99 (``Latencies``). DynamoDB applies each call at one instant on
the server; the model puts that instant in the middle of the call's round trip, so a Query sees every put
applied before it, and a put wins its seq when it arrives there first.

Two retry policies (``Policy``): the one before issue 12 (a lost race re-reads the head and puts at the new
head + 1, five attempts in all) and the one ``parley.messaging`` has now (a lost race puts at the next seq
straight away, carrying the state forward from the message that won, up to ``SEQ_RACE_PUTS`` puts). A send
that runs out of attempts answers ``conflict``; the client resends, which the model counts but does not
replay (a resend is a new send to the conversation).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from parley.messaging import SEQ_RACE_PUTS

CONFLICT_SHARE_LIMIT = 0.001  # "clients start to see conflict": more than 0.1 % of sends
GOAL_RATE = 100.0  # messages per second in one conversation without a client seeing conflict


@dataclass(frozen=True)
class Lognormal:
    """A latency in ms, lognormal with the given median (p50) and 99th percentile."""

    p50: float
    p99: float

    def draw(self, rng: random.Random) -> float:
        sigma = math.log(self.p99 / self.p50) / 2.3263  # z of the 99th percentile
        return rng.lognormvariate(math.log(self.p50), sigma)


@dataclass(frozen=True)
class Latencies:
    """Client-observed latencies of the calls on the race path (Lambda in the table's Region), in ms.

    AWS gives "single-digit milliseconds" for GetItem and PutItem on average and no percentiles
    (https://repost.aws/knowledge-center/dynamodb-high-latency); these are assumptions, and the model is run
    again with every figure doubled to show how much the answer depends on them."""

    query: Lognormal = Lognormal(6.0, 20.0)  # the head (about 11 small items) and the blocked-by Query
    put: Lognormal = Lognormal(5.0, 15.0)
    first_cpu_ms: float = 4.0  # parsing the head, building the message: a 256 MB Lambda (~1/7 vCPU)
    retry_cpu_ms: float = 1.0  # building the message again for the next seq

    def scaled(self, factor: float) -> Latencies:
        return Latencies(query=Lognormal(self.query.p50 * factor, self.query.p99 * factor),
                         put=Lognormal(self.put.p50 * factor, self.put.p99 * factor),
                         first_cpu_ms=self.first_cpu_ms * factor, retry_cpu_ms=self.retry_cpu_ms * factor)


@dataclass(frozen=True)
class Policy:
    name: str
    walk_forward: bool  # a lost race puts at the next seq at once (else: it re-reads the head first)
    puts: int  # attempts before the send answers conflict


HEAD_REREAD = Policy("re-read the head (before issue 12)", walk_forward=False, puts=5)
WALK_FORWARD = Policy("walk forward (now)", walk_forward=True, puts=SEQ_RACE_PUTS)


@dataclass
class ModelRow:
    policy: str
    rate: float  # sends per second, Poisson
    sends: int
    lost_races: int = 0  # puts that found their seq taken
    conflicts: int = 0  # sends that ran out of attempts
    added_p99_ms: float = 0.0  # 99th percentile, over stored sends, of the time spent on retries
    latency_p50_ms: float = 0.0  # head read to answer, stored sends
    latency_p99_ms: float = 0.0

    @property
    def conflict_share(self) -> float:
        return self.conflicts / self.sends if self.sends else 0.0

    @property
    def retries_per_send(self) -> float:
        return (self.lost_races - self.conflicts) / self.sends if self.sends else 0.0


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


_READ, _PUT = 0, 1


class _Race:
    """One run of the simulation: events in server-time order on a heap."""

    def __init__(self, rate: float, policy: Policy, lat: Latencies, sends: int, seed: int) -> None:
        self.policy, self.lat = policy, lat
        self.rng = random.Random(seed)  # noqa: S311 -- a seeded model, not cryptography
        self.row = ModelRow(policy=policy.name, rate=rate, sends=sends)
        self.added_ms: list[float] = []
        self.latency_ms: list[float] = []
        self.events: list[tuple[float, int, int, int]] = []  # (server time ms, tie-break, kind, send)
        self.counter = 0
        self.newest = 0  # the highest stored seq: every seq up to it is taken
        self.started: list[float] = []
        self.first_done: list[float] = []  # when the first put would have answered: retries add time after it
        self.seq = [0] * sends
        self.puts = [0] * sends
        self.back = [0.0] * sends  # the second half of the call in flight: its way back to the Lambda
        t = 0.0
        for send in range(sends):
            t += self.rng.expovariate(rate) * 1000
            query = lat.query.draw(self.rng)
            self.started.append(t)
            self.first_done.append(t + query)  # the rest of the first attempt is added when it is drawn
            self.back[send] = query / 2
            self.at(t + query / 2, _READ, send)

    def at(self, when: float, kind: int, send: int) -> None:
        self.counter += 1
        heapq.heappush(self.events, (when, self.counter, kind, send))

    def run(self) -> ModelRow:
        while self.events:
            now, _, kind, send = heapq.heappop(self.events)
            if kind == _READ:
                self.read(now, send)
            else:
                self.put(now, send)
        self.row.added_p99_ms = _percentile(self.added_ms, 99)
        self.row.latency_p50_ms = _percentile(self.latency_ms, 50)
        self.row.latency_p99_ms = _percentile(self.latency_ms, 99)
        return self.row

    def read(self, now: float, send: int) -> None:
        """The head Query reaches the table: the send will put at the seq after the newest."""
        self.seq[send] = self.newest + 1
        first = self.puts[send] == 0
        blocked_by = self.lat.query.draw(self.rng) if first else 0.0  # only the first attempt asks who blocked
        cpu = self.lat.first_cpu_ms if first else self.lat.retry_cpu_ms
        put = self.lat.put.draw(self.rng)
        if first:
            self.first_done[send] += blocked_by + cpu + put
        self.at(now + self.back[send] + blocked_by + cpu + put / 2, _PUT, send)
        self.back[send] = put / 2

    def put(self, now: float, send: int) -> None:
        """The conditional put reaches the table: stored if its seq is free, else a lost race."""
        self.puts[send] += 1
        answered = now + self.back[send]
        if self.seq[send] > self.newest:
            self.newest = self.seq[send]
            self.latency_ms.append(answered - self.started[send])
            self.added_ms.append(max(0.0, answered - self.first_done[send]))
            return
        self.row.lost_races += 1
        if self.puts[send] >= self.policy.puts:
            self.row.conflicts += 1
        elif self.policy.walk_forward:  # the winner came back with the failed put: the next seq, straight away
            self.seq[send] += 1
            put = self.lat.put.draw(self.rng)
            self.back[send] = put / 2
            self.at(answered + self.lat.retry_cpu_ms + put / 2, _PUT, send)
        else:  # read the head again, then put at its next seq
            query = self.lat.query.draw(self.rng)
            self.back[send] = query / 2
            self.at(answered + query / 2, _READ, send)


def simulate(rate: float, policy: Policy, latencies: Latencies | None = None, *, sends: int = 20_000,
             seed: int = 12) -> ModelRow:
    """``sends`` sends arriving at ``rate`` per second into one conversation."""
    return _Race(rate, policy, latencies or Latencies(), sends, seed).run()


def onset(policy: Policy, latencies: Latencies | None = None, *, step: float = 5.0, limit: float = 1000.0,
          sends: int = 20_000, seed: int = 12) -> float | None:
    """The lowest rate (in ``step``s) at which more than ``CONFLICT_SHARE_LIMIT`` of sends answer conflict;
    None if none up to ``limit``."""
    rate = step
    while rate <= limit:
        if simulate(rate, policy, latencies, sends=sends, seed=seed).conflict_share > CONFLICT_SHARE_LIMIT:
            return rate
        rate += step
    return None


@dataclass
class ModelResult:
    latencies: Latencies
    rows: list[ModelRow]
    onsets: dict[str, float | None]  # policy name -> rate where conflicts pass 0.1 %, assumed latencies
    onsets_doubled: dict[str, float | None]  # the same with every latency doubled
    sends: int


def run(*, rates: tuple[float, ...] = (10, 25, 50, 100, 150, 200), sends: int = 20_000, seed: int = 12,
        step: float = 5.0) -> ModelResult:
    lat = Latencies()
    policies = (HEAD_REREAD, WALK_FORWARD)
    rows = [simulate(rate, policy, lat, sends=sends, seed=seed) for policy in policies for rate in rates]
    return ModelResult(
        latencies=lat, rows=rows, sends=sends,
        onsets={p.name: onset(p, lat, step=step, sends=sends, seed=seed) for p in policies},
        onsets_doubled={p.name: onset(p, lat.scaled(2), step=step, sends=sends, seed=seed) for p in policies})
