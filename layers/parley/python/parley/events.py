"""Parley's public events about conversations, members, messages and users (docs/events.md), published on
the moderation topic by the core services themselves, so an action has the same event whether a member did
it over the socket or the host app's backend through the server API.

An event is published after what it reports is stored. Publishing is best effort: a failed publish is
logged and counted (metric ``EventsNotPublished``), never retried, and never fails the action it reports
(which the caller may not repeat: it is done). So each event is published at most once by the action;
SNS then delivers it at least once."""

from __future__ import annotations

from parley.models import Ban, Conversation, Message
from parley.observability import logger, metrics
from parley.ports import EventPublisher

VERSION = 1
CONVERSATION_CREATED = "conversation.created"
MEMBER_ADDED = "member.added"
MEMBER_REMOVED = "member.removed"
MESSAGE_CREATED = "message.created"
MESSAGE_DELETED = "message.deleted"
USER_BANNED = "user.banned"


class Events:
    def __init__(self, publisher: EventPublisher, *, message_created: bool = False,
                 include_text: bool = True) -> None:
        self._publisher = publisher
        self._message_created = message_created  # opt-in: one publish per message (PARLEY_MESSAGE_CREATED_EVENTS)
        self._include_text = include_text  # False in the content-free mode (PARLEY_PUSH_CONTENT=ids)

    def conversation_created(self, conversation: Conversation) -> None:
        self._publish(CONVERSATION_CREATED, {
            "conversationId": conversation.conversation_id, "conversationKind": conversation.kind.value,
            "name": conversation.name, "members": list(conversation.members), "createdBy": conversation.created_by,
            "createdAt": conversation.created_at})

    def members_added(self, conversation: Conversation, entry: Message, users: tuple[str, ...]) -> None:
        self._publish(MEMBER_ADDED, {
            "conversationId": conversation.conversation_id, "userIds": list(users), "by": entry.sender_id,
            "seq": entry.seq, "at": entry.sent_at})

    def member_removed(self, conversation: Conversation, entry: Message, user: str, *, left: bool) -> None:
        self._publish(MEMBER_REMOVED, {
            "conversationId": conversation.conversation_id, "userId": user, "by": entry.sender_id,
            "reason": "left" if left else "removed", "seq": entry.seq, "at": entry.sent_at})

    def message_created(self, conversation: Conversation, message: Message) -> None:
        if not self._message_created or message.body is None:
            return
        self._publish(MESSAGE_CREATED, {
            "conversationId": conversation.conversation_id, "conversationKind": conversation.kind.value,
            "seq": message.seq, "messageId": message.message_id, "senderId": message.sender_id,
            "sentAt": message.sent_at, "text": message.body.text if self._include_text else None,
            "attachments": len(message.body.attachments or ()) or None})

    def message_deleted(self, conversation_id: str, message: Message, *, by: str, at: int,
                        entry_seq: int | None) -> None:
        self._publish(MESSAGE_DELETED, {
            "conversationId": conversation_id, "seq": message.seq, "messageId": message.message_id,
            "senderId": message.sender_id, "by": by, "deletedAt": at, "changeSeq": entry_seq})

    def user_banned(self, ban: Ban, connections_closed: int) -> None:
        self._publish(USER_BANNED, {
            "userId": ban.user_id, "bannedAt": ban.banned_at, "until": ban.until, "reason": ban.reason,
            "by": ban.by, "connectionsClosed": connections_closed})

    def _publish(self, event_type: str, fields: dict[str, object]) -> None:
        event: dict[str, object] = {"type": event_type, "version": VERSION}
        event.update({k: v for k, v in fields.items() if v is not None})  # optional fields: omitted, not null
        try:
            self._publisher.publish(event, event_type)
        except Exception:
            logger.exception("event not published", extra={"event_type": event_type})
            metrics.add_metric(name="EventsNotPublished", unit="Count", value=1)
