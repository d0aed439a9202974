"""Part 6: a fuzz of the local stack over real sockets (docs/security.md, "Fuzzing").

Each round starts the whole local stack (``local.stack.StackThread``) and connects five users over real
WebSockets: alice, bob and carol share a direct conversation and a group with some messages; mallory and oscar
share a direct conversation of their own and nothing else. Then one caller at a time, in bursts, sends frames
from ``benchmarks.fuzz_frames``: valid frames of every action mixed with malformed ones, half the bursts made
from one action. Most rounds raise every rate limit (so frames reach validation rather than ``rate_limited``);
every fifth runs the production defaults, where one-action bursts drain buckets.

For each frame it records the answer: what the socket received before the answer to a fence (a request with
an action no route has, answered ``unknown_action`` with its ``ref``) sent once the frame's invocation had
finished. Unhandled, and reported one by one: an ``internal_error`` code or a
code parley.errors does not define, API Gateway's ``Internal server error`` frame (a handler that raised), an
ERROR log record or a traceback on stderr while the frame ran, a socket closed other than with the documented
1009 after a frame over 128 KB, an invocation still running after 40 s, and no answer at all where the route
answers (every route but a successful ``typing``).

State: the table is scanned after every frame (a benchmark-side Scan of moto's table, never a request path),
leaving out ``THROTTLE#`` items (rate-limit buckets are charged for refused frames on purpose, see
``parley.edge.run_route``). For a frame answered with an error, the scans before and after it must be equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks.e2e import generous_rate_limits
from benchmarks.fuzz_frames import ACTIONS, Frame, FrameGenerator, World
from benchmarks.fuzz_watch import SETTLE_SECONDS, Invocations, Snapshot, StackLog, TableScans, differences
from benchmarks.progress import Progress, ProgressFactory, silent
from local.gateway import INTERNAL_ERROR, select_route
from local.settings import MAX_MESSAGE_BYTES, LocalSettings
from local.stack import Stack, StackThread
from parley import errors, routes
from parley.config import Settings

USERS = ("alice", "bob", "carol", "mallory", "oscar")
CALLER_WEIGHTS = (3, 3, 2, 2, 1)
STRANGERS = ("zoë", "用户42", "user@example.com", "dave")  # valid user ids that never connect
FULL_FORMAT_USERS = frozenset({"bob"})  # connect with ?format=full; the others take the default (compact)
PRODUCTION_EVERY = 5  # every fifth round runs the production rate limits
FOCUSED_BURSTS = 0.5  # bursts whose frames are all made from one action
FENCE_SECONDS = 10.0
# The fence's action: $default answers it unknown_action, echoing its requestId (API Gateway answers ``ping``
# itself, without one).
FENCE_ACTION = "fuzzFence"
API_GATEWAY_TOO_BIG = 1009
KNOWN_CODES = frozenset(cls.code for cls in vars(errors).values()
                        if isinstance(cls, type) and issubclass(cls, errors.ParleyError))


@dataclass
class Incident:
    what: str  # "internal_error", "traceback", "closed 1006", "state change", ...
    round: int
    index: int  # the frame's number in its round
    caller: str
    kind: str
    action: str
    frame: str
    answer: str
    detail: str = ""


@dataclass
class FuzzResult:
    seed: int
    started: str = ""
    frames: int = 0
    rounds: int = 0
    production_limit_frames: int = 0
    by_action: dict[str, dict[str, int]] = field(default_factory=dict)  # action -> answer -> frames
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # valid / how malformed -> answer -> frames
    refused: int = 0  # frames answered with an error frame: each has the table compared before and after
    unhandled: list[Incident] = field(default_factory=list)
    state_changes: list[Incident] = field(default_factory=list)
    reconnects: int = 0
    pushed: int = 0  # frames pushed to a connection between its bursts (messages, presence, typing...)
    extra_answers: int = 0  # frames that got more than one frame back
    log_warnings: int = 0
    setup_frames: int = 0
    elapsed_s: float = 0.0
    scan_s: float = 0.0
    table_items_max: int = 0

    @property
    def answers(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for answers in self.by_action.values():
            total.update(answers)
        return dict(total.most_common())

    def count(self, action: str, kind: str, answer: str) -> None:
        for counts, key in ((self.by_action, action), (self.by_kind, kind)):
            row = counts.setdefault(key, {})
            row[answer] = row.get(answer, 0) + 1
        self.frames += 1


# -- sockets ---------------------------------------------------------------------------------------------


class Socket:
    """One user's WebSocket to the stack, reopened when the gateway closes it."""

    def __init__(self, stack: Stack, user: str) -> None:
        self._stack = stack
        self.user = user
        self._ws: ClientConnection | None = None
        self._fences = 0

    @property
    def ws(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError(f"{self.user} is not connected")
        return self._ws

    async def open(self) -> None:
        for _ in range(10):  # the production connect bucket refills one every 5 s
            try:
                fmt = "&format=full" if self.user in FULL_FORMAT_USERS else ""
                self._ws = await connect(f"{self._stack.ws_url}?token={self._stack.mint_token(self.user)}{fmt}",
                                         ping_interval=None, max_queue=None, max_size=None, open_timeout=30)
                return
            except InvalidStatus as exc:
                if exc.response.status_code != 429:
                    raise
                await asyncio.sleep(5)
        raise RuntimeError(f"{self.user} could not reconnect")

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def closed_with(self, timeout: float = FENCE_SECONDS) -> int | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code

    async def fence(self) -> list[Any]:
        """Everything the socket received before the answer to a fence sent now."""
        self._fences += 1
        ref = f"fence-{self._fences}"
        await self.ws.send(json.dumps({"action": FENCE_ACTION, "requestId": ref}))
        back: list[Any] = []
        async with asyncio.timeout(FENCE_SECONDS):
            while True:
                raw = await self.ws.recv()
                try:
                    frame = json.loads(raw)
                except ValueError:
                    frame = raw
                if isinstance(frame, dict) and frame.get("type") == "error" and frame.get("ref") == ref:
                    return back
                back.append(frame)


def _json_object(payload: str | bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def answer_of(back: list[Any]) -> str:
    if not back:
        return "none"
    first = back[0]
    if not isinstance(first, dict):
        return "unparsable answer"
    if first.get("message") == INTERNAL_ERROR and "type" not in first:
        return INTERNAL_ERROR
    if first.get("type") == "error":
        return f"error:{first.get('code')}"
    return str(first.get("type", first.get("t")))  # a compact ack carries its type as `t`


def trouble(answer: str, routed: str) -> str | None:
    """Why an answer counts as an unhandled error, or None."""
    if answer == "error:internal_error" or answer in (INTERNAL_ERROR, "unparsable answer"):
        return answer
    if answer.startswith("error:") and answer.removeprefix("error:") not in KNOWN_CODES:
        return "unknown code"
    if answer == "none" and routed != "typing":
        return "unanswered"
    return None


# -- a round ----------------------------------------------------------------------------------------------


class Round:
    def __init__(self, stack: Stack, number: int, rng: random.Random, log: StackLog, result: FuzzResult,
                 bar: Progress, journal: TextIO | None, *, production_limits: bool) -> None:
        self.stack = stack
        self.journal = journal
        self.number = number
        self.production_limits = production_limits
        self.rng = rng
        self.log = log
        self.result = result
        self.bar = bar
        self.world = World(users=USERS, strangers=STRANGERS)
        self.generator = FrameGenerator(rng, self.world)
        self.sockets = {user: Socket(stack, user) for user in USERS}
        self.invocations = Invocations(stack)
        self.scans = TableScans(stack)
        self.index = 0

    async def run(self, frames: int) -> None:
        try:
            for socket in self.sockets.values():
                await socket.open()
            await self._setup()
            snapshot = self.scans.scan()
            while self.index < frames:
                caller = self.rng.choices(USERS, weights=CALLER_WEIGHTS)[0]
                self.generator.focus = self.rng.choice(ACTIONS) if self.rng.random() < FOCUSED_BURSTS else None
                await self._drain(caller)
                for _ in range(min(self.rng.randint(1, 25), frames - self.index)):
                    snapshot = await self._fuzz(caller, self.generator.frame(caller), snapshot)
        finally:
            for socket in self.sockets.values():
                with contextlib.suppress(Exception):
                    await socket.close()
            self.result.scan_s += self.scans.seconds
            self.result.table_items_max = max(self.result.table_items_max, self.scans.most)
            self.scans.close()

    async def _drain(self, caller: str) -> None:
        """Read what others' frames pushed to the caller's socket (messages, presence, typing...) since its last
        burst, so that what follows a frame is its answer."""
        socket = self.sockets[caller]
        try:
            self.result.pushed += len(await socket.fence())
        except ConnectionClosed:
            self.result.unhandled.append(Incident(f"closed {socket.ws.close_code} between frames", self.number,
                                                  self.index, caller, "-", "-", "-", "-"))
            await socket.open()
            self.result.reconnects += 1

    async def _request(self, caller: str, frame: dict[str, Any]) -> dict[str, Any]:
        """A setup request: sent, its invocation finished, its answer read and learnt."""
        socket = self.sockets[caller]
        await self._drain(caller)
        expected = self.invocations.messages + 1
        await socket.ws.send(json.dumps(frame))
        if not await self.invocations.settled(messages=expected):
            raise RuntimeError(f"setup frame {frame['action']} did not finish")
        back = await socket.fence()
        if len(back) != 1 or back[0].get("type") == "error":
            raise RuntimeError(f"setup frame {frame['action']} answered {back}")
        self.world.learn(caller, back[0], frame)
        self.result.setup_frames += 1
        return dict(back[0])

    async def _setup(self) -> None:
        """A direct conversation and a group of alice, bob and carol, one of mallory and oscar, some messages."""
        direct = (await self._request("alice", {"action": "openDirect", "userId": "bob"}))["conversation"]
        group = (await self._request("alice", {"action": "createGroup", "members": ["bob", "carol"],
                                               "name": "Fuzz"}))["conversation"]
        other = (await self._request("mallory", {"action": "openDirect", "userId": "oscar"}))["conversation"]
        for n, (user, conversation) in enumerate([("alice", direct), ("bob", direct), ("alice", direct),
                                                  ("carol", group), ("bob", group), ("alice", group),
                                                  ("mallory", other), ("oscar", other)]):
            await self._request(user, {"action": "send", "conversationId": conversation["conversationId"],
                                       "clientMsgId": f"setup-{n}", "body": {"text": f"message {n}"}})

    async def _fuzz(self, caller: str, frame: Frame, before: Snapshot) -> Snapshot:
        """Send one frame, record its answer and any trouble; returns the table after it."""
        self.index += 1
        mark = self.log.mark()
        answer = await self._answer(caller, frame)
        for text in self.log.since(mark):
            self._incident("traceback" if "Traceback" in text else "error logged", caller, frame, answer, text)
        self.result.count(frame.action, frame.kind, answer)
        self.result.production_limit_frames += self.production_limits
        if self.journal is not None:
            self.journal.write(json.dumps({"round": self.number, "frame": self.index, "caller": caller,
                                           "kind": frame.kind, "action": frame.action, "answer": answer,
                                           "payload": frame.shown(300)}, ensure_ascii=False) + "\n")
        self.bar.update()
        after = self.scans.scan()
        if answer.startswith("error:") or answer == INTERNAL_ERROR:
            self.result.refused += 1
            changed = differences(before, after)
            if changed:
                self.result.state_changes.append(Incident("state change", self.number, self.index, caller,
                                                          frame.kind, frame.action, frame.shown(), answer, changed))
        return after

    async def _answer(self, caller: str, frame: Frame) -> str:
        """Send the frame and read its answer (reopening the socket if the gateway closed it)."""
        socket = self.sockets[caller]
        invoked = select_route(frame.payload, routes.ROUTE_KEYS) not in routes.GATEWAY_ANSWERS  # ping: none
        expected, disconnects = self.invocations.messages + invoked, self.invocations.disconnects
        back: list[Any] = []
        closed: int | None = None
        size = len(frame.payload if isinstance(frame.payload, bytes) else frame.payload.encode())
        too_big = size > MAX_MESSAGE_BYTES
        try:
            await socket.ws.send(frame.payload)
            if too_big:
                closed = await socket.closed_with()
            else:
                if not await self.invocations.settled(messages=expected):
                    self._incident("stalled", caller, frame, "-", f"no invocation finished in {SETTLE_SECONDS:.0f} s")
                back = await socket.fence()
        except ConnectionClosed:
            closed = socket.ws.close_code
        except TimeoutError:
            self._incident("stalled", caller, frame, "-", f"no fence answer in {FENCE_SECONDS:.0f} s")
        if closed is not None or too_big:
            answer = f"closed {closed}"
            if not (closed == API_GATEWAY_TOO_BIG and too_big):
                self._incident(answer, caller, frame, answer)
            await self.invocations.settled(disconnects=disconnects + 1)  # its $disconnect has run
            await socket.open()
            self.result.reconnects += 1
            await self.invocations.settled()
            return answer
        answer = answer_of(back)
        self.result.extra_answers += len(back) > 1
        if back and isinstance(back[0], dict):
            self.world.learn(caller, back[0], _json_object(frame.payload))
        problem = trouble(answer, select_route(frame.payload, routes.ROUTE_KEYS))
        if problem is not None:
            self._incident(problem, caller, frame, answer, json.dumps(back)[:2000])
        return answer

    def _incident(self, what: str, caller: str, frame: Frame, answer: str, detail: str = "") -> None:
        self.result.unhandled.append(Incident(what, self.number, self.index, caller, frame.kind, frame.action,
                                              frame.shown(), answer, detail))


def production_round(number: int, rounds: int) -> bool:
    """Every fifth round runs the production rate limits; a run of fewer rounds ends with one (if it has two)."""
    if number % PRODUCTION_EVERY == PRODUCTION_EVERY - 1:
        return True
    return 1 < rounds < PRODUCTION_EVERY and number == rounds - 1


def rate_limits(production: bool) -> str:
    return str(Settings.model_fields["rate_limits"].default) if production else generous_rate_limits()


def run(*, frames: int, seed: int, round_frames: int = 500, progress_factory: ProgressFactory = silent,
        journal: Path | None = None) -> FuzzResult:
    """``frames`` frames in rounds of ``round_frames``, each round on a fresh stack. ``journal``: a file to write
    every frame's round, number, caller, kind, action, answer and start to, one JSON object a line."""
    result = FuzzResult(seed=seed, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    started = time.monotonic()
    rounds = -(-frames // round_frames)
    with progress_factory("fuzz", frames) as bar, StackLog() as log, _quiet(), \
            contextlib.ExitStack() as files:
        lines = files.enter_context(journal.open("w")) if journal is not None else None
        for number in range(rounds):
            production = production_round(number, rounds)
            size = min(round_frames, frames - number * round_frames)
            settings = LocalSettings(ws_port=0, connections_port=0, moto_port=0, web_port=0, server_api_port=0,
                                     console_port=0, log_level="WARNING",
                                     token_secret=secrets.token_urlsafe(32),
                                     table_name=f"parley-fuzz-{number}")  # moto keeps the last round's table
            with StackThread(settings, handler_env={"PARLEY_RATE_LIMITS": rate_limits(production)}) as stack:
                fuzz_round = Round(stack, number, random.Random(f"{seed}/{number}"), log, result, bar,  # noqa: S311
                                   lines, production_limits=production)
                asyncio.run(fuzz_round.run(size))
            result.rounds += 1
        result.log_warnings = len(log.warnings)
    result.elapsed_s = time.monotonic() - started
    return result


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        yield
