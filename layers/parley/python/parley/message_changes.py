"""Edits, deletes and reactions: each changes a message's item in place with one conditional write (so a race
cannot slip past the checks), then takes the conversation's next seq as a change entry, which goes live to the
members and comes back to whoever missed it through catch-up (``history`` with ``after``).

Two writes, one after the other. If the first succeeded and the second failed, the request is answered with an
error, and the client's retry of the same request heals it: the message already shows the change, so nothing
is written to it again, and the change entry is recorded if the newest entries after the message do not hold it
already (``HEAL_SCAN_MAX``); if they do, it is delivered again (the first attempt may have died before)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.attachments import AttachmentService
from parley.clock import Clock, now_ms
from parley.conversations import ensure_member
from parley.envelopes import Envelope
from parley.errors import (
    BlockedError,
    ConflictError,
    ConversationNotFoundError,
    E2ENotEnabledError,
    E2ERequiredError,
    EditWindowClosedError,
    MessageDeletedError,
    MessageNotFoundError,
    NotAllowedError,
    TextTooLongError,
    TooManyReactionsError,
)
from parley.events import Events
from parley.messaging import MessagingService, SendOutcome, hidden_senders
from parley.models import Change, ChangeKind, Conversation, ConversationHead, ConversationKind, GroupRole, Message
from parley.moderation import ModerationService
from parley.ports import BlockStore, MessageStore
from parley.reactions import MAX_REACTIONS_PER_MESSAGE, check_emoji
from parley.user_ids import SYSTEM_SENDER

# A retry looks for the change entry it may have recorded among at most this many entries after the message.
HEAL_SCAN_MAX = 100
MODERATORS = frozenset({GroupRole.OWNER, GroupRole.ADMIN})
# Who a delete by the host app's backend (the server API) is by, in its change entry and its event: the app
# itself, as for its system messages (no user id has a ``#``, docs/protocol.md "User ids").
OPERATOR_ID = SYSTEM_SENDER


@dataclass(frozen=True)
class ChangeOutcome:
    conversation_id: str
    kind: ChangeKind
    target: int
    # the change entry to deliver: stored now, or (``duplicate``) by an earlier attempt of the same request, which
    # is delivered again within the redelivery window as a resent message is; None: no entry
    recorded: SendOutcome | None
    entry_seq: int | None  # the change entry's seq (stored now or by an earlier attempt); None: nothing changed


@dataclass(frozen=True)
class _Scene:
    """What every change reads first: the conversation and its newest entry, who may see the change."""

    head: ConversationHead
    conversation: Conversation
    recipients: tuple[str, ...]
    hidden: frozenset[str]  # senders whose messages the caller does not see (groups: the users they blocked)

    @property
    def blocked(self) -> bool:
        """A direct conversation whose other member blocked the caller: the caller may change nothing there."""
        return self.conversation.kind is ConversationKind.DIRECT and \
            len(self.recipients) < len(self.conversation.members)


class MessageChangeService:
    def __init__(self, messages: MessageStore, messaging: MessagingService, *, max_text_bytes: int,
                 edit_window_seconds: int, blocks: BlockStore | None = None,
                 moderation: ModerationService | None = None, attachments: AttachmentService | None = None,
                 clock: Clock = now_ms, events: Events | None = None) -> None:
        self._messages = messages
        self._events = events
        self._messaging = messaging
        self._max_text_bytes = max_text_bytes
        self._window_ms = edit_window_seconds * 1000
        self._blocks = blocks
        self._moderation = moderation
        self._attachments = attachments
        self._clock = clock

    # -- edit -----------------------------------------------------------------------------------------------

    def edit(self, me: str, conversation_id: str, seq: int, text: str | None,
             envelope: Envelope | None = None) -> ChangeOutcome:
        """The sender replaces their message's text (an attachment's caption too) within the edit window; in an
        end-to-end encrypted conversation its envelope (``envelope``, and no text)."""
        if text is not None and len(text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        scene = self._scene(me, conversation_id, seq)
        if scene.conversation.e2e and (text is not None or envelope is None):
            raise E2ERequiredError()
        if not scene.conversation.e2e and envelope is not None:
            raise E2ENotEnabledError()
        if scene.blocked:
            raise BlockedError()
        if self._moderation is not None and text is not None:
            text = self._moderation.review(me, scene.conversation, text)
        now = self._clock()
        edited = self._messages.edit(conversation_id, seq, sender_id=me, text=text, edited_at=now,
                                     sent_since=now - self._window_ms, envelope=envelope)
        if edited is None:
            current = self._visible(me, scene, seq)
            if current.body is None:
                raise MessageDeletedError()
            if current.sender_id != me:
                raise NotAllowedError("Only the sender may edit a message.")
            if (current.body.text, current.body.e2e) != (text, envelope):
                if current.sent_at < now - self._window_ms:
                    raise EditWindowClosedError()
                raise ConflictError()  # it changed between the write and this read: try again
            if current.edited_at is None:  # never edited, and the text asked for is its text: nothing to do
                return ChangeOutcome(conversation_id, ChangeKind.EDITED, seq, None, None)
            return self._heal(me, scene, Change(kind=ChangeKind.EDITED, target=seq, text=text, e2e=envelope),
                              at=current.edited_at)
        change = Change(kind=ChangeKind.EDITED, target=seq, text=text, e2e=envelope)
        return self._record(me, scene, change, scene.recipients, at=now)

    # -- delete ---------------------------------------------------------------------------------------------

    def delete(self, me: str, conversation_id: str, seq: int) -> ChangeOutcome:
        """The sender, or in groups the owner or an admin, deletes a message for everyone: its item becomes a
        tombstone and its attachments' files are deleted. Deleting a deleted message changes nothing."""
        scene = self._scene(me, conversation_id, seq)
        current = self._visible(me, scene, seq)
        moderator = scene.conversation.kind is ConversationKind.GROUP and scene.conversation.role_of(me) in MODERATORS
        if current.sender_id != me and not moderator:
            raise NotAllowedError("Only the sender, or in groups the owner and admins, may delete a message.")
        return self._delete(me, scene, current, sender_id=None if moderator else me)

    def delete_as_operator(self, conversation_id: str, seq: int) -> ChangeOutcome:
        """The host app's backend deletes a message for everyone (the server API, docs/server-api.md): the same
        tombstone, file deletion, change entry and live frame as a member's delete, by ``OPERATOR_ID``. Any
        message of the conversation, whoever sent it and whatever blocks there are."""
        head = self._messages.head(conversation_id, 1)
        if head.conversation is None:
            raise ConversationNotFoundError()
        if not 1 <= seq <= head.last_seq:
            raise MessageNotFoundError()
        current = self._messages.get(conversation_id, seq)
        if current is None or current.is_change:
            raise MessageNotFoundError()
        scene = _Scene(head=head, conversation=head.conversation, recipients=head.conversation.members,
                       hidden=frozenset())
        return self._delete(OPERATOR_ID, scene, current, sender_id=None)

    def _delete(self, me: str, scene: _Scene, current: Message, *, sender_id: str | None) -> ChangeOutcome:
        """Tombstone ``current`` (only if sent by ``sender_id``, when given) and record the delete."""
        conversation_id, seq = scene.conversation.conversation_id, current.seq
        change = Change(kind=ChangeKind.DELETED, target=seq)
        everyone = scene.conversation.members  # a delete removes content and says nothing new: it reaches all
        if current.body is None:
            return self._heal(me, scene, change, at=current.deleted_at, recipients=everyone)
        if self._attachments is not None:
            self._attachments.discard(current)  # first: once the item is a tombstone its keys are gone
        now = self._clock()
        was = self._messages.tombstone(conversation_id, seq, deleted_at=now, sender_id=sender_id,
                                       reactions=tuple(current.reactions))
        if was is None:  # deleted meanwhile (or not found: a change entry cannot be one)
            again = self._messages.get(conversation_id, seq)
            if again is None or again.body is not None:
                raise ConflictError()
            return self._heal(me, scene, change, at=again.deleted_at, recipients=everyone)
        outcome = self._record(me, scene, change, everyone, at=now)
        if self._events is not None:
            self._events.message_deleted(conversation_id, current, by=me, at=now, entry_seq=outcome.entry_seq)
        return outcome

    # -- react ----------------------------------------------------------------------------------------------

    def react(self, me: str, conversation_id: str, seq: int, emoji: str, *, remove: bool = False) -> ChangeOutcome:
        """A member adds (or takes off) one emoji on a message: each user has at most one of each emoji on a
        message, so adding it again (or taking off one not there) changes nothing and records nothing."""
        check_emoji(emoji)
        scene = self._scene(me, conversation_id, seq)
        if scene.blocked:
            raise BlockedError()
        if scene.hidden and self._visible(me, scene, seq).body is None:  # whose message it is: read it first
            raise MessageDeletedError()
        # No read otherwise: the conditional write refuses a change entry, a deleted message and none at all
        result = self._messages.react(conversation_id, seq, emoji=emoji, user_id=me, add=not remove)
        if result is None:
            if self._visible(me, scene, seq).body is None:  # a change entry (or none): message_not_found
                raise MessageDeletedError()
            raise ConflictError()  # a message again: try again
        changed, count, others = result
        if changed and not remove and count == 1 and others >= MAX_REACTIONS_PER_MESSAGE:
            # a new emoji on a message without room for it: taken back, nothing changed
            self._messages.react(conversation_id, seq, emoji=emoji, user_id=me, add=False)
            raise TooManyReactionsError(f"A message carries at most {MAX_REACTIONS_PER_MESSAGE} distinct emoji.")
        kind = ChangeKind.UNREACTED if remove else ChangeKind.REACTED
        change = Change(kind=kind, target=seq, emoji=emoji, count=count)
        if not changed:  # as asked already: record the entry only if an earlier attempt stored the change alone
            return self._heal(me, scene, change, kinds=(ChangeKind.REACTED, ChangeKind.UNREACTED),
                              same=lambda e: e.sender_id == me and e.change is not None and e.change.emoji == emoji)
        return self._record(me, scene, change, scene.recipients)

    # -- shared ---------------------------------------------------------------------------------------------

    def _scene(self, me: str, conversation_id: str, seq: int) -> _Scene:
        head = self._messages.head(conversation_id, 1)
        conversation = ensure_member(head.conversation, me)
        if seq > head.last_seq or seq < conversation.first_visible_seq(me):
            raise MessageNotFoundError()  # not there, or from before the caller joined: not theirs to change
        recipients = self._messaging.recipients(me, conversation)
        grouped = conversation.kind is ConversationKind.GROUP  # a direct conversation hides nothing: no read
        hidden = hidden_senders(conversation, self._blocks.blocks_of(me) if self._blocks and grouped else set())
        return _Scene(head=head, conversation=conversation, recipients=recipients, hidden=hidden)

    def _visible(self, me: str, scene: _Scene, seq: int) -> Message:
        """The message at ``seq`` as the caller may see it: a change entry, or (in groups) a message of a user
        the caller blocked, is no message of theirs to change."""
        message = self._messages.get(scene.conversation.conversation_id, seq)
        if message is None or message.is_change or message.sender_id in scene.hidden:
            raise MessageNotFoundError()
        return message

    def _record(self, me: str, scene: _Scene, change: Change, recipients: tuple[str, ...], *,
                at: int | None = None) -> ChangeOutcome:
        assert change.target is not None
        recorded = self._messaging.record_change(me, scene.head, change, recipients, at=at)
        return ChangeOutcome(scene.conversation.conversation_id, change.kind, change.target, recorded,
                             recorded.message.seq)

    def _heal(self, me: str, scene: _Scene, change: Change, *, same: Callable[[Message], bool] = lambda _e: True,
              kinds: tuple[ChangeKind, ...] = (), at: int | None = None,
              recipients: tuple[str, ...] | None = None) -> ChangeOutcome:
        """The message already shows ``change``: the request is a repeat. The newest entry about the same thing
        (of ``kinds``, for which ``same`` holds) after the target says whether an earlier attempt recorded it:
        then its seq is the answer; if there is none, or it says otherwise, ``change`` is recorded now. With
        more than ``HEAL_SCAN_MAX`` entries after the target nothing is looked for, and nothing recorded."""
        assert change.target is not None
        cid = scene.conversation.conversation_id
        head = self._messages.head_after(cid, change.target, HEAL_SCAN_MAX)
        if not head.complete or head.conversation is None:
            return ChangeOutcome(cid, change.kind, change.target, None, None)
        for entry in head.recent:  # newest first
            c = entry.change
            if c is None or c.target != change.target or c.kind not in (kinds or (change.kind,)) or not same(entry):
                continue
            if c.kind is change.kind and (c.text, c.e2e) == (change.text, change.e2e):  # stored before: delivered
                # again, as a resend is
                again = SendOutcome(message=entry, duplicate=True, recipients=recipients or scene.recipients,
                                    conversation=scene.conversation)
                return ChangeOutcome(cid, change.kind, change.target, again, entry.seq)
            break  # the newest entry about it says otherwise: the change was not recorded
        fresh = _Scene(head=head, conversation=scene.conversation, recipients=scene.recipients, hidden=scene.hidden)
        return self._record(me, fresh, change, recipients or scene.recipients, at=at)
