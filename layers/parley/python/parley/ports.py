"""The core's ports: what services need from storage and delivery. DynamoDB and API Gateway adapters
live in ``parley.stores``; tests use the in-memory fakes in ``tests/fakes.py``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from parley.models import (
    Ban,
    BanEntry,
    BlockRelations,
    Connection,
    Conversation,
    ConversationHead,
    DeliveryJob,
    Device,
    Job,
    JobTicket,
    Membership,
    Message,
    MessagePage,
    NotifyMode,
    Profile,
    Recipient,
    Report,
    ReportStatus,
    Resolution,
    ReviewedReport,
    StoredObject,
    UploadRecord,
)


class ConnectionStore(ABC):
    @abstractmethod
    def claim(self, connection: Connection, expires_at: int, max_per_user: int, now_ms: int) -> bool:
        """Record the connection unless its user already has ``max_per_user`` open ones (False then).
        Atomic: handshakes racing each other can never take a user past the cap."""

    @abstractmethod
    def delete(self, user_id: str, connection_id: str) -> None: ...

    @abstractmethod
    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        """Open connections of one user (expired records excluded), read strongly consistent."""

    @abstractmethod
    def list_for_users(self, user_ids: list[str], now_ms: int) -> dict[str, list[Connection]]:
        """Open connections of many users in one batch read (eventually consistent). A user left out of the
        answer could not be read (not known); a user without open connections maps to an empty list."""


class ConversationStore(ABC):
    @abstractmethod
    def get(self, conversation_id: str) -> Conversation | None: ...

    @abstractmethod
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None: ...

    @abstractmethod
    def create(self, conversation: Conversation) -> Conversation:
        """Store a new conversation and its memberships. For a direct conversation, if the pair already
        has one, store nothing and return the existing one."""

    @abstractmethod
    def get_many(self, conversation_ids: list[str]) -> dict[str, Conversation]: ...

    @abstractmethod
    def memberships(self, user_id: str) -> list[Membership]:
        """Every conversation membership of one user (bounded by that user's conversations)."""

    @abstractmethod
    def membership(self, user_id: str, conversation_id: str) -> Membership | None: ...

    @abstractmethod
    def mark_read(self, user_id: str, conversation_id: str, seq: int, ordinal: int) -> tuple[Membership, Membership]:
        """Raise the member's last-read seq to ``seq`` (never lowers it), with the ordinal of the entry there, and
        forget the unread mentions up to it; return the membership after and before."""

    @abstractmethod
    def add_mention(self, user_ids: list[str], conversation_id: str, seq: int) -> None:
        """Record message ``seq`` as an unread mention of each user still a member (adding it twice is once)."""

    @abstractmethod
    def set_preferences(self, user_id: str, conversation_id: str, *, notify: NotifyMode | None,
                        muted_until: int | None, fields: set[str]) -> Membership:
        """Set (or, given None, clear) the named fields among ``notify`` and ``muted_until``."""


class GroupStore(ABC):
    """Group changes: the group, its change entry and the memberships it adds or deletes, all or nothing."""

    @abstractmethod
    def apply(self, before: Conversation, after: Conversation, entry: Message, joined: list[str],
              left: list[str]) -> None:
        """In one transaction: ``after`` replaces the group if its version is still ``before.version``; ``entry``
        takes its seq if free; ``joined`` get a membership that has read up to ``entry``; the memberships of
        ``left`` are deleted. Stores nothing and raises ``GroupChangedError`` if the group changed meanwhile, or
        ``SeqTakenError`` (carrying the entry there) if the seq is taken."""


class MessageStore(ABC):
    @abstractmethod
    def head(self, conversation_id: str, window: int) -> ConversationHead:
        """The conversation and its newest ``window`` messages, newest first, in one strongly consistent read."""

    @abstractmethod
    def head_after(self, conversation_id: str, last_seq: int, max_messages: int) -> ConversationHead:
        """The conversation, its newest message and every message after ``last_seq`` (newest first), strongly
        consistent. ``complete`` is False when more than ``max_messages`` follow ``last_seq`` (then ``recent``
        holds none of them). A ``last_seq`` beyond the newest message gives ``newest.seq < last_seq``."""

    @abstractmethod
    def get(self, conversation_id: str, seq: int) -> Message | None: ...

    @abstractmethod
    def get_many(self, conversation_id: str, seqs: list[int]) -> dict[int, Message]:
        """The entries of one conversation at ``seqs`` (those that exist), strongly consistent, in one batch."""

    @abstractmethod
    def append(self, message: Message) -> None:
        """Store ``message`` under its seq. Raises ``SeqTakenError``, carrying the message stored there, if
        that seq already exists."""

    @abstractmethod
    def page(self, conversation_id: str, *, before: int | None, after: int | None, limit: int,
             floor: int = 1) -> MessagePage:
        """Up to ``limit`` entries after ``after`` (going forward) or else before ``before`` (going back from the
        newest), none below seq ``floor``."""

    @abstractmethod
    def latest(self, conversation_ids: list[str]) -> dict[str, Message | None]:
        """The newest entry of each conversation (None where there is none yet)."""

    @abstractmethod
    def edit(self, conversation_id: str, seq: int, *, sender_id: str, text: str, edited_at: int,
             sent_since: int) -> Message | None:
        """Set the message's text and edit time, in one conditional write, only if it is a message (not a change
        entry) by ``sender_id``, not deleted, sent at or after ``sent_since`` and its text is not ``text``
        already. The message as it is now; None when a condition failed (nothing changed)."""

    @abstractmethod
    def tombstone(self, conversation_id: str, seq: int, *, deleted_at: int, sender_id: str | None,
                  reactions: tuple[str, ...]) -> Message | None:
        """Delete the message's content for everyone: its body, edit time, reply, mentions and reactions go,
        ``deleted_at`` is set. Only if it is a message, not deleted yet, and (``sender_id``) sent by that user.
        ``reactions`` names the emoji known to be on it; any others are removed too. The message as it was;
        None when a condition failed (nothing changed)."""

    @abstractmethod
    def react(self, conversation_id: str, seq: int, *, emoji: str, user_id: str,
              add: bool) -> tuple[bool, int, int] | None:
        """Add (or take off) ``user_id``'s ``emoji`` on a message that is not deleted, in one conditional write:
        whether that changed anything, how many users have that emoji on it now, and how many other emoji it
        carried. None: no such message (or a deleted one, or a change entry); nothing changed."""


class ProfileStore(ABC):
    @abstractmethod
    def get(self, user_id: str) -> Profile:
        """The user's profile; the defaults where none was stored."""

    @abstractmethod
    def get_many(self, user_ids: list[str]) -> dict[str, Profile]: ...

    @abstractmethod
    def update(self, user_id: str, **changes: object) -> Profile:
        """Set the given profile fields (None leaves a field unchanged); return the profile after."""

    @abstractmethod
    def mark_first_seen(self, user_id: str, now_ms: int) -> None:
        """Record the user's first connection time, once."""

    @abstractmethod
    def count_unread(self, user_id: str, marker: str) -> int | None:
        """One more conversation with unread messages: add 1 to the badge unless ``marker`` (the message that
        turned it unread, ``<conversationId>#<seq>``) was the last one counted. The badge after, or None when
        ``marker`` was counted already (a retried event)."""

    @abstractmethod
    def uncount_unread(self, user_id: str) -> None:
        """One conversation fewer with unread messages: take 1 from the badge, never below 0."""

    @abstractmethod
    def set_badge(self, user_id: str, badge: int) -> None: ...


class RecipientStore(ABC):
    @abstractmethod
    def get_many(self, user_ids: list[str], conversation_id: str) -> dict[str, Recipient]:
        """Each user's profile and membership of the conversation, in one batch (eventually consistent): the
        same reads whatever the number of the users' conversations."""


class ThrottleStore(ABC):
    @abstractmethod
    def acquire(self, kind: str, user_id: str, scope: str, interval_ms: int, now_ms: int) -> bool:
        """True (and the next ``interval_ms`` reserved) if ``kind`` may happen now for this user and scope."""

    @abstractmethod
    def take(self, kind: str, user_id: str, rate_per_second: float, burst: int, now_ms: int, count: int = 1) -> int:
        """Take ``count`` tokens from the user's ``kind`` bucket: 0 if taken, else milliseconds to wait."""


class ConnectionGateway(ABC):
    """The @connections management API."""

    @abstractmethod
    def post(self, connection_id: str, data: bytes) -> None:
        """Deliver ``data``. Raises ``StaleConnectionError`` when the connection is gone (410)."""

    @abstractmethod
    def close(self, connection_id: str) -> None:
        """Close the connection (DeleteConnection). Raises ``StaleConnectionError`` when it is gone already."""


class SeqTakenError(Exception):
    """Another writer stored this sequence number first: ``winner`` is the message it stored."""

    def __init__(self, winner: Message) -> None:
        super().__init__(f"seq {winner.seq} is taken")
        self.winner = winner


class GroupChangedError(Exception):
    """The group changed (its version moved) between the read a group change was decided on and its write."""


class BlockStore(ABC):
    @abstractmethod
    def block(self, blocker: str, blocked: str, now_ms: int) -> None: ...

    @abstractmethod
    def unblock(self, blocker: str, blocked: str) -> None: ...

    @abstractmethod
    def blocked_by(self, user_id: str) -> set[str]:
        """The users who have blocked ``user_id``."""

    @abstractmethod
    def blocks_of(self, user_id: str) -> set[str]:
        """The users ``user_id`` has blocked."""

    @abstractmethod
    def has_blocked(self, blocker: str, blocked: str) -> bool: ...

    @abstractmethod
    def relations(self, user_id: str) -> BlockRelations:
        """Both directions at once (one read): whom ``user_id`` blocked and who blocked them."""


class ReportStore(ABC):
    @abstractmethod
    def add(self, report: Report) -> bool:
        """Store the report, open; False if this reporter already reported this message."""

    @abstractmethod
    def get(self, conversation_id: str, seq: int, reporter_id: str) -> ReviewedReport | None: ...

    @abstractmethod
    def of_message(self, conversation_id: str, seq: int) -> list[ReviewedReport]:
        """Every report of one message (one Query: bounded by the message's reporters)."""

    @abstractmethod
    def page(self, status: ReportStatus, limit: int, cursor: str | None) -> tuple[list[ReviewedReport], str | None]:
        """Reports with ``status``, newest first, from the index: a page and the cursor of the next (None: last)."""

    @abstractmethod
    def resolve(self, report: Report, resolution: Resolution, by: str, at: int, note: str | None) -> bool:
        """Mark the report resolved, if it is still open (False: it was resolved meanwhile; nothing changed)."""

    @abstractmethod
    def involving(self, user_id: str, role: Literal["reported", "reporter"],
                  limit: int) -> tuple[int, list[Report]]:
        """How many reports name ``user_id`` as the reported user (or as the reporter), and the newest
        ``limit`` of them, from the user's report references (Queries of one partition)."""

    @abstractmethod
    def of_conversation(self, conversation_id: str, limit: int) -> list[ReviewedReport]:
        """Up to ``limit`` reports of the conversation's messages, newest message first (one Query)."""


class BanStore(ABC):
    @abstractmethod
    def ban(self, ban: Ban) -> None:
        """Store ``ban`` as the user's ban in force (replacing any) and add it to their history, in one
        transaction."""

    @abstractmethod
    def unban(self, user_id: str, entry: BanEntry) -> bool:
        """Remove the user's ban and add ``entry`` to their history, in one transaction; False if there was no
        ban (nothing written)."""

    @abstractmethod
    def record(self, entry: BanEntry) -> None:
        """Add an entry (a warning) to the user's history."""

    @abstractmethod
    def get(self, user_id: str, *, consistent: bool = True) -> Ban | None:
        """The user's ban as stored, whether or not it is still in force (``consistent``: a strongly
        consistent read)."""

    @abstractmethod
    def page(self, limit: int, cursor: str | None) -> tuple[list[Ban], str | None]:
        """Stored bans, newest first, from the index: a page and the cursor of the next (None: last)."""

    @abstractmethod
    def history(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[BanEntry], str | None]:
        """The user's ban history, newest first."""


class UsedTokenStore(ABC):
    @abstractmethod
    def first_use(self, jti: str, expires_at: int) -> bool:
        """Remember ``jti`` until ``expires_at`` (epoch s); False if it was seen before."""


class EventPublisher(ABC):
    @abstractmethod
    def publish(self, event: dict[str, object], event_type: str) -> None: ...


class ModerationHook(ABC):
    @abstractmethod
    def review(self, request: dict[str, object]) -> dict[str, object]:
        """The hook's raw answer. Raises on timeout or failure."""


class DeviceStore(ABC):
    """Push devices, kept on their user's profile item; the token's owner index says whose it is now."""

    @abstractmethod
    def put(self, device: Device, max_devices: int) -> list[Device]:
        """Store the device as the user's, taking it from its previous owner if the token moved users (one
        transaction). The user keeps at most ``max_devices``: returns the oldest ones dropped for it."""

    @abstractmethod
    def delete(self, user_id: str, token_hash: str) -> Device | None: ...

    @abstractmethod
    def list_for_user(self, user_id: str) -> list[Device]:
        """The user's devices, oldest registration first."""


class PushGateway(ABC):
    """SNS mobile push: platform endpoints under the deploying team's platform applications."""

    @abstractmethod
    def ensure_endpoint(self, application_arn: str, token: str, user_id: str) -> str:
        """Create or update (and re-enable) the endpoint for ``token``; returns its ARN."""

    @abstractmethod
    def delete_endpoint(self, endpoint_arn: str) -> None: ...

    @abstractmethod
    def publish(self, endpoint_arn: str, message: dict[str, str], collapse_id: str | None = None) -> None:
        """Publish a per-platform message (MessageStructure=json). ``collapse_id``: pushes that carry the same
        one are shown once (APNs ``apns-collapse-id``). Raises EndpointDisabledError."""


class PushLedger(ABC):
    """Which devices were already pushed for a message, so a retried event never notifies twice."""

    @abstractmethod
    def pushed(self, message_id: str) -> set[str]:
        """Token hashes already pushed for this message."""

    @abstractmethod
    def record(self, message_id: str, token_hashes: set[str], expires_at: int) -> None:
        """Add ``token_hashes`` to the message's pushed set (one write, whatever their number)."""


class DeliveryQueue(ABC):
    """The at-least-once path for delivery work a ``send`` could not finish (``parley.delivery``)."""

    @abstractmethod
    def enqueue(self, job: DeliveryJob) -> None: ...


class ObjectStore(ABC):
    """The uploads bucket."""

    @abstractmethod
    def presign_post(self, key: str, content_type: str, max_bytes: int, ttl_seconds: int,
                     tags: dict[str, str]) -> tuple[str, dict[str, str]]:
        """A presigned POST for exactly this key and type, up to ``max_bytes``; the object gets ``tags``."""

    @abstractmethod
    def head(self, key: str) -> StoredObject | None: ...

    @abstractmethod
    def presign_get(self, key: str, ttl_seconds: int) -> str: ...

    @abstractmethod
    def read(self, key: str) -> tuple[bytes, str]: ...

    @abstractmethod
    def write(self, key: str, data: bytes, content_type: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def set_tags(self, key: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def delete(self, keys: list[str]) -> None:
        """Delete these objects (keys that do not exist are no error)."""

    @abstractmethod
    def list_keys(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` keys under ``prefix``, in key order."""


class UploadRecordStore(ABC):
    @abstractmethod
    def update(self, object_key: str, **fields: object) -> UploadRecord:
        """Set the given fields (None ones untouched) and return the whole record after the update."""

    @abstractmethod
    def get_many(self, object_keys: list[str]) -> dict[str, UploadRecord]: ...


class JobStore(ABC):
    """Erasure and export jobs (``parley.jobs``): one item per user and kind, its checkpoint included."""

    @abstractmethod
    def get(self, kind: str, user_id: str) -> Job | None: ...

    @abstractmethod
    def start(self, job: Job) -> Job:
        """Store ``job`` unless the user has a running job of its kind: then return that one, unchanged."""

    @abstractmethod
    def save(self, job: Job, step: int) -> bool:
        """Store ``job`` (its checkpoint) if the stored one is still at ``step`` with the same id: False when another
        worker moved it on meanwhile (nothing stored)."""


class JobQueue(ABC):
    @abstractmethod
    def enqueue(self, ticket: JobTicket) -> None:
        """Hand the job's next batch to a worker."""


class UserDataStore(ABC):
    """A user's data, found by key: what erasure deletes and export reads (``parley.erasure``, ``parley.export``)."""

    @abstractmethod
    def next_conversation(self, user_id: str, prefix: str, after: str | None) -> str | None:
        """The first conversation of the user's ``MEMBER#`` (or ``LEFT#``) items after ``after``, in key order."""

    @abstractmethod
    def stream_page(self, conversation_id: str, user_id: str, cursor: int, limit: int, *,
                    with_positions: bool) -> tuple[list[Message], int | None]:
        """Among the next ``limit`` stream entries after seq ``cursor``: the user's own (and, ``with_positions``,
        those whose recent senders name the user). The seq to go on after, or None at the end."""

    @abstractmethod
    def erase_message(self, message: Message, user_id: str, deleted_at: int, *, placeholder: bool) -> bool:
        """Make the user's message a tombstone (content, edits, reply, mentions, reactions gone), or with
        ``placeholder`` an authorless one (sender, client id and the user's recent-sender position gone too), if
        it is still theirs. False: it was not (nothing changed)."""

    @abstractmethod
    def scrub_change(self, entry: Message, user_id: str, *, placeholder: bool) -> None:
        """Remove an edit's text from the user's change entry (and with ``placeholder``, its author and the user's
        recent-sender position)."""

    @abstractmethod
    def forget_position(self, conversation_id: str, seq: int, user_id: str) -> None:
        """Drop the user from the entry's recent senders (they are no member: nobody's read position needs it)."""

    @abstractmethod
    def remove_reaction(self, conversation_id: str, seq: int, emoji: str, user_id: str) -> None: ...

    @abstractmethod
    def reports_by(self, conversation_id: str, user_id: str) -> list[Report]:
        """The reports the user made in the conversation."""

    @abstractmethod
    def delete(self, keys: list[tuple[str, str]]) -> None:
        """Delete these items (pk, sk); items not there are no error."""

    @abstractmethod
    def ban_keys(self, user_id: str) -> list[tuple[str, str]]:
        """The keys (pk, sk) of the user's ban in force and of their ban history's entries."""

    @abstractmethod
    def connection_ids(self, user_id: str) -> list[str]:
        """Every connection id in the user's connections item, expired ones included."""
