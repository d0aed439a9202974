"""The "unread events" contract: one event per stored message that has offline recipients, published
to an SNS topic. Parley's notifier turns it into pushes; a host app may subscribe its own queue, HTTPS
endpoint or Lambda (docs/events.md documents it as a versioned public contract)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from parley.models import Conversation, Message
from parley.ports import EventPublisher

UNREAD_EVENT = "message.unread"


class UnreadEvent(BaseModel):
    # The notifier raises on an event it cannot read; the error reaches X-Ray, the logs and the dead-letter
    # queue's ErrorMessage, so it must not quote the event (its text is the message's).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              hide_input_in_errors=True, defer_build=True)

    type: Literal["message.unread"] = "message.unread"
    version: Literal[1] = 1
    conversation_id: str
    conversation_kind: str
    conversation_name: str | None = None
    seq: int
    # The message's place among the conversation's messages (change entries -- edits, reactions, membership
    # changes -- not counted): how Parley's notifier counts unread messages. Absent from events published before.
    ordinal: int | None = None
    message_id: str
    sender_id: str
    sent_at: int
    recipients: list[str]  # members with no open connection when the message was stored
    text: str | None = None  # absent in the content-free ("ids") mode, and for attachments without text
    # The recipients the message mentions (absent: none). Parley's notifier pushes them an alert whatever their
    # notify mode, unless they muted the conversation.
    mentions: list[str] | None = None
    attachment_count: int | None = None  # present when the message has attachments
    # True: the conversation is end-to-end encrypted (docs/e2e.md): there is no text, and pushes are content-free
    # whatever the deployment's push mode. Absent otherwise.
    e2e: Annotated[bool | None, Field(alias="e2e")] = None


class UnreadEventPublisher:
    def __init__(self, publisher: EventPublisher, include_text: bool) -> None:
        self._publisher = publisher
        self._include_text = include_text

    def publish(self, message: Message, conversation: Conversation, offline: list[str]) -> UnreadEvent:
        event = UnreadEvent(
            conversation_id=message.conversation_id, conversation_kind=conversation.kind.value,
            conversation_name=conversation.name, seq=message.seq, ordinal=message.count,
            message_id=message.message_id,
            sender_id=message.sender_id, sent_at=message.sent_at, recipients=offline,
            text=message.body.text if self._include_text and message.body else None,
            attachment_count=len(message.body.attachments or ()) or None if message.body else None,
            mentions=[u for u in offline if u in message.mentions and u != message.sender_id] or None,
            e2e=True if conversation.e2e else None)
        self._publisher.publish(event.model_dump(by_alias=True, exclude_none=True), UNREAD_EVENT)
        return event
