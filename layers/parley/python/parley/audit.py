"""The server API's audit log: every call, who made it, what, when, its outcome and the ids it concerned.

``app.py`` records each call after it is answered; a route names what it concerned with ``audit_targets``
(user ids, a conversation id, any other ``kind:id``). Entries are read back by time range (newest first) or by
one target (index ``byKey``): both grow with their result, never with the table (docs/server-api.md, "Audit").
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from parley.clock import Clock, now_ms

# A target is ``<kind>:<id>``: ``user:alice``, ``conversation:g_x``; MOD and GDPR add their kinds (``report``,
# ``message``, ``erasure``...). At most this many are kept per call (a group of 1,000 members names them all).
MAX_TARGETS = 1000
PAGE_MAX = 100


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, defer_build=True)

    entry_id: str = Field(description="Unique id of this entry.")
    at: int = Field(description="When the call was answered, epoch milliseconds (server clock).")
    caller: str = Field(description="Who called: the IAM principal that signed the request (its ARN), or "
                                    "`console:<username>` for an operator of the admin console.")
    operation: str = Field(description="The operation: method and route, e.g. `POST /v1/conversations/direct`.")
    status: int = Field(description="The HTTP status the call was answered with.")
    targets: tuple[str, ...] = Field(default=(), description="What the call concerned, each `<kind>:<id>`.")
    request_id: str | None = Field(default=None, description="API Gateway's request id.")


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    cursor: str | None  # None: nothing more in the range


class AuditStore(ABC):
    @abstractmethod
    def put(self, entry: AuditEntry, *, expires_at: int) -> None:
        """Store the entry and one copy per target (for ``by_target``)."""

    @abstractmethod
    def by_time(self, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        """Entries from ``start`` to ``end`` (epoch ms, both included), newest first."""

    @abstractmethod
    def by_target(self, target: str, start: int, end: int, limit: int, cursor: str | None,
                  caller: str | None = None) -> AuditPage:
        """Entries naming ``target`` (and, with ``caller``, made by that caller), newest first."""

    @abstractmethod
    def by_caller(self, caller: str, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        """Entries made by ``caller`` (an IAM ARN or ``console:<username>``), newest first."""


@dataclass
class _Call:
    operation: str = "?"
    caller: str | None = None
    targets: dict[str, None] = field(default_factory=dict)  # ordered, without repeats


_current: ContextVar[_Call | None] = ContextVar("parley_audit_call", default=None)


def begin_call() -> None:
    """Start collecting the targets of one server API call (``app.py``, before routing)."""
    _current.set(_Call())


def note_operation(operation: str) -> None:
    call = _current.get()
    if call is not None:
        call.operation = operation


def note_caller(caller: str) -> None:
    call = _current.get()
    if call is not None:
        call.caller = caller


def current_caller() -> str | None:
    """Who makes the call being answered (``app.handle`` noted it): an IAM ARN or ``console:<username>``."""
    call = _current.get()
    return call.caller if call else None


def current_operation() -> str:
    call = _current.get()
    return call.operation if call else "?"


def collected_targets() -> tuple[str, ...]:
    call = _current.get()
    return tuple(call.targets) if call else ()


def audit_targets(*, user_ids: Iterable[str] = (), conversation_id: str | None = None,
                  conversation_ids: Iterable[str] = (), **others: str | Iterable[str] | None) -> None:
    """Name what this server API call concerns, for its audit entry: route handlers call it as soon as they
    know (before anything can fail, so a refused call is found by its target too). ``others``: any other
    kind of id, e.g. ``audit_targets(report="g_x#12#bob")`` or ``audit_targets(message=["g_x#12"])``."""
    call = _current.get()
    if call is None:
        return  # not inside a server API call (a unit test of a core service): nothing to record
    named: list[str] = [f"user:{u}" for u in user_ids]
    if conversation_id:
        named.append(f"conversation:{conversation_id}")
    named += [f"conversation:{c}" for c in conversation_ids]
    for kind, ids in others.items():
        if ids is None:
            continue
        named += [f"{kind}:{ids}"] if isinstance(ids, str) else [f"{kind}:{i}" for i in ids]
    for target in named:
        if len(call.targets) >= MAX_TARGETS:
            break
        call.targets.setdefault(target)


class AuditLog:
    def __init__(self, store: AuditStore, *, retention_days: int, clock: Clock = now_ms) -> None:
        self._store = store
        self._retention_s = retention_days * 86_400
        self._clock = clock

    def record(self, *, caller: str, operation: str, status: int, targets: Iterable[str] = (),
               request_id: str | None = None) -> AuditEntry:
        at = self._clock()
        entry = AuditEntry(entry_id=secrets.token_urlsafe(12), at=at, caller=caller, operation=operation,
                           status=status, targets=tuple(dict.fromkeys(targets))[:MAX_TARGETS],
                           request_id=request_id)
        self._store.put(entry, expires_at=at // 1000 + self._retention_s)
        return entry

    def by_time(self, *, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        """Entries from ``start`` to ``end`` (epoch ms, both included), newest first."""
        return self._store.by_time(start, end, min(limit, PAGE_MAX), cursor)

    def by_target(self, target: str, *, start: int, end: int, limit: int, cursor: str | None,
                  caller: str | None = None) -> AuditPage:
        return self._store.by_target(target, start, end, min(limit, PAGE_MAX), cursor, caller)

    def by_caller(self, caller: str, *, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        return self._store.by_caller(caller, start, end, min(limit, PAGE_MAX), cursor)
