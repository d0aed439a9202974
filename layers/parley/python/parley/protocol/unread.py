"""``read`` and ``unreadCounts``, and the read receipt pushed to members.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from parley.protocol.base import Identifier, Inbound, Outbound


class ReadRequest(Inbound):
    action: Literal["read"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=0)]


class UnreadCountsRequest(Inbound):
    action: Literal["unreadCounts"]


class ReceiptFrame(Outbound):
    type: Literal["receipt"] = "receipt"
    conversation_id: str
    user_id: str
    seq: int


class UnreadFrame(Outbound):
    """The reader's count for one conversation: the answer to ``read`` and the update to their other devices."""

    type: Literal["unread"] = "unread"
    conversation_id: str
    unread: int
    last_read_seq: int
    mentions: int | None = None  # unread messages that mention the reader (absent: none)
    ref: str | None = None


class UnreadEntry(Outbound):
    conversation_id: str
    unread: int
    last_read_seq: int
    last_seq: int
    mentions: int  # unread messages that mention the caller


class UnreadCountsFrame(Outbound):
    type: Literal["unreadCounts"] = "unreadCounts"
    conversations: list[UnreadEntry]
    total: int  # unread messages
    badge: int  # conversations with unread messages, muted ones left out: what pushes show as the badge
    ref: str | None = None
