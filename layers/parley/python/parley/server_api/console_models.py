"""The answers of the routes the admin console reads (docs/admin.md, "API"; docs/server-api.md, "Console"):
who the caller is, the service's figures, one report with its context, one user and one conversation as an
operator sees them. The console's actions (ban, unban, resolve, delete, erase, export) are the existing
routes' own models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from parley.models import GroupRole, Platform
from parley.server_api.base import ApiModel
from parley.server_api.moderation import BanEntryView, BanView, ReportView

UserStatus = Literal["online", "offline", "invisible"]


class WhoAmI(ApiModel):
    operator: str = Field(description="Who calls: `console:<username>` for a console operator, the IAM "
                                      "principal's ARN otherwise.")
    admin: bool = Field(description="The caller may use the console (an IAM caller always may).")
    full_access: bool = Field(description="The deployment shows every message's text on the conversation page "
                                          "(`PARLEY_CONSOLE_FULL_ACCESS`), not only reported messages'.")


class RatePoint(ApiModel):
    t: int = Field(description="The start of the bucket, epoch milliseconds.")
    count: int = Field(description="Messages sent in the bucket.")


class Figures(ApiModel):
    connections_open: int = Field(description="Open WebSocket connections (now: the latest value; 24 h: the "
                                              "highest).")
    active_users: int = Field(description="Users with at least one open connection (now: the latest value; "
                                          "24 h: the highest).")
    messages_sent: int = Field(description="Messages stored.")
    pushes_sent: int = Field(description="Push notifications handed to the push service.")
    pushes_failed: int = Field(description="Push notifications that failed.")
    error_frames: dict[str, int] = Field(description="Error frames sent to clients, by code.")
    dead_lettered: int = Field(description="Events moved to a dead-letter queue.")


class OverviewResponse(ApiModel):
    now: Figures = Field(description="The last 5 minutes (the gauges: their latest value).")
    last_24h: Figures = Field(alias="last24h", description="The last 24 hours.")
    message_rate: list[RatePoint] = Field(description="Messages sent per hour over the last 24 hours, oldest "
                                                      "first.")
    sources: dict[str, str] = Field(description="Where each figure comes from: `cloudwatch:<namespace>/<metric>` "
                                                "in AWS, `local:<counter>` on the local stack.")
    at: int = Field(description="When the figures were read, epoch milliseconds.")


class ContextMessage(ApiModel):
    seq: int
    sender_id: str
    sent_at: int = Field(description="Epoch milliseconds.")
    text: str | None = Field(default=None, description="Null: a deleted message, an attachment without text, "
                                                       "or an end-to-end encrypted one.")
    deleted: bool = False
    reported: bool = Field(default=False, description="This is the reported message.")


class ReportDetail(ApiModel):
    report_id: str = Field(description="`<conversationId>.<seq>.<reporterId>`.")
    report: ReportView
    context: list[ContextMessage] = Field(description="The reported message with up to 5 messages before and 5 "
                                                      "after it, oldest first (change entries left out).")
    sender_reports_received: int = Field(description="How many reports name the sender (reports made before the "
                                                     "console existed are not counted).")
    reporter_reports_made: int = Field(description="How many reports the reporter made.")


class DeviceView(ApiModel):
    platform: Platform
    registered_at: int = Field(description="Epoch milliseconds. Never the device token.")


class UserReportView(ApiModel):
    report_id: str
    conversation_id: str
    seq: int
    reporter_id: str
    reported_user_id: str
    reason: str | None = None
    reported_at: int


class UserReports(ApiModel):
    count: int
    recent: list[UserReportView] = Field(description="The newest, at most 10.")


class UserOverview(ApiModel):
    user_id: str
    status: UserStatus = Field(description="`invisible`: connected while invisible (shown to operators only).")
    last_seen: int | None = None
    first_seen: int | None = None
    devices: list[DeviceView]
    conversation_count: int
    blocking: list[str] = Field(description="Users this user blocked.")
    blocked_by: list[str] = Field(description="Users who blocked this user.")
    reports_made: UserReports
    reports_received: UserReports
    ban: BanView | None = Field(default=None, description="The ban in force; null: none.")
    ban_history: list[BanEntryView] = Field(description="Bans, unbans and warnings, newest first (at most 50).")


class MemberView(ApiModel):
    user_id: str
    role: GroupRole | None = Field(default=None, description="Groups: `owner`, `admin` or `member`; null in a "
                                                             "direct conversation.")


class ActivityEntry(ApiModel):
    seq: int
    sender_id: str
    sent_at: int
    kind: str = Field(description="`message`, `deleted`, or the change's kind (`edited`, `memberAdded`...).")
    text: str | None = Field(default=None, description="Only for a reported message, or with full access; never "
                                                        "for an end-to-end encrypted conversation.")
    reported: bool = False


class ConversationOverview(ApiModel):
    conversation_id: str
    kind: str = Field(description="`direct` or `group`.")
    name: str | None = None
    created_by: str
    created_at: int
    members: list[MemberView]
    message_count: int = Field(description="Messages in the stream (change entries not counted).")
    recent_activity: list[ActivityEntry] = Field(description="The newest entries, newest first (at most 30).")
    full_access: bool = Field(description="Text shown for every message (the deployment's choice), not only for "
                                          "reported ones.")
