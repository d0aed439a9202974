"""Typed views of the frames Parley sends (docs/protocol.md). Unknown fields are ignored, so a newer
server never breaks an older client.

``ack`` and ``message`` frames come in two formats (docs/protocol.md, "Frame formats"): ``compact`` (short
keys, no messageId, the clientMsgId only where it matters) and ``full``. Both are read into the same
objects, whichever the connection asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

ENCRYPTED_FILE_OVERHEAD = 40  # an encrypted attachment's nonce (24 bytes) and tag (16), docs/e2e.md


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def message_id_of(conversation_id: str, seq: int) -> str:
    """A message's id, as the server derives it: ``<conversationId>.<seq>``."""
    return f"{conversation_id}.{seq}"


# The compact format's type names (its frames carry their type as ``t``; every other frame as ``type``).
_COMPACT_TYPES = {"ack": "ack", "msg": "message", "chg": "change"}


def frame_type(frame: dict[str, Any]) -> str | None:
    """The type of a frame in either format: ``ack`` and ``message`` for compact ones too."""
    kind = frame.get("type")
    if kind is None and isinstance(frame.get("t"), str):
        return _COMPACT_TYPES.get(frame["t"], frame["t"])
    return kind if isinstance(kind, str) else None


def answered_send(frame: dict[str, Any]) -> str | None:
    """The clientMsgId of the send that an ack or an error answers (None for any other frame)."""
    kind = frame_type(frame)
    if kind == "ack":
        cmid = frame.get("r", frame.get("clientMsgId"))
    elif kind == "error":
        cmid = frame.get("clientMsgId")
    else:
        return None
    return cmid if isinstance(cmid, str) else None


@dataclass(frozen=True)
class Attachment:
    """A file a message refers to (docs/attachments.md). ``upload_file`` returns one ready to ``send``;
    received messages carry them with the inline ``preview`` once the thumbnail exists."""

    key: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    preview: str | None = None  # a data: URI of a few hundred bytes
    # End-to-end encrypted conversations: the file's key (b64); content_type, size, width, height and preview
    # are then the real ones from the encrypted payload, and storage holds the encrypted blob (size + 40 bytes).
    file_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_frame(cls, item: dict[str, Any]) -> Attachment:
        return cls(key=item["key"], content_type=item["contentType"], size=int(item["size"]),
                   width=_int(item.get("width")), height=_int(item.get("height")), preview=item.get("preview"))

    def to_request(self) -> dict[str, Any]:
        """As ``send`` takes it (the server makes previews; it refuses one from the client). An encrypted file is
        declared as what storage holds: an opaque blob."""
        if self.file_key is not None:
            return {"key": self.key, "contentType": "application/octet-stream",
                    "size": self.size + ENCRYPTED_FILE_OVERHEAD}
        fields: dict[str, Any] = {"key": self.key, "contentType": self.content_type, "size": self.size}
        if self.width is not None:
            fields["width"] = self.width
        if self.height is not None:
            fields["height"] = self.height
        return fields


@dataclass(frozen=True)
class Quote:
    """The message a reply answers, in short: its sender and up to 100 characters of its text, or ``deleted``
    (deleted for everyone, or not yours to see: then ``sender_id`` is empty)."""

    seq: int
    sender_id: str
    text: str | None = None
    attachments: int = 0
    deleted: bool = False

    @classmethod
    def from_frame(cls, quote: dict[str, Any]) -> Quote:
        return cls(seq=int(quote["seq"]), sender_id=str(quote.get("senderId", "")), text=quote.get("text"),
                   attachments=int(quote.get("attachments") or 0), deleted=bool(quote.get("deleted")))


@dataclass(frozen=True)
class Reaction:
    emoji: str
    count: int
    me: bool | None = None  # in history: whether you reacted with it

    @classmethod
    def from_frame(cls, item: dict[str, Any]) -> Reaction:
        me = item.get("me")
        return cls(emoji=str(item["emoji"]), count=int(item["count"]), me=bool(me) if me is not None else None)


@dataclass(frozen=True)
class Changed:
    """The answer to ``edit``, ``delete`` and ``react``: ``seq`` is the change entry's (None: nothing changed)."""

    conversation_id: str
    kind: str
    target: int
    seq: int | None
    count: int | None = None

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Changed:
        return cls(conversation_id=frame["conversationId"], kind=frame["kind"], target=int(frame["target"]),
                   seq=_int(frame.get("seq")), count=_int(frame.get("count")))


