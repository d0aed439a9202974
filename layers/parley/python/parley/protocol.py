"""The wire protocol: inbound frames (validated strictly) and outbound frames (camelCase JSON).

docs/protocol.md is the contract these models implement.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from parley.models import (
    Conversation,
    ConversationSummary,
    FrameFormat,
    Membership,
    Message,
    MessageBody,
    NotifyMode,
    Platform,
    Presence,
    Profile,
    Visibility,
)
from parley.user_ids import UserId

# Identifiers chosen by clients or the server: short, URL-safe.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]

MAX_FRAME_BYTES = 32 * 1024  # one API Gateway frame; text is capped far lower by settings


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, alias_generator=to_camel)

    action: str
    request_id: Identifier | None = None


UploadKey = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^u/[A-Za-z0-9_.:/-]+$")]
MediaType = Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")]
MAX_ATTACHMENTS = 10


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True)

    key: UploadKey
    content_type: MediaType
    size: Annotated[int, Field(ge=1)]
    width: Annotated[int, Field(ge=1, le=100_000)] | None = None
    height: Annotated[int, Field(ge=1, le=100_000)] | None = None


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[str, StringConstraints(min_length=1)] | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=MAX_ATTACHMENTS)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> SendBody:
        if not self.text and not self.attachments:
            raise ValueError("body needs text or attachments")
        return self


class SendRequest(_Inbound):
    action: Literal["send"]
    conversation_id: Identifier
    client_msg_id: Identifier
    body: SendBody
    # The newest seq the app had of this conversation when it FIRST sent this clientMsgId (the same value on
    # every resend): a resend is then recognised however many messages arrived since.
    last_seq: Annotated[int, Field(ge=0)] | None = None


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
    members: Annotated[list[UserId], Field(max_length=999)]  # empty: invalid_members, from the service
    name: GroupName | None = None


class ListConversationsRequest(_Inbound):
    action: Literal["listConversations"]
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


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
    ref: str | None = None


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


class _Compact(_Outbound):
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


class HistoryFrame(_Outbound):
    type: Literal["history"] = "history"
    conversation_id: str
    messages: list[MessageFrame] | list[CompactMessageFrame]
    has_more: bool
    next_seq: int | None = None  # with hasMore: pass it as `after` (going forward) or `before` (going back)
    ref: str | None = None


class ConversationInfo(_Outbound):
    conversation_id: str
    kind: str
    members: list[str]
    created_by: str
    created_at: int
    name: str | None = None
    # in listConversations: the caller's unread count, last-read seq and the newest message
    unread: int | None = None
    last_read_seq: int | None = None
    last_message: MessageFrame | CompactMessageFrame | None = None

    @classmethod
    def of(cls, c: Conversation) -> ConversationInfo:
        return cls(conversation_id=c.conversation_id, kind=c.kind.value, members=list(c.members),
                   created_by=c.created_by, created_at=c.created_at, name=c.name)

    @classmethod
    def summary(cls, s: ConversationSummary, frame_format: FrameFormat) -> ConversationInfo:
        return cls.of(s.conversation).model_copy(update={
            "unread": s.unread, "last_read_seq": s.read_seq,
            "last_message": message_frame(s.last_message, frame_format) if s.last_message else None})


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
    """The answer to ``ping``, sent by API Gateway itself (``parley.routes.GATEWAY_ANSWERS``): no ``ref``."""

    type: Literal["pong"] = "pong"


class ErrorFrame(_Outbound):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None
    client_msg_id: str | None = None  # on an error answering a `send`
    retry_after_ms: int | None = None


_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class FrameRefs:
    """What an error echoes of the request it answers, when well formed: its ``requestId`` as ``ref`` and,
    for a ``send``, its ``clientMsgId``."""

    ref: str | None = None
    client_msg_id: str | None = None

    @classmethod
    def of(cls, raw: Any) -> FrameRefs:
        if not isinstance(raw, dict):
            return cls()
        request_id, client_msg_id = raw.get("requestId"), raw.get("clientMsgId")
        return cls(ref=request_id if _is_identifier(request_id) else None,
                   client_msg_id=client_msg_id if raw.get("action") == "send" and _is_identifier(client_msg_id)
                   else None)


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None


# ---------------------------------------------------------------------------------------------
# Presence, unread counters, read receipts, typing and preferences


class PresenceRequest(_Inbound):
    action: Literal["presence"]
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=100)]


class TypingRequest(_Inbound):
    action: Literal["typing"]
    conversation_id: Identifier


class ReadRequest(_Inbound):
    action: Literal["read"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=0)]


class UnreadCountsRequest(_Inbound):
    action: Literal["unreadCounts"]


class GetPreferencesRequest(_Inbound):
    action: Literal["getPreferences"]


class SetPreferencesRequest(_Inbound):
    action: Literal["setPreferences"]
    visibility: Annotated[Visibility, Field(strict=False)] | None = None  # strict mode wants enum instances
    hide_read_receipts: bool | None = None
    notify: Annotated[NotifyMode, Field(strict=False)] | None = None


MAX_MUTE_MS = 10 * 365 * 24 * 3600 * 1000


class SetConversationPreferencesRequest(_Inbound):
    """``notify`` / ``mutedUntil`` given as null clear the override; absent leaves it unchanged."""

    action: Literal["setConversationPreferences"]
    conversation_id: Identifier
    notify: Annotated[NotifyMode, Field(strict=False)] | None = None
    muted_until: Annotated[int, Field(ge=0, le=4_102_444_800_000)] | None = None


class PresenceEntry(_Outbound):
    user_id: str
    status: str
    last_seen: int | None = None

    @classmethod
    def of(cls, p: Presence) -> PresenceEntry:
        return cls(user_id=p.user_id, status=p.status.value, last_seen=p.last_seen)


class PresenceFrame(_Outbound):
    """Both the answer to ``presence`` and the event pushed when a contact's status changes."""

    type: Literal["presence"] = "presence"
    users: list[PresenceEntry]
    ref: str | None = None


