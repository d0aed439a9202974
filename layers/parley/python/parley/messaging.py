"""Sending and reading messages: per-conversation sequence numbers, idempotent resends, history."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService, ensure_member
from parley.errors import (
    BlockedError,
    ConflictError,
    ConversationNotFoundError,
    E2ENotEnabledError,
    E2ERequiredError,
    InvalidMentionsError,
    InvalidReplyError,
    InvalidSeqError,
    NotMemberError,
    OutcomeUnknownError,
    StaleLastSeqError,
    TextTooLongError,
    ThrottledError,
)
from parley.events import Events
from parley.models import (
    Change,
    ChangeKind,
    Conversation,
    ConversationHead,
    ConversationKind,
    Message,
    MessageBody,
    MessagePage,
)
from parley.moderation import ModerationService
from parley.ports import BlockStore, ConversationStore, MessageStore, SeqTakenError
from parley.read_state import Position, next_recent_senders, position_of
from parley.user_ids import is_system_sender

# A send puts its message at the conversation's next seq. When another send stored that seq first (a lost race),
# the failed put brings back the message that won, and the send puts at the seq after it, carrying the read
# state forward from it: no new read of the conversation, so a busy conversation costs one put per lost race.
# At most this many puts lose a race before the send answers `conflict` (docs/performance.md, "One busy
# conversation": at DynamoDB's latencies none does below 100 messages/s in one conversation).
SEQ_RACE_PUTS = 100
# A put that fails with an error (a 5xx or a timeout, after botocore's own retries) may have stored the message:
# it is put again, unchanged, at the same seq (a copy already there is then recognised as this send's). After
# this many such failures, the seq is read back to tell the client whether it was stored.
FAILED_PUTS = 3
# With lastSeq, a resend is looked for among every message after it, up to this many. A client that fell
# further behind between its first attempt and its resend is told to catch up (stale_last_seq).
RESEND_SCAN_MAX = 1000
# A history call reads at most this many messages to fill a page around messages hidden from the caller.
HISTORY_SCAN_MAX = 1000
# Changes to one message. Going back (``before``) history leaves them out: the messages it returns already show
# them (their text, tombstones and reactions as they are now). Going forward (catch-up) it returns them.
MESSAGE_CHANGES = frozenset({ChangeKind.EDITED, ChangeKind.DELETED, ChangeKind.REACTED, ChangeKind.UNREACTED})
# A message mentions at most this many members (docs/protocol.md, ``send``).
MAX_MENTIONS = 50


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    duplicate: bool  # a resend of a stored message: nothing new stored
    recipients: tuple[str, ...]  # members it is delivered to (the sender's other connections included)
    conversation: Conversation
    lost_races: int = 0  # puts that found their seq taken by another message before this one was stored
    quoted: Message | None = None  # a reply: the message it replies to, as the send read it (for its quote)


@dataclass(frozen=True)
class _Draft:
    """What a send (or a change) stores, before it has a seq."""

    conversation_id: str
    sender_id: str
    client_msg_id: str
    body: MessageBody | None = None
    change: Change | None = None
    reply_to: int | None = None
    mentions: tuple[str, ...] = field(default=())
    sent_at: int | None = None  # a change's own time (an edit's time, as its message carries it); None: now


def check_e2e_body(conversation: Conversation, body: MessageBody) -> None:
    """An end-to-end encrypted conversation takes envelopes only (no text, and no message without one); a plain
    one takes no envelope (docs/e2e.md)."""
    if conversation.e2e and (body.text is not None or body.e2e is None):
        raise E2ERequiredError()
    if not conversation.e2e and body.e2e is not None:
        raise E2ENotEnabledError()


class MessagingService:
    def __init__(self, messages: MessageStore, conversations: ConversationService, *, max_text_bytes: int,
                 idempotency_window: int, blocks: BlockStore | None = None,
                 moderation: ModerationService | None = None, read_positions: ConversationStore | None = None,
                 clock: Clock = now_ms, events: Events | None = None) -> None:
        self._messages = messages
        self._events = events
        self._conversations = conversations
        self._max_text_bytes = max_text_bytes
        self._window = idempotency_window
        self._blocks = blocks
        self._moderation = moderation
        self._read_positions = read_positions
        self._clock = clock

    def send(self, me: str, conversation_id: str, client_msg_id: str, body: MessageBody, *,
             last_seq: int | None = None, reply_to: int | None = None,
             mentions: Sequence[str] = ()) -> SendOutcome:
        """Store the message under the next seq, or recognise a resend: with ``last_seq`` (the newest seq the
        client had when it first sent this ``clientMsgId``) among every message after it, without it among
        the newest ``idempotency_window`` messages. ``reply_to`` must be a message ``me`` can see (a deleted
        one too: its quote says so); ``mentions`` current members. A resend is recognised before either is
        checked: the stored message answers, whatever the resend says."""
        if body.text and len(body.text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        head = self._messages.head(conversation_id, self._window) if last_seq is None \
            else self._messages.head_after(conversation_id, last_seq, RESEND_SCAN_MAX)
        conversation = ensure_member(head.conversation, me)  # first: lastSeq tells nothing to a non-member
        check_e2e_body(conversation, body)
        self._check_last_seq(head, last_seq)
        recipients = self.recipients(me, conversation)
        earlier = self._resent(head, me, client_msg_id)
        if earlier is not None:  # (its delivery reads what it quotes: a failed read here would hide the ack)
            return SendOutcome(message=earlier, duplicate=True, recipients=recipients, conversation=conversation)
        if conversation.kind is ConversationKind.DIRECT and len(recipients) < len(conversation.members):
            raise BlockedError()  # the other member blocked the sender
        quoted = self._reply_target(me, conversation, head, reply_to) if reply_to is not None else None
        mentioned = _checked_mentions(conversation, mentions)
        if self._moderation is not None and body.text:
            body = body.model_copy(update={"text": self._moderation.review(me, conversation, body.text)})
        draft = _Draft(conversation_id=conversation_id, sender_id=me, client_msg_id=client_msg_id, body=body,
                       reply_to=reply_to, mentions=mentioned)
        sent = self._announced(self._append(draft, head, recipients, conversation))
        return replace(sent, quoted=quoted) if quoted is not None else sent

    def post_system(self, sender: str, conversation_id: str, client_msg_id: str, body: MessageBody, *,
                    last_seq: int | None = None) -> SendOutcome:
        """A message of the app itself or of one of its bots (``sender``, ``parley.user_ids.is_system_sender``),
        posted through the server API: stored, delivered, counted unread and pushed like a member's, to every
        member (blocks are between users; no user sent it), without moderation (the app wrote it). A resend
        is recognised as ``send`` recognises one: same sender, same ``clientMsgId``."""
        if not is_system_sender(sender):
            raise ValueError("a system message's sender is the system or a bot")
        if body.text and len(body.text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        head = self._messages.head(conversation_id, self._window) if last_seq is None \
            else self._messages.head_after(conversation_id, last_seq, RESEND_SCAN_MAX)
        if head.conversation is None:
            raise ConversationNotFoundError()
        conversation = head.conversation
        if conversation.e2e:
            raise E2ERequiredError("This conversation is end-to-end encrypted: the server cannot write into it.")
        self._check_last_seq(head, last_seq)
        earlier = self._resent(head, sender, client_msg_id)
        if earlier is not None:
            return SendOutcome(message=earlier, duplicate=True, recipients=conversation.members,
                               conversation=conversation)
        draft = _Draft(conversation_id=conversation_id, sender_id=sender, client_msg_id=client_msg_id, body=body)
        return self._announced(self._append(draft, head, conversation.members, conversation))

    def _announced(self, sent: SendOutcome) -> SendOutcome:
        """``message.created`` for a message stored now (not a resend), when the deployment asks for it."""
        if self._events is not None and not sent.duplicate:
            self._events.message_created(sent.conversation, sent.message)
        return sent

    def _reply_target(self, me: str, conversation: Conversation, head: ConversationHead, seq: int) -> Message:
        """The message a reply answers: one of this conversation (not a change entry) that ``me`` may read (not
        from before they joined a group that keeps history from joining, not of a user they blocked in a
        group). A deleted one may be replied to. Read from the head when it holds it."""
        target = next((m for m in head.recent if m.seq == seq), None)
        if target is None and conversation.first_visible_seq(me) <= seq <= head.last_seq:
            target = self._messages.get(conversation.conversation_id, seq)
        if target is None or target.is_change or seq < conversation.first_visible_seq(me):
            raise InvalidReplyError()
        if conversation.kind is ConversationKind.GROUP and self._blocks is not None \
                and target.sender_id in hidden_senders(conversation, self._blocks.blocks_of(me)):
            raise InvalidReplyError()
        return target

    def _append(self, draft: _Draft, head: ConversationHead, recipients: tuple[str, ...],
                conversation: Conversation) -> SendOutcome:
        """Put the message at the seq after ``head``'s newest, walking forward past the messages that win
        races for it. Each winner is looked at as it comes, so a copy of this message among them (a resend
        racing its original) is recognised and not stored twice."""
        newest, seq = head.newest, head.last_seq + 1
        unsure: Message | None = None  # put, and failed with an error: maybe stored
        failure: Exception | None = None
        lost = failed = 0
        while lost < SEQ_RACE_PUTS and failed < FAILED_PUTS:
            message = unsure or self._message(draft, newest, seq)
            try:
                self._messages.append(message)
            except SeqTakenError as taken:
                winner = taken.winner
            except ThrottledError as exc:
                if unsure is None:
                    raise  # refused outright, and no earlier put can have stored it: nothing stored
                failure, failed = exc, failed + 1
                continue
            except Exception as exc:  # a 5xx, a timeout, a lost answer: stored or not, it cannot tell yet
                unsure, failure, failed = message, exc, failed + 1
                continue  # the same message at the same seq: if the first put stored it, this one finds it
            else:
                return self._outcome(message, False, recipients, conversation, lost)
            if winner.sender_id == draft.sender_id and winner.client_msg_id == draft.client_msg_id:
                own_write = winner.sent_at == message.sent_at  # ids derive from the seq: the time tells apart
                return self._outcome(winner, not own_write, recipients, conversation, lost)
            lost += 1
            unsure = None  # another message holds that seq: this one was not stored there
            newest, seq = winner, winner.seq + 1
        if unsure is not None and failure is not None:
            return self._outcome(self._read_back(unsure, failure), False, recipients, conversation, lost)
        if failed >= FAILED_PUTS and failure is not None:
            raise failure  # the store keeps failing (and nothing was stored): an internal error, resend later
        raise ConflictError()

    def recipients(self, me: str, conversation: Conversation) -> tuple[str, ...]:
        """Whom a message or a change of ``me`` reaches: every member but those who blocked ``me``."""
        blocked_by = self._blocks.blocked_by(me) if self._blocks else set()
        return tuple(u for u in conversation.members if u not in blocked_by)

    def record_change(self, me: str, head: ConversationHead, change: Change,
                      recipients: tuple[str, ...], *, at: int | None = None) -> SendOutcome:
        """Store a change entry (an edit, a delete, a reaction, a membership change) at the conversation's next
        seq, after checks done by the caller: it is not a message, is never unread and never a resend. ``at``:
        the change's time (None: now)."""
        conversation = head.conversation
        if conversation is None:
            raise ValueError("a change needs the conversation")
        draft = _Draft(conversation_id=conversation.conversation_id, sender_id=me,
                       client_msg_id=f"~{secrets.token_urlsafe(9)}", change=change, sent_at=at)
        return self._append(draft, head, recipients, conversation)

    def _message(self, draft: _Draft, newest: Message | None, seq: int) -> Message:
        is_message = draft.change is None
        at = Position(seq, position_of(newest).ordinal + (1 if is_message else 0))
        senders, evicted = next_recent_senders(newest, draft.sender_id if is_message else None, at)
        self._keep_read_positions(draft.conversation_id, evicted)
        return Message(conversation_id=draft.conversation_id, seq=seq, sender_id=draft.sender_id,
                       sent_at=draft.sent_at or self._clock(), client_msg_id=draft.client_msg_id,
                       body=draft.body, ordinal=at.ordinal, recent_senders=senders, change=draft.change,
                       reply_to=draft.reply_to, mentions=draft.mentions)

    def _read_back(self, message: Message, failure: Exception) -> Message:
        """After puts whose outcome is unknown: the message if its seq holds it; else ``failure`` is raised (it
        was not stored). Raises ``OutcomeUnknownError`` when even that cannot be read (then no answer may
        claim either)."""
        try:
            there = self._messages.get(message.conversation_id, message.seq)
        except Exception as exc:
            raise OutcomeUnknownError(f"{type(failure).__name__}, then {type(exc).__name__}") from exc
        if there is not None and there.sender_id == message.sender_id and \
                there.client_msg_id == message.client_msg_id:
            return there
        raise failure

    @staticmethod
    def _outcome(message: Message, duplicate: bool, recipients: tuple[str, ...], conversation: Conversation,
                 lost_races: int) -> SendOutcome:
        return SendOutcome(message=message, duplicate=duplicate, recipients=recipients, conversation=conversation,
                           lost_races=lost_races)

    @staticmethod
    def _check_last_seq(head: ConversationHead, last_seq: int | None) -> None:
        if last_seq is None:
            return
        if head.last_seq < last_seq:
            raise InvalidSeqError("lastSeq is beyond the conversation's newest message.")
        if not head.complete:
            raise StaleLastSeqError()

    def _keep_read_positions(self, conversation_id: str, evicted: dict[str, Position]) -> None:
        """Senders dropped from the recent-senders map keep their read position in their membership (before
        the message that drops them is stored: the position is a fact either way)."""
        if self._read_positions is None:
            return
        for user, own in evicted.items():
            try:
                self._read_positions.mark_read(user, conversation_id, own.seq, own.ordinal)
            except NotMemberError:
                continue  # no longer a member: nothing to keep

    @staticmethod
    def _resent(head: ConversationHead, me: str, client_msg_id: str) -> Message | None:
        for earlier in head.recent:
            if earlier.sender_id == me and earlier.client_msg_id == client_msg_id and not earlier.is_change:
                return earlier
        return None

    def history(self, me: str, conversation_id: str, *, before: int | None, after: int | None,
                limit: int) -> MessagePage:
        """A page of the entries ``me`` may see: messages and, going forward (catch-up), the changes to them, and
        membership changes either way. In groups, entries of users ``me`` blocked are left out, and so is what
        came before ``me`` joined if the group keeps history from joining; the page reads on past what it
        leaves out (up to ``HISTORY_SCAN_MAX`` entries) to fill itself. Messages replied to that the page does
        not hold come with it (``quoted``)."""
        conversation = self._conversations.require_member(conversation_id, me)
        hidden = hidden_senders(conversation, self._blocks.blocks_of(me) if self._blocks else set())
        floor = conversation.first_visible_seq(me)
        forward = after is not None

        def shown(m: Message) -> bool:
            if m.change is None:
                return m.sender_id not in hidden
            if m.change.kind is ChangeKind.DELETED:  # removes content, says nothing new: whoever made it
                return forward
            if m.change.kind in MESSAGE_CHANGES:
                return forward and m.sender_id not in hidden
            return True

        kept: list[Message] = []
        scanned = 0
        while True:
            page = self._messages.page(conversation_id, before=before, after=after, limit=limit, floor=floor)
            if not page.messages:
                return self._with_quotes(hidden, floor, MessagePage(messages=tuple(kept), has_more=False))
            scanned += len(page.messages)
            visible = [m for m in page.messages if shown(m)]
            room = limit - len(kept)
            if forward:
                taken = visible[:room]
                kept += taken
                edge = taken[-1].seq if len(visible) > room else page.messages[-1].seq
            else:
                taken = visible[-room:]
                kept = taken + kept
                edge = taken[0].seq if len(visible) > room else page.messages[0].seq
            if not (page.has_more or len(visible) > room):
                return self._with_quotes(hidden, floor, MessagePage(messages=tuple(kept), has_more=False))
            if len(kept) >= limit or scanned >= HISTORY_SCAN_MAX:
                return self._with_quotes(hidden, floor,
                                         MessagePage(messages=tuple(kept), has_more=True, next_seq=edge))
            if forward:
                after = edge
            else:
                before = edge

    def _with_quotes(self, hidden: frozenset[str], floor: int, page: MessagePage) -> MessagePage:
        """With the messages the page's replies quote that it does not hold, as they are now (a deleted one is a
        tombstone). One the reader may not see (from before ``floor``, or of a user they blocked in a group) is
        left out: its reply's quote then says only that it is not there."""
        held = {m.seq for m in page.messages}
        wanted = sorted({m.reply_to for m in page.messages
                         if m.reply_to is not None and m.reply_to not in held and m.reply_to >= floor})
        if not wanted:
            return page
        found = self._messages.get_many(page.messages[0].conversation_id, wanted)
        return page.model_copy(update={"quoted": {seq: m for seq, m in found.items()
                                                  if not m.is_change and m.sender_id not in hidden}})


def _checked_mentions(conversation: Conversation, mentions: Sequence[str]) -> tuple[str, ...]:
    """``mentions`` without repeats, in order; every one a current member (else ``invalid_mentions``)."""
    mentioned = tuple(dict.fromkeys(mentions))
    if len(mentioned) > MAX_MENTIONS or any(not conversation.has_member(u) for u in mentioned):
        raise InvalidMentionsError()
    return mentioned


def hidden_senders(conversation: Conversation, blocked: set[str] | frozenset[str]) -> frozenset[str]:
    """Whose messages a member does not see: in groups, the users they blocked. In a direct conversation
    the blocked user can no longer send, and what was said before stays visible (it can be reported)."""
    if conversation.kind is not ConversationKind.GROUP:
        return frozenset()
    return frozenset(blocked)
