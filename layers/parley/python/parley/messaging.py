"""Sending and reading messages: per-conversation sequence numbers, idempotent resends, history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService, ensure_member
from parley.errors import ConflictError, TextTooLongError
from parley.models import Message, MessageBody, MessagePage
from parley.ports import MessageStore, SeqTakenError

_APPEND_ATTEMPTS = 5


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    duplicate: bool  # a resend of a stored message: nothing new stored, nothing delivered again
    recipients: tuple[str, ...]


class MessagingService:
    def __init__(self, messages: MessageStore, conversations: ConversationService, *, max_text_bytes: int,
                 idempotency_window: int, clock: Clock = now_ms) -> None:
        self._messages = messages
        self._conversations = conversations
        self._max_text_bytes = max_text_bytes
        self._window = idempotency_window
        self._clock = clock

    def send(self, me: str, conversation_id: str, client_msg_id: str, body: MessageBody) -> SendOutcome:
        if len(body.text.encode()) > self._max_text_bytes:
            raise TextTooLongError(f"Text is limited to {self._max_text_bytes} bytes of UTF-8.")
        for _ in range(_APPEND_ATTEMPTS):
            head = self._messages.head(conversation_id, self._window)
            conversation = ensure_member(head.conversation, me)
            for earlier in head.recent:
                if earlier.sender_id == me and earlier.client_msg_id == client_msg_id:
                    return SendOutcome(message=earlier, duplicate=True, recipients=conversation.members)
            message = Message(conversation_id=conversation_id, seq=head.last_seq + 1,
                              message_id=secrets.token_urlsafe(12), sender_id=me, sent_at=self._clock(),
                              client_msg_id=client_msg_id, body=body)
            try:
                self._messages.append(message)
            except SeqTakenError:
                continue  # a concurrent send took this seq: read the head again
            return SendOutcome(message=message, duplicate=False, recipients=conversation.members)
        raise ConflictError()

    def history(self, me: str, conversation_id: str, *, before: int | None, after: int | None,
                limit: int) -> MessagePage:
        self._conversations.require_member(conversation_id, me)
        return self._messages.page(conversation_id, before=before, after=after, limit=limit)
