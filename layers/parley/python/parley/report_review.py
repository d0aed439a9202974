"""Reviewing reports: the host app's moderators list the reports members made and resolve them (the server
API, docs/server-api.md "Moderation").

A resolution applies to every open report of the same message: one decision per message, however many
members reported it. The action comes first (the message deleted, the user warned or banned), then the
reports are marked resolved with who and when; a resolution that failed half-way may be asked again, and the
action is then repeated harmlessly (deleting a deleted message changes nothing; a second ban replaces the
first)."""

from __future__ import annotations

from dataclasses import dataclass

from parley.bans import BanOutcome, BanService
from parley.clock import Clock, now_ms
from parley.errors import ReportNotFoundError, ReportResolvedError
from parley.message_changes import ChangeOutcome, MessageChangeService
from parley.models import ReportStatus, Resolution, ReviewedReport
from parley.ports import MessageStore, ReportStore


@dataclass(frozen=True)
class ResolveOutcome:
    resolved: list[ReviewedReport]  # the reports resolved now: the one named and the other open ones of its message
    deleted: ChangeOutcome | None = None
    banned: BanOutcome | None = None


class ReportReviewService:
    def __init__(self, reports: ReportStore, messages: MessageStore, changes: MessageChangeService,
                 bans: BanService, *, clock: Clock = now_ms) -> None:
        self._reports = reports
        self._messages = messages
        self._changes = changes
        self._bans = bans
        self._clock = clock

    def page(self, status: ReportStatus, limit: int, cursor: str | None) -> tuple[list[ReviewedReport], str | None]:
        """Reports with the reported messages' text as it is now (a report never keeps a copy of it: a message
        deleted for everyone, or erased, leaves no text behind in its reports). One batch read per conversation
        in the page."""
        reports, after = self._reports.page(status, limit, cursor)
        wanted: dict[str, list[int]] = {}
        for r in reports:
            wanted.setdefault(r.report.conversation_id, []).append(r.report.seq)
        found = {(cid, seq): m for cid, seqs in wanted.items() for seq, m in self._messages.get_many(cid, seqs).items()}
        shown = []
        for r in reports:
            message = found.get((r.report.conversation_id, r.report.seq))
            text = message.body.text if message is not None and message.body is not None else None
            shown.append(r.model_copy(update={"report": r.report.model_copy(update={"text": text or ""}),
                                              "message_deleted": message is None or message.body is None}))
        return shown, after

    def get(self, conversation_id: str, seq: int, reporter_id: str) -> ReviewedReport:
        found = self._reports.get(conversation_id, seq, reporter_id)
        if found is None:
            raise ReportNotFoundError()
        return found

    def resolve(self, conversation_id: str, seq: int, reporter_id: str, resolution: Resolution, *, by: str,
                note: str | None = None, ban_seconds: int | None = None,
                delete_message: bool = False) -> ResolveOutcome:
        """Resolve the report (and the other open reports of its message) with ``resolution``: ``dismissed``
        does nothing else; ``message_deleted`` deletes the message for everyone; ``warned`` records a warning in
        the reported user's ban history; ``banned`` bans them (``ban_seconds``, None: for good), and deletes the
        message too with ``delete_message``."""
        named = self.get(conversation_id, seq, reporter_id)
        if named.status is ReportStatus.RESOLVED:
            raise ReportResolvedError()
        report = named.report
        deleted = banned = None
        if resolution is Resolution.MESSAGE_DELETED or (resolution is Resolution.BANNED and delete_message):
            deleted = self._changes.delete_as_operator(conversation_id, seq)
        if resolution is Resolution.WARNED:
            self._bans.warn(report.reported_user_id, by=by, reason=note)
        if resolution is Resolution.BANNED:
            banned = self._bans.ban(report.reported_user_id, by=by, duration_seconds=ban_seconds, reason=note)
        at = self._clock()
        resolved = []
        for open_report in (r for r in self._reports.of_message(conversation_id, seq) if r.status is ReportStatus.OPEN):
            if self._reports.resolve(open_report.report, resolution, by, at, note):
                resolved.append(ReviewedReport(report=open_report.report, status=ReportStatus.RESOLVED,
                                               resolution=resolution, resolved_by=by, resolved_at=at, note=note))
        if not resolved:
            raise ReportResolvedError()  # another moderator resolved it meanwhile (their action stands too)
        return ResolveOutcome(resolved=resolved, deleted=deleted, banned=banned)
