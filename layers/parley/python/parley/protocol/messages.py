"""``send`` and ``history``: their requests, the ``ack`` and ``message`` frames in both formats.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from parley.envelopes import Envelope
from parley.models import (
    FrameFormat,
    GroupRole,
    HistoryVisibility,
    Message,
    MessageBody,
)
from parley.protocol.base import Identifier, Inbound, MediaType, Outbound, UploadKey
from parley.user_ids import UserId

MAX_ATTACHMENTS = 10
MAX_MENTIONS = 50  # parley.messaging.MAX_MENTIONS


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
    # End-to-end encrypted conversations: the message itself (docs/e2e.md); then ``text`` is refused
    # (e2e_required), and an envelope in a plain conversation is refused (e2e_not_enabled).
    e2e: Envelope | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> SendBody:
        if not self.text and not self.attachments and self.e2e is None:
            raise ValueError("body needs text, attachments or e2e")
        return self


class SendRequest(Inbound):
    action: Literal["send"]
    conversation_id: Identifier
    client_msg_id: Identifier
    body: SendBody
    # The newest seq the app had of this conversation when it FIRST sent this clientMsgId (the same value on
    # every resend): a resend is then recognised however many messages arrived since.
    last_seq: Annotated[int, Field(ge=0)] | None = None
    reply_to: Annotated[int, Field(ge=1)] | None = None  # the seq of the message this one replies to
    # Members mentioned (repeats count once). Up to MAX_MENTIONS: the service checks they are members.
    mentions: Annotated[list[UserId], Field(max_length=MAX_MENTIONS)] | None = None


class HistoryRequest(Inbound):
    action: Literal["history"]
    conversation_id: Identifier
    before: Annotated[int, Field(ge=1)] | None = None
    after: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


QUOTE_CHARS = 100  # a reply's quote: at most this many characters of the message replied to


class Quote(Outbound):
    """The message a reply answers, in short: who sent it and the start of its text, or that it is gone."""

    seq: int
    sender_id: str
    text: str | None = None  # up to QUOTE_CHARS characters
    attachments: int | None = None  # how many attachments it has, if any
    deleted: bool | None = None  # True: it was deleted for everyone (nothing else is said of it)

    @classmethod
    def of(cls, m: Message) -> Quote:
        if m.body is None:
            return cls(seq=m.seq, sender_id=m.sender_id, deleted=True)
        return cls(seq=m.seq, sender_id=m.sender_id, text=m.body.text[:QUOTE_CHARS] if m.body.text else None,
                   attachments=len(m.body.attachments) if m.body.attachments else None)


class Reaction(Outbound):
    emoji: str
    count: int
    me: bool | None = None  # in history and listConversations: True when the caller reacted with it


class MessageExtras(Outbound):
    """What a message frame may carry besides its body, in both formats (camelCase keys)."""

    edited_at: int | None = None
    deleted: bool | None = None  # a tombstone: no body
    reply_to: int | None = None
    quote: Quote | None = None
    mentions: list[str] | None = None
    reactions: list[Reaction] | None = None


def message_extras(m: Message, reader: str | None, quoted: dict[int, Message] | None) -> dict[str, object]:
    quote = None
    if m.reply_to is not None and quoted is not None and m.reply_to in quoted:
        quote = Quote.of(quoted[m.reply_to])
    elif m.reply_to is not None:
        quote = Quote(seq=m.reply_to, sender_id="", deleted=True)  # not there (never, or no longer)
    reactions = [Reaction(emoji=e, count=len(users), me=(reader in users) if reader else None)
                 for e, users in sorted(m.reactions.items()) if users] if m.body is not None else []
    return {"edited_at": m.edited_at if m.body is not None else None,
            "deleted": True if m.deleted_at is not None or m.body is None else None,
            "reply_to": m.reply_to if m.body is not None else None, "quote": quote if m.body is not None else None,
            "mentions": list(m.mentions) if m.mentions and m.body is not None else None,
            "reactions": reactions or None}


class AckFrame(Outbound):
    type: Literal["ack"] = "ack"
    client_msg_id: str
    conversation_id: str
    seq: int
    message_id: str
    sent_at: int
    ref: str | None = None


# A message's sender: a user, or (a system message, posted through the server API) the app itself or one of its
# bots; "#" is in no user id, so the two never collide (docs/protocol.md, "System messages").
SENDER = "A user id; or `#system` (the app) or `#bot:<name>` (one of its bots) for a system message."


class MessageFrame(MessageExtras):
    type: Literal["message"] = "message"
    conversation_id: str
    seq: int
    message_id: str
    sender_id: str = Field(description=SENDER)
    sent_at: int
    client_msg_id: str
    body: MessageBody | None = None  # absent: deleted

    @classmethod
    def of(cls, m: Message, reader: str | None = None, quoted: dict[int, Message] | None = None) -> MessageFrame:
        return cls(conversation_id=m.conversation_id, seq=m.seq, message_id=m.message_id,
                   sender_id=m.sender_id, sent_at=m.sent_at, client_msg_id=m.client_msg_id, body=m.body,
                   **message_extras(m, reader, quoted))


class ChangeFields(Outbound):
    """A change entry's content (``parley.models.Change`` but its kind), in both formats (camelCase keys)."""

    target: int | None = None
    text: str | None = None
    e2e: Annotated[Envelope | None, Field(alias="e2e")] = None  # edited, in an e2e conversation: the new envelope
    edited_at: int | None = None  # edited: when (the entry's own time)
    emoji: str | None = None
    count: int | None = None
    users: list[str] | None = None
    role: GroupRole | None = None
    name: str | None = None
    history: HistoryVisibility | None = None
    owner: str | None = None


