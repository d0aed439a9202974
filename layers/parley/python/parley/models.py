"""Domain models. They know nothing of API Gateway or DynamoDB.

Every model is built (its validator and serializer) when first used, not at import (``defer_build``): a
handler's cold start builds the few its route uses, not all of them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from parley.envelopes import Envelope


class ConversationKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class GroupRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class HistoryVisibility(StrEnum):
    """What a member added to a group sees of the messages from before they joined."""

    JOINED = "joined"  # the default: nothing before the entry that added them
    ALL = "all"  # all of it


class Conversation(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    conversation_id: str
    kind: ConversationKind
    members: tuple[str, ...]  # in the order they joined
    created_by: str
    created_at: int  # epoch milliseconds, server clock
    name: str | None = None
    # Groups: the owner and the admins (every other member is a ``member``). A group stored before roles has
    # none: its creator, while a member, is its owner.
    roles: dict[str, GroupRole] = Field(default_factory=dict)
    history_visibility: HistoryVisibility = HistoryVisibility.JOINED
    # Groups with ``joined`` history: the first seq each member added after the group's creation may read.
    visible_from: dict[str, int] = Field(default_factory=dict)
    version: int = 0  # counts the group's changes: a change is stored only over the version it read
    # End-to-end encrypted (docs/e2e.md): messages and edits are envelopes only; set at creation, for good.
    e2e: bool = False

    def has_member(self, user_id: str) -> bool:
        return user_id in self.members

    def role_of(self, user_id: str) -> GroupRole | None:
        """The member's role in a group (None: not a member)."""
        if user_id not in self.members:
            return None
        if user_id in self.roles:
            return self.roles[user_id]
        if user_id == self.created_by and GroupRole.OWNER not in self.roles.values():
            return GroupRole.OWNER
        return GroupRole.MEMBER

    def first_visible_seq(self, user_id: str) -> int:
        """The first seq ``user_id`` may read (1: all of the conversation)."""
        return self.visible_from.get(user_id, 1)


class Attachment(BaseModel):
    """A file in the uploads bucket that a message refers to; the bytes never travel over the socket."""

    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True)

    key: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    preview: str | None = None  # a tiny data: URI (a few hundred bytes) to show before any download


class MessageBody(BaseModel):
    """Text, attachments, or both; in an end-to-end encrypted conversation an envelope (``e2e``) and the
    encrypted files it describes, never text (``parley.messaging.check_e2e_body``)."""

    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True)

    text: str | None = None
    attachments: tuple[Attachment, ...] | None = None  # None, not (): text frames carry no empty list
    e2e: Annotated[Envelope | None, Field(alias="e2e")] = None

    @model_validator(mode="after")
    def _not_empty(self) -> MessageBody:
        if not self.text and not self.attachments and self.e2e is None:
            raise ValueError("a message needs text or attachments")
        return self


class ChangeKind(StrEnum):
    """What a change entry in a conversation's stream records (docs/protocol.md, "Changes")."""

    EDITED = "edited"  # target's text was edited
    DELETED = "deleted"  # target was deleted for everyone: a tombstone now
    REACTED = "reacted"  # ``by`` added ``emoji`` to target
    UNREACTED = "unreacted"  # ``by`` took ``emoji`` off target
    MEMBERS_ADDED = "membersAdded"  # ``users`` joined the group, added by ``by``
    MEMBER_REMOVED = "memberRemoved"  # ``users`` (one) was removed by ``by``
    MEMBER_LEFT = "memberLeft"  # ``by`` left (``owner``: who owns the group now, if ``by`` owned it)
    RENAMED = "renamed"  # the group is called ``name`` now
    ROLE_CHANGED = "roleChanged"  # ``users`` (one) has ``role`` now (``owner``: ownership passed to them)
    SETTINGS_CHANGED = "settingsChanged"  # the group's ``historyVisibility`` is now ``history``


class Change(BaseModel):
    """A change entry's content: what changed. It takes a seq in the conversation's stream like a message, so
    catch-up (``history`` with ``after``) returns it in order with the messages; it is never unread."""

    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True)

    kind: ChangeKind
    target: int | None = None  # edits, deletes and reactions: the seq of the message changed
    text: str | None = None  # edited: the new text
    # edited, in an end-to-end encrypted conversation: the new envelope
    e2e: Annotated[Envelope | None, Field(alias="e2e")] = None
    emoji: str | None = None  # reactions
    count: int | None = None  # reactions: how many users have ``emoji`` on the target after this change
    users: tuple[str, ...] | None = None  # membership and role changes: whom it concerns
    role: GroupRole | None = None  # roleChanged
    name: str | None = None  # renamed
    history: HistoryVisibility | None = None  # settingsChanged
    owner: str | None = None  # memberLeft by the owner: the member who owns the group now


