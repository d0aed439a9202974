"""``block``, ``unblock``, ``listBlocks`` and ``report``.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from parley.protocol.base import Identifier, Inbound, Outbound
from parley.user_ids import UserId


class BlockRequest(Inbound):
    action: Literal["block", "unblock"]
    user_id: UserId


class ListBlocksRequest(Inbound):
    action: Literal["listBlocks"]


class ReportRequest(Inbound):
    action: Literal["report"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=1)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class BlocksFrame(Outbound):
    """The caller's block list: the answer to ``block``, ``unblock`` and ``listBlocks``."""

    type: Literal["blocks"] = "blocks"
    user_ids: list[str]
    ref: str | None = None


class ReportedFrame(Outbound):
    type: Literal["reported"] = "reported"
    conversation_id: str
    seq: int
    ref: str | None = None