@dataclass(frozen=True)
class Message:
    conversation_id: str
    seq: int
    message_id: str  # <conversationId>.<seq>
    sender_id: str
    sent_at: int  # epoch ms, server clock
    # The sender's clientMsgId. In the compact format only your own messages in history carry it (None elsewhere).
    client_msg_id: str | None
    text: str
    body: dict[str, Any] = field(default_factory=dict, compare=False)
    attachments: tuple[Attachment, ...] = field(default=(), compare=False)
    # edits, deletion and reactions: as the server knew them when it sent this frame (history: now)
    edited_at: int | None = field(default=None, compare=False)
    deleted: bool = field(default=False, compare=False)  # a tombstone: no text, no attachments
    reply_to: int | None = field(default=None, compare=False)  # the seq this message replies to
    quote: Quote | None = field(default=None, compare=False)  # with reply_to: what it replies to, in short
    mentions: tuple[str, ...] = field(default=(), compare=False)  # the members it mentions
    reactions: tuple[Reaction, ...] = field(default=(), compare=False)

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Message:
        """A ``message`` frame (or an item of ``history`` / ``lastMessage``) in either format."""
        if "t" in frame:  # compact: the id is derived, the clientMsgId only on your own messages in history
            message = cls._of(frame["c"], int(frame["s"]), None, frame["f"], frame["at"], frame.get("r"),
                              frame.get("b"))
        else:
            message = cls._of(frame["conversationId"], int(frame["seq"]), frame.get("messageId"), frame["senderId"],
                              frame["sentAt"], frame.get("clientMsgId"), frame.get("body"))
        quote = frame.get("quote")
        return replace(message, edited_at=_int(frame.get("editedAt")), deleted=bool(frame.get("deleted")),
                       reply_to=_int(frame.get("replyTo")),
                       quote=Quote.from_frame(quote) if isinstance(quote, dict) else None,
                       mentions=tuple(frame.get("mentions") or ()),
                       reactions=tuple(Reaction.from_frame(r) for r in frame.get("reactions") or ()))

    def mentions_user(self, user_id: str) -> bool:
        return user_id in self.mentions

    @classmethod
    def _of(cls, conversation_id: str, seq: int, message_id: str | None, sender_id: str, sent_at: Any,
            client_msg_id: str | None, body: dict[str, Any] | None) -> Message:
        body = body or {}
        return cls(conversation_id=conversation_id, seq=seq,
                   message_id=message_id or message_id_of(conversation_id, seq), sender_id=sender_id,
                   sent_at=int(sent_at), client_msg_id=client_msg_id, text=str(body.get("text") or ""), body=dict(body),
                   attachments=tuple(Attachment.from_frame(a) for a in body.get("attachments") or ()))


@dataclass(frozen=True)
class Change:
    """A change entry (docs/protocol.md, "Stream entries and changes"): an edit, a delete, a reaction or a
    group change, at its own seq of the conversation's stream. Apply it to the message ``target`` names, or
    to the group."""

    conversation_id: str
    seq: int
    kind: str  # edited, deleted, reacted, unreacted, membersAdded, memberRemoved, memberLeft, renamed, ...
    by: str
    at: int
    target: int | None = None
    text: str | None = None
    edited_at: int | None = None
    emoji: str | None = None
    count: int | None = None
    users: tuple[str, ...] = ()
    role: str | None = None
    name: str | None = None
    history: str | None = None
    owner: str | None = None
    fields: dict[str, Any] = field(default_factory=dict, compare=False)  # every field of the frame, as sent
    client_msg_id: None = None  # a change is never a send of yours

    @property
    def message_id(self) -> str:
        return message_id_of(self.conversation_id, self.seq)

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Change:
        if "t" in frame:
            head = (frame["c"], int(frame["s"]), frame["k"], frame["f"], int(frame["at"]))
        else:
            head = (frame["conversationId"], int(frame["seq"]), frame["kind"], frame["by"], int(frame["at"]))
        cid, seq, kind, by, at = head
        return cls(conversation_id=cid, seq=seq, kind=kind, by=by, at=at, target=_int(frame.get("target")),
                   text=frame.get("text"), edited_at=_int(frame.get("editedAt")), emoji=frame.get("emoji"),
                   count=_int(frame.get("count")), users=tuple(frame.get("users") or ()), role=frame.get("role"),
                   name=frame.get("name"), history=frame.get("history"), owner=frame.get("owner"),
                   fields=dict(frame))


Entry = Message | Change


def entry_from_frame(frame: dict[str, Any]) -> Entry:
    """An item of a stream (a live frame, or an item of ``history``): a message or a change."""
    return Change.from_frame(frame) if frame_type(frame) == "change" else Message.from_frame(frame)