def message_id_of(conversation_id: str, seq: int) -> str:
    """A message's id: ``<conversationId>.<seq>``, derived, never stored. Unambiguous (a seq has no ``.``: split
    at the last one) and at most 37 characters for the ids Parley makes, within APNs' 64-byte collapse id."""
    return f"{conversation_id}.{seq}"


class Message(BaseModel):
    """An entry of a conversation's stream: a message, or (with ``change``) a change to the conversation or to
    one of its messages. Both take the next seq."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    conversation_id: str
    seq: int = Field(ge=1)
    sender_id: str  # a change's author
    sent_at: int  # epoch milliseconds, server clock
    client_msg_id: str
    body: MessageBody | None = None  # None: a change entry, or a deleted message (a tombstone)
    # How many messages (change entries not counted) the stream holds up to and including this entry: unread
    # counts are differences of these (``parley.read_state``). 0: an entry stored before change entries
    # existed, when every entry was a message: its seq.
    ordinal: int = 0
    # The newest own message of the conversation's most recent senders, this one's included, as (seq,
    # ordinal), carried forward from entry to entry (``parley.read_state``): what makes "your own messages are
    # never unread" cost no write. Internal: never sent to clients.
    recent_senders: dict[str, tuple[int, int]] = Field(default_factory=dict)
    change: Change | None = None  # a change entry's content
    edited_at: int | None = None  # epoch ms of the last edit
    deleted_at: int | None = None  # epoch ms: deleted for everyone (``body`` is gone)
    reply_to: int | None = None  # the seq of the message this one replies to
    mentions: tuple[str, ...] = ()  # members mentioned
    reactions: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # emoji -> users who reacted with it

    @property
    def message_id(self) -> str:
        return message_id_of(self.conversation_id, self.seq)

    @property
    def is_change(self) -> bool:
        return self.change is not None

    @property
    def count(self) -> int:
        """This entry's ordinal (see ``ordinal``). A change entry always has its own: 0 when no message precedes it
        (only an entry stored before change entries existed, always a message, falls back to its seq)."""
        return self.ordinal if self.ordinal or self.is_change else self.seq


class FrameFormat(StrEnum):
    """How a connection's ``ack`` and ``message`` frames are written (docs/protocol.md, "Frame formats"): a
    presentation choice made at connect time, nothing else depends on it."""

    COMPACT = "compact"  # the default: short keys, only what the receiver cannot derive
    FULL = "full"  # every field, camelCase


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    connection_id: str
    user_id: str
    connected_at: int  # epoch milliseconds
    frame_format: FrameFormat = FrameFormat.COMPACT


class ConversationHead(BaseModel):
    """A conversation and the messages ``send`` must see, in one strongly consistent read: the newest
    message, and every message a resend may be the repeat of (newest first)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    conversation: Conversation | None
    recent: tuple[Message, ...] = ()  # newest first
    newest: Message | None = None  # the conversation's newest message (None: none yet)
    complete: bool = True  # False: more messages lie between the client's lastSeq and ``recent``

    @property
    def last_seq(self) -> int:
        return self.newest.seq if self.newest else 0


