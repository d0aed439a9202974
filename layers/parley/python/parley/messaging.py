"""Sending and reading messages: per-conversation sequence numbers, idempotent resends, history."""

from __future__ import annotations

from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService, ensure_member
from parley.errors import (
    BlockedError,
    ConflictError,
    InvalidSeqError,
    NotMemberError,
    OutcomeUnknownError,
    StaleLastSeqError,
    TextTooLongError,
    ThrottledError,
)
from parley.models import Conversation, ConversationHead, ConversationKind, Message, MessageBody, MessagePage
from parley.moderation import ModerationService
from parley.ports import BlockStore, ConversationStore, MessageStore, SeqTakenError
from parley.read_state import next_recent_senders

_APPEND_ATTEMPTS = 5
# With lastSeq, a resend is looked for among every message after it, up to this many. A client that fell
# further behind between its first attempt and its resend is told to catch up (stale_last_seq).
RESEND_SCAN_MAX = 1000
# A history call reads at most this many messages to fill a page around messages hidden from the caller.
HISTORY_SCAN_MAX = 1000


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    duplicate: bool  # a resend of a stored message: nothing new stored
    recipients: tuple[str, ...]  # members it is delivered to (the sender's other connections included)
    conversation: Conversation


class MessagingService:
    def __init__(self, messages: MessageStore, conversations: ConversationService, *, max_text_bytes: int,
                 idempotency_window: int, blocks: BlockStore | None = None,
                 moderation: ModerationService | None = None, read_positions: ConversationStore | None = None,
                 clock: Clock = now_ms) -> None:
        self._messages = messages
        self._conversations = conversations
        self._max_text_bytes = max_text_bytes
        self._window = idempotency_window
        self._blocks = blocks
        self._moderation = moderation
        self._read_positions = read_positions
        self._clock = clock

    def send(self, me: str, conversation_id: str, client_msg_id: str, body: MessageBody, *,
             last_seq: int | None = None) -> SendOutcome:
        """Store the message under the next seq, or recognise a resend: with ``last_seq`` (the newest seq the
        client had when it first sent this ``clientMsgId``) among every message after it, without it among
        the newest ``idempotency_window`` messages."""
        if body.text and len(body.text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        head = self._messages.head(conversation_id, self._window) if last_seq is None \
            else self._messages.head_after(conversation_id, last_seq, RESEND_SCAN_MAX)
        conversation = ensure_member(head.conversation, me)  # first: lastSeq tells nothing to a non-member
        self._check_last_seq(head, last_seq)
        blocked_by = self._blocks.blocked_by(me) if self._blocks else set()
        recipients = tuple(u for u in conversation.members if u not in blocked_by)
        failure: Exception | None = None
        for attempt in range(_APPEND_ATTEMPTS):
            if attempt:
                head = self._head(conversation_id, last_seq)  # a concurrent send took our seq
            earlier = self._resent(head, me, client_msg_id)
            if earlier is not None:
                return SendOutcome(message=earlier, duplicate=True, recipients=recipients, conversation=conversation)
            if attempt == 0:
                if conversation.kind is ConversationKind.DIRECT and blocked_by & set(conversation.members):
                    raise BlockedError()
                if self._moderation is not None and body.text:
                    body = body.model_copy(update={"text": self._moderation.review(me, conversation, body.text)})
            seq = head.last_seq + 1
            senders, evicted = next_recent_senders(head.newest, me, seq)
            self._keep_read_positions(conversation_id, evicted)
            message = Message(conversation_id=conversation_id, seq=seq, sender_id=me, sent_at=self._clock(),
                              client_msg_id=client_msg_id, body=body, recent_senders=senders)
            try:
                self._messages.append(message)
            except SeqTakenError:
                continue
            except ThrottledError:
                raise  # refused outright: nothing stored
            except Exception as exc:  # a 5xx, a timeout, a lost answer: stored or not, it cannot tell
                stored = self._stored(conversation_id, last_seq, me, client_msg_id, exc)
                if stored is None:
                    failure = exc  # not stored (read back): try again
                    continue
                message = stored
            return SendOutcome(message=message, duplicate=False, recipients=recipients, conversation=conversation)
        if failure is not None:
            raise failure  # the store keeps failing (and nothing was stored): an internal error, resend later
        raise ConflictError()

    def _stored(self, conversation_id: str, last_seq: int | None, me: str, client_msg_id: str,
                failure: Exception) -> Message | None:
        """After a write whose outcome is unknown: the message if it was stored, None if it was not. Raises
        ``OutcomeUnknownError`` when even that cannot be read (then no answer may claim either)."""
        try:
            return self._resent(self._head(conversation_id, last_seq), me, client_msg_id)
        except Exception as exc:
            raise OutcomeUnknownError(f"{type(failure).__name__}, then {type(exc).__name__}") from exc

    def _head(self, conversation_id: str, last_seq: int | None) -> ConversationHead:
        if last_seq is None:
            return self._messages.head(conversation_id, self._window)
        head = self._messages.head_after(conversation_id, last_seq, RESEND_SCAN_MAX)
        self._check_last_seq(head, last_seq)
        return head

    @staticmethod
    def _check_last_seq(head: ConversationHead, last_seq: int | None) -> None:
        if last_seq is None:
            return
        if head.last_seq < last_seq:
            raise InvalidSeqError("lastSeq is beyond the conversation's newest message.")
        if not head.complete:
            raise StaleLastSeqError()

    def _keep_read_positions(self, conversation_id: str, evicted: dict[str, int]) -> None:
        """Senders dropped from the recent-senders map keep their read position in their membership (before
        the message that drops them is stored: the position is a fact either way)."""
        if self._read_positions is None:
            return
        for user, own_seq in evicted.items():
            try:
                self._read_positions.mark_read(user, conversation_id, own_seq)
            except NotMemberError:
                continue  # no longer a member: nothing to keep

    @staticmethod
    def _resent(head: ConversationHead, me: str, client_msg_id: str) -> Message | None:
        for earlier in head.recent:
            if earlier.sender_id == me and earlier.client_msg_id == client_msg_id:
                return earlier
        return None

    def history(self, me: str, conversation_id: str, *, before: int | None, after: int | None,
                limit: int) -> MessagePage:
        """A page of the messages ``me`` may see. In groups, those of users ``me`` blocked are left out, and
        the page reads on past them (up to ``HISTORY_SCAN_MAX`` messages) to fill itself."""
        conversation = self._conversations.require_member(conversation_id, me)
        hidden = hidden_senders(conversation, self._blocks.blocks_of(me) if self._blocks else set())
        forward = after is not None
        kept: list[Message] = []
        scanned = 0
        while True:
            page = self._messages.page(conversation_id, before=before, after=after, limit=limit)
            if not page.messages:
                return MessagePage(messages=tuple(kept), has_more=False)
            scanned += len(page.messages)
            visible = [m for m in page.messages if m.sender_id not in hidden]
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
                return MessagePage(messages=tuple(kept), has_more=False)
            if len(kept) >= limit or scanned >= HISTORY_SCAN_MAX:
                return MessagePage(messages=tuple(kept), has_more=True, next_seq=edge)
            if forward:
                after = edge
            else:
                before = edge


def hidden_senders(conversation: Conversation, blocked: set[str] | frozenset[str]) -> frozenset[str]:
    """Whose messages a member does not see: in groups, the users they blocked. In a direct conversation
    the blocked user can no longer send, and what was said before stays visible (it can be reported)."""
    if conversation.kind is not ConversationKind.GROUP:
        return frozenset()
    return frozenset(blocked)