def change_fields(m: Message) -> dict[str, object]:
    change = m.change
    assert change is not None
    fields = change.model_dump(exclude={"kind"}, exclude_none=True)
    if "users" in fields:
        fields["users"] = list(fields["users"])
    if change.kind == "edited":
        fields["edited_at"] = m.sent_at
    return fields


class ChangeFrame(ChangeFields):
    """A change entry: an edit, a delete, a reaction or a group change, at its own seq."""

    type: Literal["change"] = "change"
    conversation_id: str
    seq: int
    kind: str
    by: str
    at: int

    @classmethod
    def of(cls, m: Message) -> ChangeFrame:
        assert m.change is not None
        return cls(conversation_id=m.conversation_id, seq=m.seq, kind=m.change.kind.value, by=m.sender_id,
                   at=m.sent_at, **change_fields(m))


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


class CompactMessageFrame(MessageExtras):
    """``message`` in the compact format: no messageId (it is ``<c>.<s>``), and no clientMsgId except on the
    caller's own messages in ``history``. Edits, deletion, replies, mentions and reactions keep their
    camelCase keys (``editedAt``, ``deleted``, ``replyTo``, ``quote``, ``mentions``, ``reactions``): the short
    keys below are their own camelCase."""

    t: Literal["msg"] = "msg"
    c: str  # conversationId
    s: int  # seq
    f: str = Field(description=SENDER)  # senderId
    at: int  # sentAt
    r: str | None = None  # clientMsgId: in history, on the caller's own messages only
    b: MessageBody | None = None  # body (absent: deleted)


class CompactChangeFrame(ChangeFields):
    """``change`` in the compact format: ``k`` the kind, ``f`` who made it; the rest as in the full format."""

    t: Literal["chg"] = "chg"
    c: str  # conversationId
    s: int  # seq
    k: str  # kind
    f: str  # by
    at: int


def ack_frame(m: Message, frame_format: FrameFormat, ref: str | None = None) -> AckFrame | CompactAckFrame:
    """The answer to the ``send`` that stored (or resent) ``m``, in the sending connection's format."""
    if frame_format is FrameFormat.FULL:
        return AckFrame(client_msg_id=m.client_msg_id, conversation_id=m.conversation_id, seq=m.seq,
                        message_id=m.message_id, sent_at=m.sent_at, ref=ref)
    return CompactAckFrame(r=m.client_msg_id, s=m.seq, at=m.sent_at, ref=ref)


def message_frame(m: Message, frame_format: FrameFormat, *, reader: str | None = None,
                  quoted: dict[int, Message] | None = None) -> MessageFrame | CompactMessageFrame:
    """``m`` (a message) as a message frame. In the compact format ``reader`` (the caller of ``history``) gets the
    clientMsgId of their own messages: that is how an app finds out whether a send it lost track of was stored.
    ``reader`` also says which reactions are the caller's; ``quoted`` holds the messages replied to."""
    if frame_format is FrameFormat.FULL:
        return MessageFrame.of(m, reader, quoted)
    return CompactMessageFrame(c=m.conversation_id, s=m.seq, f=m.sender_id, at=m.sent_at, b=m.body,
                               r=m.client_msg_id if reader == m.sender_id else None,
                               **message_extras(m, reader, quoted))


EntryFrame = MessageFrame | CompactMessageFrame | ChangeFrame | CompactChangeFrame


def entry_frame(m: Message, frame_format: FrameFormat, *, reader: str | None = None,
                quoted: dict[int, Message] | None = None) -> EntryFrame:
    """A stream entry as its frame: a message frame, or a change frame for a change entry."""
    if m.change is None:
        return message_frame(m, frame_format, reader=reader, quoted=quoted)
    if frame_format is FrameFormat.FULL:
        return ChangeFrame.of(m)
    return CompactChangeFrame(c=m.conversation_id, s=m.seq, k=m.change.kind.value, f=m.sender_id, at=m.sent_at,
                              **change_fields(m))


def message_frames(m: Message, quoted: dict[int, Message] | None = None) -> dict[FrameFormat, bytes]:
    """The live frame of an entry in every format, for a fan-out to connections that chose different ones."""
    return {f: entry_frame(m, f, quoted=quoted).to_json().encode() for f in FrameFormat}


class HistoryFrame(Outbound):
    type: Literal["history"] = "history"
    conversation_id: str
    messages: list[MessageFrame | ChangeFrame] | list[CompactMessageFrame | CompactChangeFrame]
    has_more: bool
    next_seq: int | None = None  # with hasMore: pass it as `after` (going forward) or `before` (going back)
    ref: str | None = None