@dataclass(frozen=True)
class Ack:
    conversation_id: str
    client_msg_id: str
    seq: int
    message_id: str
    sent_at: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any], conversation_id: str | None = None) -> Ack:
        """An ``ack`` in either format. A compact one does not repeat the conversation: pass the one sent to."""
        if "t" in frame:
            if conversation_id is None:
                raise ValueError("a compact ack needs the conversation id of its send")
            seq = int(frame["s"])
            return cls(conversation_id=conversation_id, client_msg_id=frame["r"], seq=seq,
                       message_id=message_id_of(conversation_id, seq), sent_at=int(frame["at"]))
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
    roles: dict[str, str] = field(default_factory=dict)  # groups: the owner and the admins
    history_visibility: str | None = None  # groups: "joined" or "all"
    e2e: bool = False  # end-to-end encrypted (docs/e2e.md), for good
    # in listConversations: your unread count, your read position and the newest message you may see
    unread: int | None = None
    mentions: int | None = None  # unread messages that mention you
    last_read_seq: int | None = None
    last_message: Message | None = None

    @classmethod
    def from_frame(cls, info: dict[str, Any]) -> Conversation:
        last = info.get("lastMessage")
        return cls(conversation_id=info["conversationId"], kind=info["kind"], members=tuple(info["members"]),
                   created_by=info["createdBy"], created_at=int(info["createdAt"]), name=info.get("name"),
                   roles=dict(info.get("roles") or {}), history_visibility=info.get("historyVisibility"),
                   e2e=info.get("e2e") is True, unread=info.get("unread"), mentions=info.get("mentions"),
                   last_read_seq=info.get("lastReadSeq"),
                   last_message=Message.from_frame(last) if last else None)


@dataclass(frozen=True)
class HistoryPage:
    conversation_id: str
    messages: tuple[Entry, ...]  # oldest first: messages, and (going forward) the changes after them
    has_more: bool
    # With has_more: where the next page starts (``after`` going forward, ``before`` going back). It differs
    # from the messages' own seqs when messages hidden from you (users you blocked) were skipped.
    next_seq: int | None = None

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> HistoryPage:
        messages = tuple(entry_from_frame(m) for m in frame.get("messages", []))
        next_seq = frame.get("nextSeq")
        return cls(conversation_id=frame["conversationId"], messages=messages, has_more=bool(frame.get("hasMore")),
                   next_seq=int(next_seq) if isinstance(next_seq, int) else None)


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
    """Any other frame the server sends, as sent. The frames the protocol defines arrive as the typed
    subclasses below (``Presence``, ``TypingIndicator``, ``Receipt``, ...); ``type`` and ``data`` are kept."""

    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PresenceStatus:
    user_id: str
    status: str  # "online" or "offline"
    last_seen: int | None = None  # epoch ms, for offline users when known

    @property
    def online(self) -> bool:
        return self.status == "online"


@dataclass(frozen=True)
class Presence(Frame):
    """Pushed when a contact's first connection opens or last one closes; the answer to ``presence``."""

    users: tuple[PresenceStatus, ...]

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Presence:
        return cls("presence", frame, tuple(PresenceStatus(u["userId"], u["status"], _int(u.get("lastSeen")))
                                            for u in frame.get("users", [])))

    def of(self, user_id: str) -> PresenceStatus | None:
        return next((u for u in self.users if u.user_id == user_id), None)


@dataclass(frozen=True)
class TypingIndicator(Frame):
    """Pushed while another member types (hide it after about 5 s without a new one)."""

    conversation_id: str
    user_id: str

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> TypingIndicator:
        return cls("typing", frame, frame["conversationId"], frame["userId"])


@dataclass(frozen=True)
class Receipt(Frame):
    """Pushed when another member read the conversation up to ``seq``."""

    conversation_id: str
    user_id: str
    seq: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Receipt:
        return cls("receipt", frame, frame["conversationId"], frame["userId"], int(frame["seq"]))


@dataclass(frozen=True)
class UnreadUpdate(Frame):
    """The answer to ``read``; pushed to your other devices when you read."""

    conversation_id: str
    unread: int
    last_read_seq: int
    mentions: int = 0  # unread messages that mention you

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> UnreadUpdate:
        return cls("unread", frame, frame["conversationId"], int(frame["unread"]), int(frame["lastReadSeq"]),
                   int(frame.get("mentions") or 0))


@dataclass(frozen=True)
class UnreadCount:
    conversation_id: str
    unread: int
    last_read_seq: int
    last_seq: int
    mentions: int = 0  # unread messages that mention you (0 from a server older than the field)


