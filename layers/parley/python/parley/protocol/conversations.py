"""``openDirect``, ``createGroup`` and ``listConversations``.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from parley.models import (
    Conversation,
    ConversationKind,
    ConversationSummary,
    FrameFormat,
    GroupRole,
    HistoryVisibility,
)
from parley.protocol.base import GroupName, Inbound, Outbound
from parley.protocol.messages import CompactMessageFrame, MessageFrame, message_frame
from parley.user_ids import UserId


class OpenDirectRequest(Inbound):
    action: Literal["openDirect"]
    user_id: UserId
    # the pair's end-to-end encrypted conversation (a different one from their plain one)
    e2e: Annotated[bool, Field(alias="e2e")] = False


class CreateGroupRequest(Inbound):
    action: Literal["createGroup"]
    members: Annotated[list[UserId], Field(max_length=999)]  # empty: invalid_members, from the service
    name: GroupName | None = None
    history_visibility: Annotated[HistoryVisibility, Field(strict=False)] = HistoryVisibility.JOINED
    e2e: Annotated[bool, Field(alias="e2e")] = False  # end-to-end encrypted, for good (docs/e2e.md)


class ListConversationsRequest(Inbound):
    action: Literal["listConversations"]
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class ConversationInfo(Outbound):
    conversation_id: str
    kind: str
    members: list[str]
    created_by: str
    created_at: int
    name: str | None = None
    roles: dict[str, str] | None = None  # groups: the owner and the admins (everyone else is a member)
    history_visibility: str | None = None  # groups: what members added later see of earlier history
    e2e: Annotated[bool | None, Field(alias="e2e")] = None  # True: end-to-end encrypted (absent otherwise)
    # in listConversations: the caller's unread count, last-read seq and the newest message
    unread: int | None = None
    mentions: int | None = None  # unread messages that mention the caller
    last_read_seq: int | None = None
    last_message: MessageFrame | CompactMessageFrame | None = None

    @classmethod
    def of(cls, c: Conversation) -> ConversationInfo:
        group = c.kind is ConversationKind.GROUP
        roles = {u: r.value for u in c.members if (r := c.role_of(u)) is not None and r is not GroupRole.MEMBER}
        return cls(conversation_id=c.conversation_id, kind=c.kind.value, members=list(c.members),
                   created_by=c.created_by, created_at=c.created_at, name=c.name,
                   roles=roles if group else None,
                   history_visibility=c.history_visibility.value if group else None, e2e=c.e2e or None)

    @classmethod
    def summary(cls, s: ConversationSummary, frame_format: FrameFormat) -> ConversationInfo:
        return cls.of(s.conversation).model_copy(update={
            "unread": s.unread, "last_read_seq": s.read_seq,
            "mentions": s.mentions,
            "last_message": message_frame(s.last_message, frame_format, reader=s.membership.user_id)
            if s.last_message else None})


class ConversationFrame(Outbound):
    type: Literal["conversation"] = "conversation"
    conversation: ConversationInfo
    seq: int | None = None  # a group change: the seq of the change entry it stored
    ref: str | None = None


class ConversationsFrame(Outbound):
    type: Literal["conversations"] = "conversations"
    conversations: list[ConversationInfo]
    cursor: str | None = None
    ref: str | None = None
