"""Connection lifecycle: a record per open WebSocket, written on connect and removed on disconnect."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.errors import BannedError, RateLimitedError, TooManyConnectionsError
from parley.models import Connection, FrameFormat
from parley.ports import BanStore, ConnectionStore, ProfileStore
from parley.rate_limits import RateLimiter


class ConnectionService:
    def __init__(self, store: ConnectionStore, ttl_seconds: int, *, max_per_user: int = 10,
                 limiter: RateLimiter | None = None, profiles: ProfileStore | None = None,
                 bans: BanStore | None = None, clock: Clock = now_ms) -> None:
        self._bans = bans
        self._store = store
        self._ttl = ttl_seconds
        self._max_per_user = max_per_user
        self._limiter = limiter
        self._profiles = profiles
        self._clock = clock

    def connect(self, user_id: str, connection_id: str,
                frame_format: FrameFormat = FrameFormat.COMPACT) -> Connection:
        """Record a new connection and the frame format it chose, within the per-user caps on open connections
        (atomic: racing handshakes cannot pass it) and on new ones per minute."""
        now = self._clock()
        if self._limiter is not None:
            try:
                self._limiter.check("connect", user_id)
            except RateLimitedError as exc:
                raise TooManyConnectionsError("New connections are opened too fast.") from exc
        if self._profiles is not None:
            self._profiles.mark_first_seen(user_id, now)
        # Last: a $connect that fails after this would leave a record of a connection that never opened.
        connection = Connection(connection_id=connection_id, user_id=user_id, connected_at=now,
                                frame_format=frame_format)
        if not self._store.claim(connection, now // 1000 + self._ttl, self._max_per_user, now):
            raise TooManyConnectionsError(f"At most {self._max_per_user} open connections per user.")
        # After the claim, never before: a ban stored before this read is seen here, and one stored after it
        # finds this connection and closes it (parley.bans). Either way no banned user keeps a socket.
        ban = self._bans.get(user_id) if self._bans is not None else None
        if ban is not None and ban.in_force(now):
            self._store.delete(user_id, connection_id)
            raise BannedError()
        return connection

    def disconnect(self, user_id: str, connection_id: str) -> None:
        self._store.delete(user_id, connection_id)