@dataclass(frozen=True)
class UnreadCounts(Frame):
    """The answer to ``unreadCounts``: conversations with unread messages, their ``total`` of unread
    messages, and the ``badge`` (conversations with unread messages, muted ones left out: what pushes show)."""

    conversations: tuple[UnreadCount, ...]
    total: int
    badge: int = 0  # 0 from a server older than the field

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> UnreadCounts:
        return cls("unreadCounts", frame, tuple(
            UnreadCount(c["conversationId"], int(c["unread"]), int(c["lastReadSeq"]), int(c["lastSeq"]),
                        int(c.get("mentions") or 0))
            for c in frame.get("conversations", [])), int(frame["total"]), int(frame.get("badge", 0)))

    def of(self, conversation_id: str) -> int:
        """The unread count of one conversation (0 when it has none unread)."""
        return next((c.unread for c in self.conversations if c.conversation_id == conversation_id), 0)


@dataclass(frozen=True)
class AttachmentReady(Frame):
    """Pushed when the thumbnail of an attachment of a sent message is ready."""

    conversation_id: str
    seq: int
    key: str
    preview: str | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> AttachmentReady:
        return cls("attachment", frame, frame["conversationId"], int(frame["seq"]), frame["key"],
                   frame.get("preview"), _int(frame.get("width")), _int(frame.get("height")))


@dataclass(frozen=True)
class Preferences(Frame):
    visibility: str  # "visible" or "invisible"
    hide_read_receipts: bool
    notify: str  # "push", "badge" or "passive"

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Preferences:
        return cls("preferences", frame, frame["visibility"], bool(frame["hideReadReceipts"]), frame["notify"])


@dataclass(frozen=True)
class ConversationPreferences(Frame):
    conversation_id: str
    notify: str | None = None
    muted_until: int | None = None  # epoch ms

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> ConversationPreferences:
        return cls("conversationPreferences", frame, frame["conversationId"], frame.get("notify"),
                   _int(frame.get("mutedUntil")))


@dataclass(frozen=True)
class BlockList(Frame):
    user_ids: tuple[str, ...]

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> BlockList:
        return cls("blocks", frame, tuple(frame.get("userIds", [])))


@dataclass(frozen=True)
class Reported(Frame):
    conversation_id: str
    seq: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Reported:
        return cls("reported", frame, frame["conversationId"], int(frame["seq"]))


@dataclass(frozen=True)
class DeviceRegistration(Frame):
    registered: bool
    platform: str | None = None  # "apns" or "fcm"

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> DeviceRegistration:
        return cls("device", frame, bool(frame["registered"]), frame.get("platform"))


@dataclass(frozen=True)
class Upload(Frame):
    """The answer to ``requestUpload``: POST the file to ``url`` with ``fields`` (``upload_file`` does)."""

    conversation_id: str
    key: str
    url: str
    fields: dict[str, str] = field(compare=False)
    expires_at: int  # epoch ms

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Upload:
        return cls("upload", frame, frame["conversationId"], frame["key"], frame["url"], dict(frame["fields"]),
                   int(frame["expiresAt"]))


@dataclass(frozen=True)
class AttachmentLink:
    key: str
    url: str | None = None  # absent while an image is still being cleaned of its location data
    thumbnail_url: str | None = None
    preview: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class AttachmentUrls(Frame):
    """The answer to ``attachmentUrls``: short-lived download URLs."""

    conversation_id: str
    attachments: tuple[AttachmentLink, ...]
    expires_at: int  # epoch ms

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> AttachmentUrls:
        return cls("attachmentUrls", frame, frame["conversationId"], tuple(
            AttachmentLink(a["key"], a.get("url"), a.get("thumbnailUrl"), a.get("preview"), _int(a.get("width")),
                           _int(a.get("height"))) for a in frame.get("attachments", [])), int(frame["expiresAt"]))

    def of(self, key: str) -> AttachmentLink | None:
        return next((a for a in self.attachments if a.key == key), None)


_TYPED: dict[str, Callable[[dict[str, Any]], Frame]] = {
    "presence": Presence.from_frame,
    "typing": TypingIndicator.from_frame,
    "receipt": Receipt.from_frame,
    "unread": UnreadUpdate.from_frame,
    "unreadCounts": UnreadCounts.from_frame,
    "attachment": AttachmentReady.from_frame,
    "preferences": Preferences.from_frame,
    "conversationPreferences": ConversationPreferences.from_frame,
    "blocks": BlockList.from_frame,
    "reported": Reported.from_frame,
    "device": DeviceRegistration.from_frame,
    "upload": Upload.from_frame,
    "attachmentUrls": AttachmentUrls.from_frame,
}


def parse_frame(frame: dict[str, Any]) -> Frame:
    """The typed view of a frame the protocol defines; a plain :class:`Frame` for any other, or for one
    this client cannot read (a newer server's frame never breaks an older client)."""
    kind = str(frame_type(frame))
    make = _TYPED.get(kind)
    if make is not None:
        try:
            return make(frame)
        except (KeyError, TypeError, ValueError):
            pass
    return Frame(type=kind, data=frame)


Incoming = Message | Change | Frame
