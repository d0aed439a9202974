"""``send`` and ``history``: their requests, the ``ack`` and ``message`` frames in both formats.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from parley.models import (
    FrameFormat,
    Message,
    MessageBody,
)
from parley.protocol.base import Identifier, Inbound, MediaType, Outbound, UploadKey

MAX_ATTACHMENTS = 10


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True,
                              defer_build=True)

    key: UploadKey
    content_type: MediaType
    size: Annotated[int, Field(ge=1)]
    width: Annotated[int, Field(ge=1, le=100_000)] | None = None
    height: Annotated[int, Field(ge=1, le=100_000)] | None = None


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    text: Annotated[str, StringConstraints(min_length=1)] | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=MAX_ATTACHMENTS)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> SendBody:
        if not self.text and not self.attachments:
            raise ValueError("body needs text or attachments")
        return self


class SendRequest(Inbound):
    action: Literal["send"]
    conversation_id: Identifier
    client_msg_id: Identifier
    body: SendBody
    # The newest seq the app had of this conversation when it FIRST sent this clientMsgId (the same value on
    # every resend): a resend is then recognised however many messages arrived since.
    last_seq: Annotated[int, Field(ge=0)] | None = None


class HistoryRequest(Inbound):
    action: Literal["history"]
    conversation_id: Identifier
    before: Annotated[int, Field(ge=1)] | None = None
    after: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class AckFrame(Outbound):
    type: Literal["ack"] = "ack"
    client_msg_id: str
    conversation_id: str
    seq: int
    message_id: str
    sent_at: int
    ref: str | None = None


class MessageFrame(Outbound):
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


class _Compact(Outbound):
    """The compact format's keys are written as declared (``t``, ``r``, ``at``...), not camelCased."""

    model_config = ConfigDict(alias_generator=None, frozen=True)


class CompactAckFrame(_Compact):
    """``ack`` in the compact format: only what the sender cannot know, and the clientMsgId it answers."""

    t: Literal["ack"] = "ack"
    r: str  # clientMsgId
    s: int  # seq
    at: int  # sentAt
    ref: str | None = None


class CompactMessageFrame(_Compact):
    """``message`` in the compact format: no messageId (it is ``<c>.<s>``), and no clientMsgId except on the
    caller's own messages in ``history``."""

    t: Literal["msg"] = "msg"
    c: str  # conversationId
    s: int  # seq
    f: str  # senderId
    at: int  # sentAt
    r: str | None = None  # clientMsgId: in history, on the caller's own messages only
    b: MessageBody  # body


def ack_frame(m: Message, frame_format: FrameFormat, ref: str | None = None) -> AckFrame | CompactAckFrame:
    """The answer to the ``send`` that stored (or resent) ``m``, in the sending connection's format."""
    if frame_format is FrameFormat.FULL:
        return AckFrame(client_msg_id=m.client_msg_id, conversation_id=m.conversation_id, seq=m.seq,
                        message_id=m.message_id, sent_at=m.sent_at, ref=ref)
    return CompactAckFrame(r=m.client_msg_id, s=m.seq, at=m.sent_at, ref=ref)


def message_frame(m: Message, frame_format: FrameFormat, *,
                  reader: str | None = None) -> MessageFrame | CompactMessageFrame:
    """``m`` as a message frame. In the compact format ``reader`` (the caller of ``history``) gets the
    clientMsgId of their own messages: that is how an app finds out whether a send it lost track of was stored."""
    if frame_format is FrameFormat.FULL:
        return MessageFrame.of(m)
    return CompactMessageFrame(c=m.conversation_id, s=m.seq, f=m.sender_id, at=m.sent_at, b=m.body,
                               r=m.client_msg_id if reader == m.sender_id else None)


def message_frames(m: Message) -> dict[FrameFormat, bytes]:
    """The live message frame in every format, for a fan-out to connections that chose different ones."""
    return {f: message_frame(m, f).to_json().encode() for f in FrameFormat}


class HistoryFrame(Outbound):
    type: Literal["history"] = "history"
    conversation_id: str
    messages: list[MessageFrame] | list[CompactMessageFrame]
    has_more: bool
    next_seq: int | None = None  # with hasMore: pass it as `after` (going forward) or `before` (going back)
    ref: str | None = None
