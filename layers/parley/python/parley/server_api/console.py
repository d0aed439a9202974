"""The routes the admin console reads (docs/admin.md, "API"): who calls, the service's figures, one report with
its context, one user and one conversation as an operator sees them. Like every route they answer IAM callers
under ``/v1`` and console operators under ``/console/v1`` (``parley.server_api.callers``); the console's actions
are the existing routes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from parley.audit import audit_targets, current_caller
from parley.config import get_settings
from parley.figures import FigureSet
from parley.models import Message, Report
from parley.operator_views import parse_report_id, report_id, visible_text
from parley.server_api.base import checked_user_id
from parley.server_api.console_models import (
    ActivityEntry,
    ContextMessage,
    ConversationOverview,
    DeviceView,
    Figures,
    MemberView,
    OverviewResponse,
    RatePoint,
    ReportDetail,
    UserOverview,
    UserReports,
    UserReportView,
    WhoAmI,
)
from parley.server_api.moderation import BanEntryView, BanView, ReportView

router = APIGatewayHttpRouter()

PathUserId = Annotated[str, Path(min_length=1, max_length=128, description="A user id (percent-encoded).")]
PathReportId = Annotated[str, Path(min_length=5, max_length=300,
                                   description="`<conversationId>.<seq>.<reporterId>` (percent-encoded).")]
ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="A conversation's id.")]


@router.get("/v1/console/whoami", summary="Who calls, and what the console may show", tags=["console"])
def whoami() -> WhoAmI:
    """Answered only to a caller the API let in: a console operator outside the admins group is refused (403
    `forbidden`) before any route runs."""
    return WhoAmI(operator=current_caller() or "unknown", admin=True, full_access=get_settings().console_full_access)


def _figures(f: FigureSet) -> Figures:
    return Figures(connections_open=f.connections_open, active_users=f.active_users, messages_sent=f.messages_sent,
                   pushes_sent=f.pushes_sent, pushes_failed=f.pushes_failed, error_frames=f.error_frames,
                   dead_lettered=f.dead_lettered)


@router.get("/v1/console/overview", summary="The service's figures: now and the last 24 hours",
            tags=["console"])
def overview() -> OverviewResponse:
    """Sums of the metrics Parley's functions emit, read from CloudWatch in AWS (one `GetMetricData` call) and
    from the local stack's own counters locally; `sources` says which metric each figure is."""
    from parley.figures import overview as read
    from parley.wiring import metric_source

    o = read(metric_source())
    return OverviewResponse(now=_figures(o.now), last_24h=_figures(o.last_24h),
                            message_rate=[RatePoint(t=t, count=n) for t, n in o.message_rate], sources=o.sources,
                            at=o.at)


def _context(m: Message, reported_seq: int) -> ContextMessage:
    return ContextMessage(seq=m.seq, sender_id=m.sender_id, sent_at=m.sent_at, text=visible_text(m),
                          deleted=m.body is None, reported=m.seq == reported_seq)


@router.get("/v1/reports/<reportId>", summary="One report, with the reported message's context", tags=["moderation"])
def get_report(reportId: PathReportId) -> ReportDetail:
    """The report, the reported message with up to 5 messages before and after it (their text shown: this is a
    reported message's context), and how many reports the sender received and the reporter made."""
    from parley.wiring import operator_views

    conversation_id, seq, reporter = parse_report_id(reportId)
    audit_targets(conversation_id=conversation_id, report=f"{conversation_id}#{seq}#{reporter}")
    found = operator_views().report(conversation_id, seq, reporter)
    audit_targets(user_ids=[found.reviewed.report.reported_user_id, reporter])
    return ReportDetail(report_id=report_id(found.reviewed.report), report=ReportView.of(found.reviewed),
                        context=[_context(m, seq) for m in found.context],
                        sender_reports_received=found.sender_reports_received,
                        reporter_reports_made=found.reporter_reports_made)


def _reports(count: int, recent: list[Report]) -> UserReports:
    return UserReports(count=count, recent=[UserReportView(
        report_id=report_id(r), conversation_id=r.conversation_id, seq=r.seq, reporter_id=r.reporter_id,
        reported_user_id=r.reported_user_id, reason=r.reason, reported_at=r.reported_at) for r in recent])


@router.get("/v1/users/<userId>/overview", summary="A user as an operator sees them", tags=["users"])
def user_overview(userId: PathUserId) -> UserOverview:
    """Status (`invisible` is shown here only, to operators), devices (platform and registration time, never a
    token), conversation count, blocks both ways, reports made and received, the ban in force and the history."""
    from parley.wiring import operator_views

    audit_targets(user_ids=[userId])
    user = operator_views().user(checked_user_id(userId, "userId"))
    return UserOverview(
        user_id=user.user_id, status=user.status, last_seen=user.profile.last_seen,
        first_seen=user.profile.first_seen,
        devices=[DeviceView(platform=d.platform, registered_at=d.registered_at) for d in user.devices],
        conversation_count=user.conversation_count, blocking=user.blocking, blocked_by=user.blocked_by,
        reports_made=_reports(user.reports_made.count, user.reports_made.recent),
        reports_received=_reports(user.reports_received.count, user.reports_received.recent),
        ban=BanView.of(user.ban) if user.ban else None, ban_history=[BanEntryView.of(e) for e in user.ban_history])


def _activity(m: Message, reported: set[int], full_access: bool) -> ActivityEntry:
    kind = m.change.kind.value if m.change is not None else ("deleted" if m.body is None else "message")
    shown = m.change is None and (full_access or m.seq in reported)
    return ActivityEntry(seq=m.seq, sender_id=m.sender_id, sent_at=m.sent_at, kind=kind,
                         text=visible_text(m) if shown else None, reported=m.seq in reported)


@router.get("/v1/conversations/<conversationId>/overview", summary="A conversation as an operator sees it",
            tags=["conversations"])
def conversation_overview(conversationId: ConversationId) -> ConversationOverview:
    """Members and roles, message count, the newest entries. Text only for reported messages, unless the
    deployment turned on full access (`PARLEY_CONSOLE_FULL_ACCESS`); every read is audited, naming
    `fullAccess:on` when text of unreported messages could be shown."""
    from parley.wiring import operator_views

    full = get_settings().console_full_access
    audit_targets(conversation_id=conversationId, fullAccess="on" if full else "off")
    view = operator_views().conversation(conversationId)
    c = view.conversation
    return ConversationOverview(
        conversation_id=c.conversation_id, kind=c.kind.value, name=c.name, created_by=c.created_by,
        created_at=c.created_at, members=[MemberView(user_id=u, role=r) for u, r in view.roles.items()],
        message_count=view.message_count,
        recent_activity=[_activity(m, view.reported_seqs, full) for m in view.recent],
        full_access=full)
