"""Fan-out: deliver one frame to every open connection of a set of users, in parallel.

A connection that answers 410 Gone is deleted (unless it is only seconds old: API Gateway also answers
410 while a connection's $connect is still running) and the others still receive the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from parley.errors import StaleConnectionError
from parley.models import Connection
from parley.observability import logger
from parley.ports import ConnectionGateway, ConnectionStore


@dataclass(frozen=True)
class FanoutResult:
    delivered: int
    stale: int
    failed: int
    unreached: tuple[str, ...] = ()  # users no post reached: no open connection (or only stale ones)


class Fanout:
    def __init__(self, connections: ConnectionStore, gateway: ConnectionGateway, workers: int = 16,
                 prune_grace_ms: int = 10_000) -> None:
        self._connections = connections
        self._gateway = gateway
        self._grace = prune_grace_ms
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout")
        # Told which users lost a connection to pruning (presence uses it to announce "offline").
        self.on_pruned: Callable[[list[str]], None] | None = None

    def connections_of(self, user_ids: Iterable[str], now_ms: int) -> list[Connection]:
        per_user = self._pool.map(lambda uid: self._connections.list_for_user(uid, now_ms), list(user_ids))
        return [c for conns in per_user for c in conns]

    def deliver(self, user_ids: Iterable[str], data: bytes, now_ms: int,
                exclude_connection: str | None = None) -> FanoutResult:
        users = list(dict.fromkeys(user_ids))
        connections = self.connections_of(users, now_ms)
        targets = [c for c in connections if c.connection_id != exclude_connection]
        outcomes = list(self._pool.map(lambda c: self._post(c, data, now_ms), targets))
        pruned = [c.user_id for c, outcome in zip(targets, outcomes, strict=True) if outcome == "stale"]
        if pruned and self.on_pruned is not None:
            self.on_pruned(pruned)  # after the posts, in this thread: never waits on the pool from inside it
        reached = {c.user_id for c, outcome in zip(targets, outcomes, strict=True) if outcome == "ok"}
        reached.update(c.user_id for c in connections if c.connection_id == exclude_connection)
        return FanoutResult(delivered=outcomes.count("ok"), stale=outcomes.count("stale"),
                            failed=outcomes.count("failed"),
                            unreached=tuple(u for u in users if u not in reached))

    def close(self) -> None:
        """Stop the worker threads (a long-lived host such as the local stack; Lambda never needs it)."""
        self._pool.shutdown(wait=True)

    def _post(self, connection: Connection, data: bytes, now_ms: int) -> str:
        try:
            self._gateway.post(connection.connection_id, data)
            return "ok"
        except StaleConnectionError:
            if now_ms - connection.connected_at < self._grace:
                return "opening"  # its $connect may still be running: it is about to open, keep it
            self._connections.delete(connection.user_id, connection.connection_id)
            logger.info("pruned stale connection", extra={"stale_connection_id": connection.connection_id})
            return "stale"
        except Exception:  # one bad post must not stop the others
            logger.exception("post to connection failed",
                             extra={"target_connection_id": connection.connection_id})
            return "failed"
