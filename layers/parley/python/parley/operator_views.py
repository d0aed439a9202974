"""What an operator of the admin console sees of a report, a user and a conversation (docs/admin.md, "API").

Read-only, and every read is bounded: a report's context is one range read around the message, a user's page a
handful of key reads and Queries on their own partitions, a conversation's page its item and its newest entries.
Message text is shown for reported messages (and their context) only, unless the deployment grants full access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parley.bans import BanService
from parley.clock import Clock, now_ms
from parley.errors import ConversationNotFoundError, InvalidRequestError, ReportNotFoundError
from parley.models import (
    Ban,
    BanEntry,
    Conversation,
    ConversationKind,
    Device,
    GroupRole,
    Message,
    Profile,
    Report,
    ReviewedReport,
    Visibility,
)
from parley.ports import BlockStore, ConnectionStore, ConversationStore, MessageStore, ProfileStore, ReportStore

CONTEXT_EACH_SIDE = 5
RECENT_REPORTS = 10
BAN_HISTORY = 50
RECENT_ACTIVITY = 30


def report_id(report: Report) -> str:
    """``<conversationId>.<seq>.<reporterId>``: conversation ids hold no ``.`` (``d_``/``g_`` and URL-safe
    base64), so the reporter's id is whatever follows the second dot."""
    return f"{report.conversation_id}.{report.seq}.{report.reporter_id}"


def parse_report_id(value: str) -> tuple[str, int, str]:
    conversation_id, _, rest = value.partition(".")
    seq, _, reporter = rest.partition(".")
    if not conversation_id or not seq.isdigit() or int(seq) < 1 or not reporter:
        raise InvalidRequestError("reportId: `<conversationId>.<seq>.<reporterId>`")
    return conversation_id, int(seq), reporter


def visible_text(message: Message) -> str | None:
    return message.body.text if message.body is not None else None


@dataclass(frozen=True)
class ReportContext:
    reviewed: ReviewedReport  # with the message's text as it is now
    context: list[Message]  # oldest first: up to 5 before, the message, up to 5 after (messages only)
    sender_reports_received: int
    reporter_reports_made: int


@dataclass(frozen=True)
class UserReports:
    count: int
    recent: list[Report]


@dataclass(frozen=True)
class UserView:
    user_id: str
    status: Literal["online", "offline", "invisible"]
    profile: Profile
    devices: tuple[Device, ...]
    conversation_count: int
    blocking: list[str]
    blocked_by: list[str]
    reports_made: UserReports
    reports_received: UserReports
    ban: Ban | None
    ban_history: list[BanEntry]


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    roles: dict[str, GroupRole | None]
    message_count: int
    recent: list[Message]  # newest first
    reported_seqs: set[int]


class OperatorViews:
    def __init__(self, *, reports: ReportStore, messages: MessageStore, conversations: ConversationStore,
                 profiles: ProfileStore, connections: ConnectionStore, blocks: BlockStore, bans: BanService,
                 clock: Clock = now_ms) -> None:
        self._reports = reports
        self._messages = messages
        self._conversations = conversations
        self._profiles = profiles
        self._connections = connections
        self._blocks = blocks
        self._bans = bans
        self._clock = clock

    def report(self, conversation_id: str, seq: int, reporter_id: str) -> ReportContext:
        found = self._reports.get(conversation_id, seq, reporter_id)
        if found is None:
            raise ReportNotFoundError()
        low = max(1, seq - 4 * CONTEXT_EACH_SIDE)  # change entries are skipped: read a few more than 5 each side
        page = self._messages.page(conversation_id, before=None, after=low - 1, limit=8 * CONTEXT_EACH_SIDE + 1)
        entries = [m for m in page.messages if m.change is None]
        before = [m for m in entries if m.seq < seq][-CONTEXT_EACH_SIDE:]
        after = [m for m in entries if m.seq > seq][:CONTEXT_EACH_SIDE]
        reported = next((m for m in entries if m.seq == seq), None)
        text = visible_text(reported) if reported is not None else None
        reviewed = found.model_copy(update={"report": found.report.model_copy(update={"text": text or ""}),
                                            "message_deleted": reported is None or reported.body is None})
        context = before + ([reported] if reported is not None else []) + after
        received, _ = self._reports.involving(found.report.reported_user_id, "reported", 0)
        made, _ = self._reports.involving(reporter_id, "reporter", 0)
        return ReportContext(reviewed=reviewed, context=context, sender_reports_received=received,
                             reporter_reports_made=made)

    def user(self, user_id: str) -> UserView:
        now = self._clock()
        profile = self._profiles.get(user_id)
        online = bool(self._connections.list_for_user(user_id, now))
        status: Literal["online", "offline", "invisible"] = "offline"
        if online:
            status = "invisible" if profile.visibility is Visibility.INVISIBLE else "online"
        relations = self._blocks.relations(user_id)
        made = UserReports(*self._reports.involving(user_id, "reporter", RECENT_REPORTS))
        received = UserReports(*self._reports.involving(user_id, "reported", RECENT_REPORTS))
        history, _ = self._bans.history(user_id, BAN_HISTORY, None)
        return UserView(user_id=user_id, status=status, profile=profile, devices=profile.devices,
                        conversation_count=len(self._conversations.memberships(user_id)),
                        blocking=sorted(relations.blocks), blocked_by=sorted(relations.blocked_by),
                        reports_made=made, reports_received=received, ban=self._bans.in_force(user_id),
                        ban_history=history)

    def conversation(self, conversation_id: str) -> ConversationView:
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise ConversationNotFoundError()
        page = self._messages.page(conversation_id, before=None, after=None, limit=RECENT_ACTIVITY)
        recent = list(reversed(page.messages))
        newest = recent[0] if recent else None
        count = (newest.ordinal or newest.seq) if newest is not None else 0
        group = conversation.kind is ConversationKind.GROUP
        roles = {m: conversation.role_of(m) if group else None for m in conversation.members}
        reported = {r.report.seq for r in self._reports.of_conversation(conversation_id, 200)}
        return ConversationView(conversation=conversation, roles=roles, message_count=count, recent=recent,
                                reported_seqs=reported)
