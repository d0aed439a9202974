"""Reports: a member reports a message; the report is stored and published for the host app's moderators."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.errors import MessageNotFoundError
from parley.models import Report
from parley.ports import EventPublisher, MessageStore, ReportStore

REPORT_EVENT = "message.reported"
REPORT_EVENT_VERSION = 1


class ReportService:
    def __init__(self, conversations: ConversationService, messages: MessageStore, reports: ReportStore,
                 publisher: EventPublisher | None, clock: Clock = now_ms) -> None:
        self._conversations = conversations
        self._messages = messages
        self._reports = reports
        self._publisher = publisher
        self._clock = clock

    def report(self, me: str, conversation_id: str, seq: int, reason: str | None) -> Report:
        self._conversations.require_member(conversation_id, me)
        page = self._messages.page(conversation_id, before=seq + 1, after=seq - 1, limit=1)
        if not page.messages or page.messages[0].body is None:
            raise MessageNotFoundError()  # nothing there, a change entry, or a deleted message
        message = page.messages[0]
        report = Report(conversation_id=conversation_id, seq=seq, message_id=message.message_id,
                        reported_user_id=message.sender_id, reporter_id=me, reason=reason,
                        text=message.body.text or "" if message.body else "", reported_at=self._clock())
        if self._reports.add(report) and self._publisher is not None:
            self._publisher.publish({
                "type": REPORT_EVENT, "version": REPORT_EVENT_VERSION, "conversationId": report.conversation_id,
                "seq": report.seq, "messageId": report.message_id, "reportedUserId": report.reported_user_id,
                "reporterId": report.reporter_id, "reason": report.reason, "text": report.text,
                "reportedAt": report.reported_at}, REPORT_EVENT)
        return report
