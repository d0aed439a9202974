"""Fan-out: deliver one frame to every open connection of a set of users, in parallel.

Each user is one task: look up their connections, then post to each. A connection that answers 410 Gone
is deleted (unless it is only seconds old: API Gateway also answers 410 while a connection's $connect is
still running) and the others still receive the frame. The result says, per user, whether the frame
reached them, whether it cannot (no open connection, or a post failed), or whether that is not known yet
(their lookup failed, or had not finished by the deadline): the caller decides what each means.

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


@dataclass(frozen=True)
class _UserOutcome:
    reach: Reach
    ok: int = 0
    pruned: tuple[Connection, ...] = ()
    failed: int = 0


class Fanout:
    def __init__(self, connections: ConnectionStore, gateway: ConnectionGateway, workers: int = 16,
                 prune_grace_ms: int = 10_000) -> None:
        self._connections = connections
        self._gateway = gateway
        self._grace = prune_grace_ms
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout")
        # Told which users lost a connection to pruning (presence uses it to announce "offline").
        self.on_pruned: Callable[[list[str]], object] | None = None

    def deliver(self, user_ids: Iterable[str], data: Payload, now_ms: int, exclude_connection: str | None = None,
                deadline_s: float | None = None) -> FanoutResult:
        """Post ``data`` (or, per format, the frame of each connection's format) to every open connection of
        ``user_ids`` but ``exclude_connection``. Work not done by ``deadline_s`` (``time.monotonic()``
        seconds) is left running and reported as pending."""
        users = list(dict.fromkeys(user_ids))
        abandoned = threading.Event()  # set at the deadline: late tasks stop before their next call
        tasks: dict[Future[_UserOutcome], str] = {
            self._pool.submit(self._deliver_to, uid, data, now_ms, exclude_connection, abandoned): uid
            for uid in users}
        timeout = None if deadline_s is None else max(0.0, deadline_s - time.monotonic())
        done, late = wait(tasks, timeout=timeout)
        if late:
            abandoned.set()  # the caller delivers to these users again; a post already under way still lands
        outcomes: dict[str, _UserOutcome] = {}
        for task in done:
            try:
                outcomes[tasks[task]] = task.result()
            except Exception:  # the lookup failed (throttled, 5xx, timeout): not known who got it
                logger.exception("connection lookup failed")
        pruned = [c.user_id for o in outcomes.values() for c in o.pruned]
        if pruned and self.on_pruned is not None:
            self.on_pruned(pruned)  # after the posts, in this thread: never waits on the pool from inside it
        return FanoutResult(
            delivered=sum(o.ok for o in outcomes.values()), stale=len(pruned),
            failed=sum(o.failed for o in outcomes.values()),
            unreached=tuple(u for u in users if u in outcomes and outcomes[u].reach is Reach.UNREACHED),
            pending=tuple(u for u in users if u not in outcomes))

    def close(self) -> None:
        """Stop the worker threads (a long-lived host such as the local stack; Lambda never needs it)."""
        self._pool.shutdown(wait=True)

    def _deliver_to(self, user_id: str, data: Payload, now_ms: int, exclude: str | None,
                    abandoned: threading.Event) -> _UserOutcome:
        if abandoned.is_set():  # started only after the deadline
            return _UserOutcome(reach=Reach.PENDING)
        connections = self._connections.list_for_user(user_id, now_ms)
        targets = [c for c in connections if c.connection_id != exclude]
        results = []
        for connection in targets:
            if abandoned.is_set():  # past the deadline: this user is delivered to again, later
                return _UserOutcome(reach=Reach.PENDING)
            frame = data if isinstance(data, bytes) else data[connection.frame_format]
            results.append((connection, self._post(connection, frame, now_ms)))
        ok = sum(1 for _, r in results if r == "ok")
        stale = tuple(c for c, r in results if r == "stale")
        failed = sum(1 for _, r in results if r == "failed")
        sending_here = len(targets) < len(connections)  # the sender's own connection: it got the ack
        reached = failed == 0 and (ok > 0 or sending_here) and all(r in ("ok", "stale") for _, r in results)
        return _UserOutcome(reach=Reach.DELIVERED if reached else Reach.UNREACHED, ok=ok, pruned=stale,
                            failed=failed)

    def _post(self, connection: Connection, data: bytes, now_ms: int) -> str:
        try:
            self._gateway.post(connection.connection_id, data)
            return "ok"
        except StaleConnectionError:
            if now_ms - connection.connected_at < self._grace:
                return "opening"  # its $connect may still be running: it is about to open, keep it
            try:
                self._connections.delete(connection.user_id, connection.connection_id)
            except Exception:  # its TTL removes it anyway
                logger.exception("pruning a stale connection failed")
            logger.info("pruned stale connection", extra={"stale_connection_id": connection.connection_id})
            return "stale"
        except Exception:  # one bad post must not stop the others
            logger.exception("post to connection failed",
                             extra={"target_connection_id": connection.connection_id})
            return "failed"