class TypingFrame(_Outbound):
    type: Literal["typing"] = "typing"
    conversation_id: str
    user_id: str


class ReceiptFrame(_Outbound):
    type: Literal["receipt"] = "receipt"
    conversation_id: str
    user_id: str
    seq: int


class UnreadFrame(_Outbound):
    """The reader's count for one conversation: the answer to ``read`` and the update to their other devices."""

    type: Literal["unread"] = "unread"
    conversation_id: str
    unread: int
    last_read_seq: int
    ref: str | None = None


class UnreadEntry(_Outbound):
    conversation_id: str
    unread: int
    last_read_seq: int
    last_seq: int


class UnreadCountsFrame(_Outbound):
    type: Literal["unreadCounts"] = "unreadCounts"
    conversations: list[UnreadEntry]
    total: int  # unread messages
    badge: int  # conversations with unread messages, muted ones left out: what pushes show as the badge
    ref: str | None = None


class PreferencesFrame(_Outbound):
    type: Literal["preferences"] = "preferences"
    visibility: str
    hide_read_receipts: bool
    notify: str
    ref: str | None = None

    @classmethod
    def of(cls, p: Profile, ref: str | None = None) -> PreferencesFrame:
        return cls(visibility=p.visibility.value, hide_read_receipts=p.hide_read_receipts, notify=p.notify.value,
                   ref=ref)


class ConversationPreferencesFrame(_Outbound):
    type: Literal["conversationPreferences"] = "conversationPreferences"
    conversation_id: str
    notify: str | None = None
    muted_until: int | None = None
    ref: str | None = None

    @classmethod
    def of(cls, m: Membership, ref: str | None = None) -> ConversationPreferencesFrame:
        return cls(conversation_id=m.conversation_id, notify=m.notify.value if m.notify else None,
                   muted_until=m.muted_until, ref=ref)


# ---------------------------------------------------------------------------------------------
# Blocking and reports


class BlockRequest(_Inbound):
    action: Literal["block", "unblock"]
    user_id: UserId


class ListBlocksRequest(_Inbound):
    action: Literal["listBlocks"]


class ReportRequest(_Inbound):
    action: Literal["report"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=1)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class BlocksFrame(_Outbound):
    """The caller's block list: the answer to ``block``, ``unblock`` and ``listBlocks``."""

    type: Literal["blocks"] = "blocks"
    user_ids: list[str]
    ref: str | None = None


class ReportedFrame(_Outbound):
    type: Literal["reported"] = "reported"
    conversation_id: str
    seq: int
    ref: str | None = None


# ---------------------------------------------------------------------------------------------
# Push devices

PushToken = Annotated[str, StringConstraints(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:.\-]+$")]


class RegisterDeviceRequest(_Inbound):
    action: Literal["registerDevice"]
    platform: Annotated[Platform, Field(strict=False)]
    token: PushToken


class UnregisterDeviceRequest(_Inbound):
    action: Literal["unregisterDevice"]
    token: PushToken


class DeviceFrame(_Outbound):
    type: Literal["device"] = "device"
    registered: bool
    platform: str | None = None
    ref: str | None = None


# ---------------------------------------------------------------------------------------------
# Uploads and downloads


class RequestUploadRequest(_Inbound):
    action: Literal["requestUpload"]
    conversation_id: Identifier
    content_type: MediaType
    size: Annotated[int, Field(ge=1)]


class AttachmentUrlsRequest(_Inbound):
    action: Literal["attachmentUrls"]
    conversation_id: Identifier
    keys: Annotated[list[UploadKey], Field(min_length=1, max_length=20)]


class UploadFrame(_Outbound):
    type: Literal["upload"] = "upload"
    conversation_id: str
    key: str
    url: str
    fields: dict[str, str]
    expires_at: int
    ref: str | None = None


class AttachmentUrl(_Outbound):
    key: str
    url: str | None = None  # absent while an image is still being cleaned of its location data
    thumbnail_url: str | None = None
    preview: str | None = None
    width: int | None = None
    height: int | None = None


class AttachmentUrlsFrame(_Outbound):
    type: Literal["attachmentUrls"] = "attachmentUrls"
    conversation_id: str
    attachments: list[AttachmentUrl]
    expires_at: int
    ref: str | None = None


class AttachmentReadyFrame(_Outbound):
    """Pushed to members when an attachment's thumbnail and preview are ready."""

    type: Literal["attachment"] = "attachment"
    conversation_id: str
    seq: int
    key: str
    preview: str | None = None
    width: int | None = None
    height: int | None = None
