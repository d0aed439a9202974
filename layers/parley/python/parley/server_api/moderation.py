"""Moderation routes: bans, reports, deleting a message for everyone (docs/server-api.md, "Moderation").
Thin: each validates its request, names its audit targets and calls one core service."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from parley.audit import audit_targets, current_caller
from parley.bans import MAX_BAN_SECONDS
from parley.message_changes import ChangeOutcome
from parley.models import Ban, BanAction, BanEntry, ReportStatus, Resolution, ReviewedReport
from parley.server_api.base import ApiModel, checked_user_id, delivered
from parley.user_ids import UserId
from parley.wiring import services

router = APIGatewayHttpRouter()

PAGE_MAX = 100
REASON_MAX = 500
PathUserId = Annotated[str, Path(min_length=1, max_length=128, description="A user id (percent-encoded).")]
ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="A conversation's id.")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="At most this many in the page.")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=2048,
                                     description="The `cursor` of the previous page; absent: the first page.")]
Reason = Annotated[str | None, Field(default=None, min_length=1, max_length=REASON_MAX)]


def _deliver(outcome: ChangeOutcome | None) -> None:
    """Deliver a delete's change entry live to the members, as a member's delete does."""
    if outcome is not None:
        delivered(outcome.recorded, router.lambda_context)


def _caller() -> str:
    """Who acts: the IAM principal that signed the request, or ``console:<username>`` for a console operator
    (``app.handle`` refused any call without one)."""
    return current_caller() or "unknown"


# -- bans ---------------------------------------------------------------------------------------------------


class BanView(ApiModel):
    user_id: str
    banned_at: int = Field(description="Epoch milliseconds.")
    until: int | None = Field(default=None, description="When the ban ends, epoch ms; null: for good.")
    reason: str | None = None
    by: str = Field(description="Who banned the user: the IAM principal, or `console:<username>`.")

    @classmethod
    def of(cls, ban: Ban) -> BanView:
        return cls(user_id=ban.user_id, banned_at=ban.banned_at, until=ban.until, reason=ban.reason, by=ban.by)


class BanEntryView(ApiModel):
    action: BanAction = Field(description="`banned`, `unbanned` or `warned`.")
    at: int = Field(description="Epoch milliseconds.")
    by: str
    until: int | None = Field(default=None, description="`banned`: when that ban ends; null: for good.")
    reason: str | None = None

    @classmethod
    def of(cls, entry: BanEntry) -> BanEntryView:
        return cls(action=entry.action, at=entry.at, by=entry.by, until=entry.until, reason=entry.reason)


class BanRequest(ApiModel):
    user_id: UserId
    duration_seconds: int | None = Field(default=None, ge=60, le=MAX_BAN_SECONDS,
                                         description="How long the ban lasts; absent: for good.")
    reason: Reason


class BanResponse(ApiModel):
    ban: BanView
    connections_closed: int = Field(description="The user's open connections closed now.")
    connections_left_open: int = Field(description="Connections whose close failed: they can no longer send, and "
                                                   "banning again closes them.")


class UnbanResponse(ApiModel):
    user_id: str
    unbanned: bool = Field(description="False: the user was not banned (nothing changed).")


class BansPage(ApiModel):
    bans: list[BanView]
    cursor: str | None = Field(default=None, description="Pass it back for the next page; null: the last page.")


class UserBans(ApiModel):
    ban: BanView | None = Field(default=None, description="The ban in force; null: none.")
    history: list[BanEntryView] = Field(description="Bans, unbans and warnings, newest first.")
    cursor: str | None = Field(default=None, description="The next page of the history; null: the last page.")


@router.post("/v1/bans", summary="Ban a user", tags=["moderation"])
def ban_user(request: BanRequest) -> BanResponse:
    """Bans the user for `durationSeconds` or for good (replacing a ban in force) and closes every open
    connection of theirs at once. From then on `$connect` refuses them (HTTP 423, docs/protocol.md) until the
    ban ends or is lifted. Publishes `user.banned`."""
    audit_targets(user_ids=[request.user_id])
    outcome = services().bans.ban(request.user_id, by=_caller(), duration_seconds=request.duration_seconds,
                                  reason=request.reason)
    return BanResponse(ban=BanView.of(outcome.ban), connections_closed=outcome.connections_closed,
                       connections_left_open=outcome.connections_left_open)


@router.delete("/v1/bans/<userId>", summary="Lift a user's ban", tags=["moderation"])
def unban_user(userId: PathUserId) -> UnbanResponse:
    audit_targets(user_ids=[userId])
    user_id = checked_user_id(userId, "userId")
    return UnbanResponse(user_id=user_id, unbanned=services().bans.unban(user_id, by=_caller()))


@router.get("/v1/bans", summary="List the bans in force", tags=["moderation"])
def list_bans(limit: Limit = 50, cursor: Cursor = None) -> BansPage:
    """Newest first. A page may hold fewer than `limit` bans (bans that ended are left out) and still have a
    `cursor`."""
    bans, after = services().bans.page(limit, cursor)
    return BansPage(bans=[BanView.of(b) for b in bans], cursor=after)


@router.get("/v1/bans/<userId>", summary="A user's ban and ban history", tags=["moderation"])
def user_bans(userId: PathUserId, limit: Limit = 50, cursor: Cursor = None) -> UserBans:
    audit_targets(user_ids=[userId])
    user_id = checked_user_id(userId, "userId")
    app = services()
    ban = app.bans.in_force(user_id)
    history, after = app.bans.history(user_id, limit, cursor)
    return UserBans(ban=BanView.of(ban) if ban else None, history=[BanEntryView.of(e) for e in history], cursor=after)


# -- reports ------------------------------------------------------------------------------------------------


class ReportView(ApiModel):
    conversation_id: str
    seq: int
    message_id: str
    reported_user_id: str
    reporter_id: str
    reason: str | None = None
    text: str | None = Field(default=None, description="The message's text as it is now (null: none, or deleted).")
    message_deleted: bool = Field(default=False, description="The message is deleted for everyone now.")
    reported_at: int = Field(description="Epoch milliseconds.")
    status: ReportStatus
    resolution: Resolution | None = None
    resolved_by: str | None = None
    resolved_at: int | None = None
    note: str | None = None

    @classmethod
    def of(cls, reviewed: ReviewedReport) -> ReportView:
        r = reviewed.report
        return cls(conversation_id=r.conversation_id, seq=r.seq, message_id=r.message_id,
                   reported_user_id=r.reported_user_id, reporter_id=r.reporter_id, reason=r.reason,
                   text=r.text or None, reported_at=r.reported_at, status=reviewed.status,
                   resolution=reviewed.resolution, resolved_by=reviewed.resolved_by,
                   resolved_at=reviewed.resolved_at, note=reviewed.note, message_deleted=reviewed.message_deleted)


class ReportsPage(ApiModel):
    reports: list[ReportView]
    cursor: str | None = Field(default=None, description="Pass it back for the next page; null: the last page.")


class ResolveRequest(ApiModel):
    conversation_id: Annotated[str, Field(min_length=1, max_length=64)]
    seq: Annotated[int, Field(ge=1)]
    reporter_id: UserId
    resolution: Resolution
    note: Reason = None
    ban_seconds: int | None = Field(default=None, ge=60, le=MAX_BAN_SECONDS,
                                    description="`banned`: how long; absent: for good.")
    delete_message: bool = Field(default=False, description="`banned`: delete the message for everyone too.")


class ResolveResponse(ApiModel):
    resolved: list[ReportView] = Field(description="Every report of the message resolved by this call.")
    change_seq: int | None = Field(default=None, description="The `deleted` entry's seq, if the message was "
                                                             "deleted.")
    connections_closed: int | None = Field(default=None, description="`banned`: connections closed.")


@router.get("/v1/reports", summary="List reports", tags=["moderation"])
def list_reports(status: Annotated[ReportStatus, Query(description="`open` (default) or `resolved`.")] =
                 ReportStatus.OPEN, limit: Limit = 50, cursor: Cursor = None) -> ReportsPage:
    """Open reports newest reported first, or resolved ones newest resolved first."""
    reports, after = services().report_review.page(status, limit, cursor)
    return ReportsPage(reports=[ReportView.of(r) for r in reports], cursor=after)


@router.post("/v1/reports/resolve", summary="Resolve a report", tags=["moderation"])
def resolve_report(request: ResolveRequest) -> ResolveResponse:
    """Resolves the report, and every other open report of the same message, with `resolution`: `dismissed`
    (nothing else), `message_deleted` (the message deleted for everyone), `warned` (a warning recorded in the
    reported user's ban history) or `banned` (the reported user banned; with `deleteMessage` the message is
    deleted too). The action first, then the reports: a call that failed may be repeated."""
    audit_targets(conversation_id=request.conversation_id,
                  report=f"{request.conversation_id}#{request.seq}#{request.reporter_id}")
    outcome = services().report_review.resolve(
        request.conversation_id, request.seq, request.reporter_id, request.resolution, by=_caller(),
        note=request.note, ban_seconds=request.ban_seconds, delete_message=request.delete_message)
    _deliver(outcome.deleted)
    if outcome.resolved:
        audit_targets(user_ids=[outcome.resolved[0].report.reported_user_id])
    return ResolveResponse(resolved=[ReportView.of(r) for r in outcome.resolved],
                           change_seq=outcome.deleted.entry_seq if outcome.deleted else None,
                           connections_closed=outcome.banned.connections_closed if outcome.banned else None)


# -- deleting a message for everyone ------------------------------------------------------------------------


class DeleteResponse(ApiModel):
    conversation_id: str
    seq: int = Field(description="The deleted message's seq.")
    change_seq: int | None = Field(default=None, description="The `deleted` change entry's seq.")


@router.delete("/v1/conversations/<conversationId>/messages/<seq>", summary="Delete a message for everyone",
               tags=["moderation"])
def delete_message(conversationId: ConversationId, seq: Annotated[int, Path(ge=1)]) -> DeleteResponse:
    """The same as a member's `delete` (docs/protocol.md): a tombstone, the files deleted, a `deleted` entry by
    `#system` live to every member and in catch-up, and `message.deleted`. Deleting a deleted message
    changes nothing and answers the first delete's `changeSeq`."""
    audit_targets(conversation_id=conversationId, message=f"{conversationId}.{seq}")
    outcome = services().message_changes.delete_as_operator(conversationId, seq)
    _deliver(outcome)
    return DeleteResponse(conversation_id=conversationId, seq=seq, change_seq=outcome.entry_seq)
