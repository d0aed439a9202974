"""Connection lifecycle: a record per open WebSocket, written on connect and removed on disconnect."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.models import Connection
from parley.ports import ConnectionStore


class ConnectionService:
    def __init__(self, store: ConnectionStore, ttl_seconds: int, clock: Clock = now_ms) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock

    def connect(self, user_id: str, connection_id: str) -> Connection:
        now = self._clock()
        connection = Connection(connection_id=connection_id, user_id=user_id, connected_at=now)
        self._store.put(connection, expires_at=now // 1000 + self._ttl)
        return connection

    def disconnect(self, user_id: str, connection_id: str) -> None:
        self._store.delete(user_id, connection_id)
