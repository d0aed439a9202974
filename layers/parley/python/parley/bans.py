"""Bans: the host app's backend bans a user for a while or for good (the server API, docs/server-api.md).

A ban is stored first, then every open connection of the user is closed (DeleteConnection). So a ban holds
whatever happens to the closing: ``$connect`` refuses a banned user, and a socket that stays open (its close
failed) cannot send (``ConnectionService``, ``parley.edge``); banning again closes what is left.

A handshake racing the ban cannot slip through: ``$connect`` records its connection, then reads the ban;
the ban is written, then the connections are read (both strongly consistent). Whichever comes second sees
the other's write: either the ban closes the new connection, or ``$connect`` refuses it."""

from __future__ import annotations

from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.errors import BannedError, StaleConnectionError
from parley.events import Events
from parley.models import Ban, BanAction, BanEntry
from parley.observability import logger
from parley.ports import BanStore, ConnectionGateway, ConnectionStore

MAX_BAN_SECONDS = 10 * 365 * 86_400  # longer than this: ban for good


@dataclass(frozen=True)
class BanOutcome:
    ban: Ban
    connections_closed: int  # open connections closed now (or found closed already)
    connections_left_open: int  # whose close failed: they cannot send, and banning again closes them


class BanService:
    def __init__(self, bans: BanStore, connections: ConnectionStore, gateway: ConnectionGateway | None, *,
                 events: Events | None = None, clock: Clock = now_ms) -> None:
        self._bans = bans
        self._connections = connections
        self._gateway = gateway
        self._events = events
        self._clock = clock

    def ban(self, user_id: str, *, by: str, duration_seconds: int | None = None,
            reason: str | None = None) -> BanOutcome:
        """Ban ``user_id`` for ``duration_seconds`` (None: for good), replacing any ban in force, and close
        their open connections."""
        now = self._clock()
        until = None if duration_seconds is None else now + duration_seconds * 1000
        ban = Ban(user_id=user_id, banned_at=now, until=until, reason=reason, by=by)
        self._bans.ban(ban)  # first: from here on the ban holds, whatever the closing below does
        closed, left_open = self.close_connections(user_id)
        if self._events is not None:
            self._events.user_banned(ban, closed)
        return BanOutcome(ban=ban, connections_closed=closed, connections_left_open=left_open)

    def close_connections(self, user_id: str) -> tuple[int, int]:
        """Close every open connection of the user: how many closed (or gone already), how many failed."""
        closed = failed = 0
        for connection in self._connections.list_for_user(user_id, self._clock()):
            if self._gateway is None:
                failed += 1
                continue
            try:
                self._gateway.close(connection.connection_id)
            except StaleConnectionError:  # closed already, its $disconnect maybe lost: its record goes too
                self._connections.delete(user_id, connection.connection_id)
            except Exception:
                logger.exception("closing a banned user's connection failed",
                                 extra={"closed_connection_id": connection.connection_id})
                failed += 1
                continue
            closed += 1
        return closed, failed

    def unban(self, user_id: str, *, by: str) -> bool:
        """Lift the user's ban; False if there was none (nothing changes)."""
        entry = BanEntry(user_id=user_id, action=BanAction.UNBANNED, at=self._clock(), by=by)
        return self._bans.unban(user_id, entry)

    def warn(self, user_id: str, *, by: str, reason: str | None) -> BanEntry:
        """Record a warning in the user's ban history (the host app tells the user itself)."""
        entry = BanEntry(user_id=user_id, action=BanAction.WARNED, at=self._clock(), by=by, reason=reason)
        self._bans.record(entry)
        return entry

    def in_force(self, user_id: str) -> Ban | None:
        ban = self._bans.get(user_id)
        return ban if ban is not None and ban.in_force(self._clock()) else None

    def require_not_banned(self, user_id: str) -> None:
        """For a socket's frames: an eventually consistent read (half the cost; a ban is seen within a second)."""
        ban = self._bans.get(user_id, consistent=False)
        if ban is not None and ban.in_force(self._clock()):
            raise BannedError()

    def page(self, limit: int, cursor: str | None) -> tuple[list[Ban], str | None]:
        """Bans in force, newest first (a page may hold fewer than ``limit``: ended bans are left out)."""
        bans, after = self._bans.page(limit, cursor)
        now = self._clock()
        return [b for b in bans if b.in_force(now)], after

    def history(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[BanEntry], str | None]:
        return self._bans.history(user_id, limit, cursor)