class MessagePage(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    messages: tuple[Message, ...]  # in sequence order
    has_more: bool
    # Where the next page starts when ``has_more``: the last seq this page covered going forward (``after``),
    # the first going backward (``before``). Hidden messages make it differ from the messages' own seqs.
    next_seq: int | None = None
    quoted: dict[int, Message] = Field(default_factory=dict)  # messages replied to that the page does not hold

    @property
    def quotes(self) -> dict[int, Message]:
        """Every message the page's replies may quote: its own messages and ``quoted``."""
        return {**{m.seq: m for m in self.messages if not m.is_change}, **self.quoted}




class Visibility(StrEnum):
    VISIBLE = "visible"
    INVISIBLE = "invisible"


class NotifyMode(StrEnum):
    PUSH = "push"  # an alert
    BADGE = "badge"  # a silent update of the app badge
    PASSIVE = "passive"  # the in-app counter only


class Platform(StrEnum):
    APNS = "apns"
    FCM = "fcm"


class Device(BaseModel):
    """A registered push device: one SNS platform endpoint (kept on its user's profile item)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    token_hash: str
    platform: Platform
    endpoint_arn: str
    registered_at: int


class PublishedDevice(BaseModel):
    """One device of a user in the key directory of end-to-end encryption (docs/e2e.md): public keys only."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    device_id: str
    identity_key: str  # Ed25519 public key, base64
    prekey_id: int
    prekey: str  # X25519 public key, base64
    prekey_sig: str  # Ed25519 signature of the prekey by the identity key, base64
    published_at: int  # epoch ms: when this prekey was published
    first_published_at: int  # epoch ms: when the device was (orders a user's devices)


class Profile(BaseModel):
    """A user's own settings, presence bookkeeping, push devices and badge (``USER#<uid>`` / ``~PROFILE``):
    everything the push notifier needs of a recipient, in one item."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    visibility: Visibility = Visibility.VISIBLE
    hide_read_receipts: bool = False
    notify: NotifyMode = NotifyMode.PUSH
    last_seen: int | None = None  # epoch ms; moves only while visible
    first_seen: int | None = None  # epoch ms of the first connection: an account-age signal for moderation
    # How many users this user blocked (kept with each block and unblock); None: not known, read the blocks.
    blocks_count: int | None = None
    devices: tuple[Device, ...] = ()  # oldest registration first
    # The app badge: how many conversations have unread messages (muted and passive ones not counted). Kept
    # by the push notifier when a conversation turns unread and set exactly at the last disconnect
    # (``parley.badges``).
    badge: int = 0


class Membership(BaseModel):
    """One user's state in one conversation (``USER#<uid>`` / ``MEMBER#<cid>``)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    conversation_id: str
    joined_at: int
    last_read_seq: int = 0
    # The ordinal (``Message.ordinal``) of the entry at ``last_read_seq``. None: stored before change entries
    # existed, when ordinals were seqs.
    last_read_ordinal: int | None = None
    mention_seqs: frozenset[int] = frozenset()  # messages that mention this member, not yet read
    notify: NotifyMode | None = None  # None: the user's default
    muted_until: int | None = None  # epoch ms
    e2e: bool = False  # the conversation is end-to-end encrypted

    def effective_notify(self, profile: Profile, now_ms: int) -> NotifyMode:
        if self.muted_until is not None and self.muted_until > now_ms:
            return NotifyMode.PASSIVE
        return self.notify or profile.notify

    def silenced(self, now_ms: int) -> bool:
        """Muted, or set to ``passive`` for this conversation: it does not count in the badge."""
        return (self.muted_until is not None and self.muted_until > now_ms) or self.notify is NotifyMode.PASSIVE

    def muted(self, now_ms: int) -> bool:
        """Muted for now: nothing is pushed, mentions included ("mute everything")."""
        return self.muted_until is not None and self.muted_until > now_ms

    @property
    def read_ordinal(self) -> int:
        return self.last_read_seq if self.last_read_ordinal is None else self.last_read_ordinal

    def unread_mentions(self, read_seq: int) -> int:
        return sum(1 for s in self.mention_seqs if s > read_seq)


class Recipient(BaseModel):
    """What the push notifier reads of one recipient of a message, in one batch: their profile and their
    membership of the message's conversation (None: no longer a member)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    profile: Profile
    membership: Membership | None


class PresenceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class Presence(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    status: PresenceStatus
    last_seen: int | None = None


class ConversationSummary(BaseModel):
    """A conversation as one member sees it in their list: unread count and the newest message they may see."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    conversation: Conversation
    membership: Membership
    last_message: Message | None  # the newest message this member may see (not one of a user they blocked)
    last_seq: int  # the conversation's newest seq (hidden messages included): what `read` may go up to
    unread: int  # messages from others after the member's read position, hidden ones excluded
    read_seq: int  # the member's read position: their last-read seq, or their own newest message if later
    mentions: int = 0  # unread messages that mention the member

    @property
    def last_activity(self) -> int:
        return self.last_message.sent_at if self.last_message else self.conversation.created_at


class ConversationPage(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    conversations: tuple[ConversationSummary, ...]  # newest activity first
    cursor: str | None = None


class BlockRelations(BaseModel):
    """One user's blocks in both directions."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    blocks: frozenset[str] = frozenset()  # users this user blocked: their messages are hidden from this user
    blocked_by: frozenset[str] = frozenset()  # users who blocked this user

    @property
    def either(self) -> frozenset[str]:
        """Users with a block between them and this user, whichever way: no presence, typing or receipts."""
        return self.blocks | self.blocked_by


class DeliveryJob(BaseModel):
    """Delivery work for a stored message that its ``send`` could not finish: members to deliver to live
    (look up their connections and post; the unread path for those not reached) and members known to need
    the unread event. Carried by the delivery queue as camelCase JSON."""

    model_config = ConfigDict(frozen=True, defer_build=True, alias_generator=to_camel, populate_by_name=True)

    conversation_id: str
    seq: int = Field(ge=1)
    live: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()
    exclude_connection: str | None = None  # the sending connection: it got the ack instead
    mark: tuple[str, ...] = ()  # mentioned members whose mention is still to be recorded

    @property
    def empty(self) -> bool:
        return not self.live and not self.unread and not self.mark


class Report(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    conversation_id: str
    seq: int
    message_id: str
    reported_user_id: str
    reporter_id: str
    reason: str | None
    text: str
    reported_at: int


class UploadTicket(BaseModel):
    """A presigned S3 POST: the app uploads the file straight to S3 with ``url`` and ``fields``."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    url: str
    fields: dict[str, str]
    expires_at: int  # epoch ms


class StoredObject(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    size: int
    content_type: str


class UploadRecord(BaseModel):
    """What Parley knows of one upload (``UPLOAD#<key>``): the message that sent it and its thumbnail."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    conversation_id: str | None = None
    seq: int | None = None
    thumbnail_key: str | None = None
    served_key: str | None = None  # the copy without EXIF location data
    preview: str | None = None
    width: int | None = None
    height: int | None = None
    deleted_at: int | None = None  # epoch ms: its message was deleted, its files with it


class BanAction(StrEnum):
    BANNED = "banned"
    UNBANNED = "unbanned"
    WARNED = "warned"


class Ban(BaseModel):
    """A user's ban in force: until ``until`` (epoch ms), or for good (None)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    banned_at: int
    until: int | None
    reason: str | None
    by: str  # who banned them: the server API caller's principal

    def in_force(self, now_ms: int) -> bool:
        return self.until is None or self.until > now_ms


class BanEntry(BaseModel):
    """One entry of a user's ban history: a ban, an unban or a warning, kept after the ban ends."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    action: BanAction
    at: int
    by: str
    until: int | None = None  # BANNED: the ban's end (None: for good)
    reason: str | None = None


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a report was resolved (docs/server-api.md, "Moderation")."""

    DISMISSED = "dismissed"  # nothing wrong: nothing done
    MESSAGE_DELETED = "message_deleted"  # the message deleted for everyone
    WARNED = "warned"  # a warning recorded in the reported user's ban history
    BANNED = "banned"  # the reported user banned (and the message deleted too, if asked)


class ReviewedReport(BaseModel):
    """A report as moderators see it: the report, whether it is open, and its resolution once resolved."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    report: Report
    status: ReportStatus
    resolution: Resolution | None = None
    resolved_by: str | None = None
    resolved_at: int | None = None
    note: str | None = None
    message_deleted: bool = False  # the reported message is deleted now (its text is gone: ``report.text`` is "")
class JobKind(StrEnum):
    ERASURE = "erasure"
    EXPORT = "export"


class JobStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"


class Job(BaseModel):
    """A user's erasure or export (``parley.jobs``): asynchronous, in bounded batches, each ending with a checkpoint
    of where the job stands, so that a batch cut short is done again from there (every step is idempotent)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: JobKind
    user_id: str
    job_id: str
    status: JobStatus = JobStatus.RUNNING
    started_at: int  # epoch ms
    updated_at: int
    finished_at: int | None = None
    step: int = 0  # batches done: a checkpoint is stored only over the step it was computed from
    phase: str  # what the job does now (each kind names its own, in order)
    conversation_id: str | None = None  # the conversation being walked
    after: str | None = None  # the last conversation the phase finished (the walk goes on after it)
    cursor: int = 0  # the seq the walk of ``conversation_id`` has read up to
    counts: dict[str, int] = Field(default_factory=dict)  # what was done so far, by kind of item
    mode: str | None = None  # erasure: the deploy-time choice for messages (``tombstone`` or ``delete``)
    result_key: str | None = None  # export: the JSON file's object key
    download_url: str | None = None  # export: the presigned link, valid until ``url_expires_at``
    url_expires_at: int | None = None  # epoch ms


class JobTicket(BaseModel):
    """What the jobs queue carries: which job's next batch to run."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: JobKind
    user_id: str
    job_id: str
