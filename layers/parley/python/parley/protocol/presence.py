"""``presence`` and ``typing``: requests and the frames pushed to contacts and members.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from parley.models import (
    Presence,
)
from parley.protocol.base import Identifier, Inbound, Outbound
from parley.user_ids import UserId


class PresenceRequest(Inbound):
    action: Literal["presence"]
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=100)]


class TypingRequest(Inbound):
    action: Literal["typing"]
    conversation_id: Identifier


class PresenceEntry(Outbound):
    user_id: str
    status: str
    last_seen: int | None = None

    @classmethod
    def of(cls, p: Presence) -> PresenceEntry:
        return cls(user_id=p.user_id, status=p.status.value, last_seen=p.last_seen)


class PresenceFrame(Outbound):
    """Both the answer to ``presence`` and the event pushed when a contact's status changes."""

    type: Literal["presence"] = "presence"
    users: list[PresenceEntry]
    ref: str | None = None


class TypingFrame(Outbound):
    type: Literal["typing"] = "typing"
    conversation_id: str
    user_id: str
