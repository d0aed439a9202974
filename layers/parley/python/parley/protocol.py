"""The wire protocol: inbound frames (validated strictly) and outbound frames (camelCase JSON).

docs/protocol.md is the contract these models implement.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from parley.models import Conversation, Message, MessageBody

# Identifiers chosen by clients or the server: short, URL-safe.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s#]+$")]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]

MAX_FRAME_BYTES = 32 * 1024  # one API Gateway frame; text is capped far lower by settings


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, alias_generator=to_camel)

    action: str
    request_id: Identifier | None = None


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[str, StringConstraints(min_length=1)]


class SendRequest(_Inbound):
    action: Literal["send"]
    conversation_id: Identifier
    client_msg_id: Identifier
    body: SendBody


class HistoryRequest(_Inbound):
    action: Literal["history"]
    conversation_id: Identifier
    before: Annotated[int, Field(ge=1)] | None = None
    after: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class OpenDirectRequest(_Inbound):
    action: Literal["openDirect"]
    user_id: UserId


class CreateGroupRequest(_Inbound):
    action: Literal["createGroup"]
    members: Annotated[list[UserId], Field(min_length=1, max_length=999)]
    name: GroupName | None = None


class ListConversationsRequest(_Inbound):
    action: Literal["listConversations"]
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class PingRequest(_Inbound):
    action: Literal["ping"]


# ---------------------------------------------------------------------------------------------
# Outbound frames


class _Outbound(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), separators=(",", ":"),
                          ensure_ascii=False)


class AckFrame(_Outbound):
    type: Literal["ack"] = "ack"
    client_msg_id: str
    conversation_id: str
    seq: int
    message_id: str
    sent_at: int


class MessageFrame(_Outbound):
    type: Literal["message"] = "message"
    conversation_id: str
    seq: int
    message_id: str
    sender_id: str
    sent_at: int
    client_msg_id: str
    body: MessageBody

    @classmethod
    def of(cls, m: Message) -> MessageFrame:
        return cls(conversation_id=m.conversation_id, seq=m.seq, message_id=m.message_id,
                   sender_id=m.sender_id, sent_at=m.sent_at, client_msg_id=m.client_msg_id, body=m.body)


class HistoryFrame(_Outbound):
    type: Literal["history"] = "history"
    conversation_id: str
    messages: list[MessageFrame]
    has_more: bool
    ref: str | None = None


class ConversationInfo(_Outbound):
    conversation_id: str
    kind: str
    members: list[str]
    created_by: str
    created_at: int
    name: str | None = None

    @classmethod
    def of(cls, c: Conversation) -> ConversationInfo:
        return cls(conversation_id=c.conversation_id, kind=c.kind.value, members=list(c.members),
                   created_by=c.created_by, created_at=c.created_at, name=c.name)


class ConversationFrame(_Outbound):
    type: Literal["conversation"] = "conversation"
    conversation: ConversationInfo
    ref: str | None = None


class ConversationsFrame(_Outbound):
    type: Literal["conversations"] = "conversations"
    conversations: list[ConversationInfo]
    cursor: str | None = None
    ref: str | None = None


class PongFrame(_Outbound):
    type: Literal["pong"] = "pong"
    ref: str | None = None


class ErrorFrame(_Outbound):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None


def frame_ref(raw: Any) -> str | None:
    """The client's correlation id, echoed on errors: ``clientMsgId`` or ``requestId``, if well formed."""
    if not isinstance(raw, dict):
        return None
    for key in ("clientMsgId", "requestId"):
        value = raw.get(key)
        if isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable():
            return value
    return None
