"""Fan-out: deliver one frame to every open connection of a set of users, in parallel.

One batch read looks up the connections of every user (``ConnectionStore.list_for_users``: one BatchGetItem per
100 users), then every post goes out at once, each on a worker of a pool sized for one round of posts to the
largest group (``workers``, from ``PARLEY_MAX_GROUP_MEMBERS``). A connection that answers 410 Gone is deleted
(unless it is only seconds old: API Gateway also answers 410 while a connection's $connect is still running)
and the others still receive the frame. The result says, per user, whether the frame reached them, whether it
cannot (no open connection, or a post failed), or whether that is not known yet (the lookup failed or left them
out, or their posts had not finished by the deadline): the caller decides what each means.

The frame is one for everyone, or one per frame format (``message`` frames): each connection gets the one of
the format its record names, learnt from the same lookup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum

from parley.errors import StaleConnectionError
from parley.models import Connection, FrameFormat
from parley.observability import logger
from parley.ports import ConnectionGateway, ConnectionStore

Payload = bytes | Mapping[FrameFormat, bytes]  # one frame for every connection, or one per frame format


class Reach(Enum):
    DELIVERED = "delivered"  # every open connection of the user got the frame (or was gone)
    UNREACHED = "unreached"  # no open connection, or a post failed: the user did not get it live
    PENDING = "pending"  # not known: the connection lookup failed or did not finish in time


@dataclass(frozen=True)
class FanoutResult:
    delivered: int  # posts that went through
    stale: int  # connections found gone and pruned
    failed: int  # posts that failed otherwise
    unreached: tuple[str, ...] = ()  # users who did not get the frame live
    pending: tuple[str, ...] = ()  # users whose delivery is not known: deliver to them again


_POSTED, _STALE, _OPENING, _FAILED, _ABANDONED = "ok", "stale", "opening", "failed", "abandoned"


class Fanout:
    def __init__(self, connections: ConnectionStore, gateway: ConnectionGateway, workers: int = 100,
                 prune_grace_ms: int = 10_000) -> None:
        self._connections = connections
        self._gateway = gateway
        self._grace = prune_grace_ms
        self.workers = workers
        # Per container: threads start as posts need them, and stay for the next invocation.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout")
        # Told which users lost a connection to pruning (presence uses it to announce "offline").
        self.on_pruned: Callable[[list[str]], object] | None = None

    def deliver(self, user_ids: Iterable[str], data: Payload, now_ms: int, exclude_connection: str | None = None,
                deadline_s: float | None = None) -> FanoutResult:
        """Post ``data`` (or, per format, the frame of each connection's format) to every open connection of
        ``user_ids`` but ``exclude_connection``. Work not done by ``deadline_s`` (``time.monotonic()``
        seconds) is left running and reported as pending."""
        users = list(dict.fromkeys(user_ids))
        if not users:
            return FanoutResult(delivered=0, stale=0, failed=0)
        lookup = self._pool.submit(self._connections.list_for_users, users, now_ms)
        try:
            found = lookup.result(timeout=_left(deadline_s))
        except TimeoutError:  # the caller delivers to all of them again; the late answer is never used
            return FanoutResult(delivered=0, stale=0, failed=0, pending=tuple(users))
        except Exception:  # the lookup failed (throttled, 5xx, timeout): not known who is online
            logger.exception("connection lookup failed")
            return FanoutResult(delivered=0, stale=0, failed=0, pending=tuple(users))
        abandoned = threading.Event()  # set at the deadline: posts not started yet are not made
        posts: dict[Future[str], Connection] = {}
        for uid in users:
            for connection in found.get(uid, ()):
                if connection.connection_id != exclude_connection:
                    frame = data if isinstance(data, bytes) else data[connection.frame_format]
                    posts[self._pool.submit(self._post, connection, frame, now_ms, abandoned)] = connection
        done, late = wait(posts, timeout=_left(deadline_s)) if posts else (set(), set())
        if late:
            abandoned.set()  # the caller delivers to these users again; a post already under way still lands
        results: dict[str, list[str]] = {uid: [] for uid in found}
        for task, connection in posts.items():
            results[connection.user_id].append(task.result() if task in done else _ABANDONED)
        pruned = [c.user_id for task, c in posts.items() if task in done and task.result() == _STALE]
        if pruned and self.on_pruned is not None:
            self.on_pruned(pruned)  # after the posts, in this thread: never waits on the pool from inside it
        reach = {uid: _reach(outcomes, sending_here=any(c.connection_id == exclude_connection for c in found[uid]))
                 for uid, outcomes in results.items()}
        every = [r for outcomes in results.values() for r in outcomes]
        return FanoutResult(
            delivered=every.count(_POSTED), stale=len(pruned), failed=every.count(_FAILED),
            unreached=tuple(u for u in users if reach.get(u) is Reach.UNREACHED),
            pending=tuple(u for u in users if reach.get(u, Reach.PENDING) is Reach.PENDING))

    def close(self) -> None:
        """Stop the worker threads (a long-lived host such as the local stack; Lambda never needs it)."""
        self._pool.shutdown(wait=True)

    def _post(self, connection: Connection, data: bytes, now_ms: int, abandoned: threading.Event) -> str:
        if abandoned.is_set():  # past the deadline before it started: this user is delivered to again, later
            return _ABANDONED
        try:
            self._gateway.post(connection.connection_id, data)
            return _POSTED
        except StaleConnectionError:
            if now_ms - connection.connected_at < self._grace:
                return _OPENING  # its $connect may still be running: it is about to open, keep it
            try:
                self._connections.delete(connection.user_id, connection.connection_id)
            except Exception:  # its TTL removes it anyway
                logger.exception("pruning a stale connection failed")
            logger.info("pruned stale connection", extra={"stale_connection_id": connection.connection_id})
            return _STALE
        except Exception:  # one bad post must not stop the others
            logger.exception("post to connection failed",
                             extra={"target_connection_id": connection.connection_id})
            return _FAILED


def _left(deadline_s: float | None) -> float | None:
    return None if deadline_s is None else max(0.0, deadline_s - time.monotonic())


def _reach(outcomes: list[str], *, sending_here: bool) -> Reach:
    """One user's reach from the outcomes of the posts to their connections. ``sending_here``: the message
    comes from one of their connections (which got the ack instead)."""
    if _ABANDONED in outcomes:
        return Reach.PENDING
    posted = outcomes.count(_POSTED)
    if _FAILED in outcomes or _OPENING in outcomes or not (posted or sending_here):
        return Reach.UNREACHED
    return Reach.DELIVERED
