"""Typed views of the frames Parley sends (docs/protocol.md). Unknown fields are ignored, so a newer
server never breaks an older client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    conversation_id: str
    seq: int
    message_id: str
    sender_id: str
    sent_at: int  # epoch ms, server clock
    client_msg_id: str
    text: str
    body: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Message:
        body = frame.get("body") or {}
        return cls(conversation_id=frame["conversationId"], seq=int(frame["seq"]), message_id=frame["messageId"],
                   sender_id=frame["senderId"], sent_at=int(frame["sentAt"]), client_msg_id=frame["clientMsgId"],
                   text=str(body.get("text", "")), body=dict(body))


@dataclass(frozen=True)
class Ack:
    conversation_id: str
    client_msg_id: str
    seq: int
    message_id: str
    sent_at: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Ack:
        return cls(conversation_id=frame["conversationId"], client_msg_id=frame["clientMsgId"], seq=int(frame["seq"]),
                   message_id=frame["messageId"], sent_at=int(frame["sentAt"]))


@dataclass(frozen=True)
class Conversation:
    conversation_id: str
    kind: str  # "direct" or "group"
    members: tuple[str, ...]
    created_by: str
    created_at: int
    name: str | None = None

    @classmethod
    def from_frame(cls, info: dict[str, Any]) -> Conversation:
        return cls(conversation_id=info["conversationId"], kind=info["kind"], members=tuple(info["members"]),
                   created_by=info["createdBy"], created_at=int(info["createdAt"]), name=info.get("name"))


@dataclass(frozen=True)
class HistoryPage:
    conversation_id: str
    messages: tuple[Message, ...]  # oldest first
    has_more: bool

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> HistoryPage:
        return cls(conversation_id=frame["conversationId"],
                   messages=tuple(Message.from_frame(m) for m in frame.get("messages", [])),
                   has_more=bool(frame.get("hasMore")))


@dataclass(frozen=True)
class ConversationsPage:
    conversations: tuple[Conversation, ...]
    cursor: str | None

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> ConversationsPage:
        return cls(conversations=tuple(Conversation.from_frame(c) for c in frame.get("conversations", [])),
                   cursor=frame.get("cursor"))


@dataclass(frozen=True)
class Frame:
    """Any other frame the server pushes (presence, typing, receipts, ...), as sent."""

    type: str
    data: dict[str, Any]


Incoming = Message | Frame
