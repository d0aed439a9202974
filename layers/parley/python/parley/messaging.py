"""Sending and reading messages: per-conversation sequence numbers, idempotent resends, history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService, ensure_member
from parley.errors import BlockedError, ConflictError, TextTooLongError
from parley.models import Conversation, ConversationHead, ConversationKind, Message, MessageBody, MessagePage
from parley.moderation import ModerationService
from parley.ports import BlockStore, MessageStore, SeqTakenError

_APPEND_ATTEMPTS = 5


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    duplicate: bool  # a resend of a stored message: nothing new stored, nothing delivered again
    recipients: tuple[str, ...]
    conversation: Conversation


class MessagingService:
    def __init__(self, messages: MessageStore, conversations: ConversationService, *, max_text_bytes: int,
                 idempotency_window: int, blocks: BlockStore | None = None,
                 moderation: ModerationService | None = None, clock: Clock = now_ms) -> None:
        self._messages = messages
        self._conversations = conversations
        self._max_text_bytes = max_text_bytes
        self._window = idempotency_window
        self._blocks = blocks
        self._moderation = moderation
        self._clock = clock

    def send(self, me: str, conversation_id: str, client_msg_id: str, body: MessageBody) -> SendOutcome:
        if body.text and len(body.text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        head = self._messages.head(conversation_id, self._window)
        conversation = ensure_member(head.conversation, me)
        blocked_by = self._blocks.blocked_by(me) if self._blocks else set()
        recipients = tuple(u for u in conversation.members if u not in blocked_by)
        for attempt in range(_APPEND_ATTEMPTS):
            if attempt:
                head = self._messages.head(conversation_id, self._window)  # a concurrent send took our seq
            earlier = self._resent(head, me, client_msg_id)
            if earlier is not None:
                return SendOutcome(message=earlier, duplicate=True, recipients=recipients, conversation=conversation)
            if attempt == 0:
                if conversation.kind is ConversationKind.DIRECT and blocked_by & set(conversation.members):
                    raise BlockedError()
                if self._moderation is not None and body.text:
                    body = body.model_copy(update={"text": self._moderation.review(me, conversation, body.text)})
            message = Message(conversation_id=conversation_id, seq=head.last_seq + 1,
                              message_id=secrets.token_urlsafe(12), sender_id=me, sent_at=self._clock(),
                              client_msg_id=client_msg_id, body=body)
            try:
                self._messages.append(message)
            except SeqTakenError:
                continue
            return SendOutcome(message=message, duplicate=False, recipients=recipients, conversation=conversation)
        raise ConflictError()

    @staticmethod
    def _resent(head: ConversationHead, me: str, client_msg_id: str) -> Message | None:
        for earlier in head.recent:
            if earlier.sender_id == me and earlier.client_msg_id == client_msg_id:
                return earlier
        return None

    def history(self, me: str, conversation_id: str, *, before: int | None, after: int | None,
                limit: int) -> MessagePage:
        self._conversations.require_member(conversation_id, me)
        return self._messages.page(conversation_id, before=before, after=after, limit=limit)
