"""``getPreferences``, ``setPreferences`` and ``setConversationPreferences``.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from parley.models import (
    Membership,
    NotifyMode,
    Profile,
    Visibility,
)
from parley.protocol.base import Identifier, Inbound, Outbound


class GetPreferencesRequest(Inbound):
    action: Literal["getPreferences"]


class SetPreferencesRequest(Inbound):
    action: Literal["setPreferences"]
    visibility: Annotated[Visibility, Field(strict=False)] | None = None  # strict mode wants enum instances
    hide_read_receipts: bool | None = None
    notify: Annotated[NotifyMode, Field(strict=False)] | None = None


MAX_MUTE_MS = 10 * 365 * 24 * 3600 * 1000


class SetConversationPreferencesRequest(Inbound):
    """``notify`` / ``mutedUntil`` given as null clear the override; absent leaves it unchanged."""

    action: Literal["setConversationPreferences"]
    conversation_id: Identifier
    notify: Annotated[NotifyMode, Field(strict=False)] | None = None
    muted_until: Annotated[int, Field(ge=0, le=4_102_444_800_000)] | None = None


class PreferencesFrame(Outbound):
    type: Literal["preferences"] = "preferences"
    visibility: str
    hide_read_receipts: bool
    notify: str
    ref: str | None = None

    @classmethod
    def of(cls, p: Profile, ref: str | None = None) -> PreferencesFrame:
        return cls(visibility=p.visibility.value, hide_read_receipts=p.hide_read_receipts, notify=p.notify.value,
                   ref=ref)


class ConversationPreferencesFrame(Outbound):
    type: Literal["conversationPreferences"] = "conversationPreferences"
    conversation_id: str
    notify: str | None = None
    muted_until: int | None = None
    ref: str | None = None

    @classmethod
    def of(cls, m: Membership, ref: str | None = None) -> ConversationPreferencesFrame:
        return cls(conversation_id=m.conversation_id, notify=m.notify.value if m.notify else None,
                   muted_until=m.muted_until, ref=ref)
