"""Runtime configuration: one Pydantic settings model, read from the environment once.

This is the only module that reads ``os.environ``. The CDK functions construct sets these variables;
the local stack sets them for its in-process handlers.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AuthMode(StrEnum):
    HS256 = "hs256"  # shared secret kept in Secrets Manager; the host app's backend signs tokens
    JWKS = "jwks"  # RS256/ES256 against a JWKS URL (for example a Cognito user pool)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    table_name: str = Field(default="parley", alias="PARLEY_TABLE_NAME")
    # https://{api}.execute-api.{region}.amazonaws.com/{stage} in AWS; the local gateway's URL locally.
    callback_url: str | None = Field(default=None, alias="PARLEY_CALLBACK_URL")

    auth_mode: AuthMode = Field(default=AuthMode.HS256, alias="PARLEY_AUTH_MODE")
    auth_secret_id: str | None = Field(default=None, alias="PARLEY_AUTH_SECRET_ID")
    auth_jwks_url: str | None = Field(default=None, alias="PARLEY_AUTH_JWKS_URL")
    auth_algorithms: str = Field(default="HS256", alias="PARLEY_AUTH_ALGORITHMS")
    # Comma-separated: a token's ``iss`` must be one of the issuers, its audience one of the audiences.
    auth_issuer: str = Field(default="parley-dev", alias="PARLEY_AUTH_ISSUER")
    auth_audience: str = Field(default="parley", alias="PARLEY_AUTH_AUDIENCE")
    # Where a token's audience is: ``aud`` (ID tokens, Auth0, Firebase), or ``client_id`` (Cognito access
    # tokens, which carry no ``aud``).
    auth_audience_claim: Literal["aud", "client_id"] = Field(default="aud", alias="PARLEY_AUTH_AUDIENCE_CLAIM")
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300, alias="PARLEY_AUTH_LEEWAY_SECONDS")
    # How long a fetched secret or JWKS is cached inside a warm Lambda.
    auth_key_cache_seconds: int = Field(default=300, ge=0, alias="PARLEY_AUTH_KEY_CACHE_SECONDS")
    # Every token (both modes) must carry iat and live (exp - iat) at most this long; None: no cap.
    auth_max_token_lifetime_seconds: int | None = Field(default=None, ge=10, le=86_400,
                                                        alias="PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS")

    max_group_members: int = Field(default=100, ge=2, le=1000, alias="PARLEY_MAX_GROUP_MEMBERS")
    max_text_bytes: int = Field(default=4096, ge=1, le=32_000, alias="PARLEY_MAX_TEXT_BYTES")
    history_page_max: int = Field(default=100, ge=1, le=1000, alias="PARLEY_HISTORY_PAGE_MAX")
    # API Gateway closes every connection after 2 h and $disconnect is best effort: keep 2 h 10 min.
    connection_ttl_seconds: int = Field(default=7800, ge=7800, alias="PARLEY_CONNECTION_TTL_SECONDS")
    # A resend is recognised while the original is among the conversation's newest N messages.
    idempotency_window: int = Field(default=10, ge=1, le=50, alias="PARLEY_IDEMPOTENCY_WINDOW")
    # How long after sending a message its sender may edit it (docs/protocol.md, "edit").
    edit_window_seconds: int = Field(default=900, ge=0, le=7 * 86_400, alias="PARLEY_EDIT_WINDOW_SECONDS")
    typing_interval_ms: int = Field(default=3000, ge=0, le=60_000, alias="PARLEY_TYPING_INTERVAL_MS")
    # A 410 from a connection younger than this is not pruned: API Gateway answers 410 to posts made
    # while a connection's $connect is still running, and that connection is about to open.
    prune_grace_ms: int = Field(default=10_000, ge=0, le=600_000, alias="PARLEY_PRUNE_GRACE_MS")
    # Posts to connections in flight at once (threads per Lambda container, and kept-alive HTTPS connections to
    # the @connections API). Unset: PARLEY_MAX_GROUP_MEMBERS, so a message to the largest group goes out in one
    # round of posts (docs/performance.md, "Fan-out and memory").
    fanout_workers: int | None = Field(default=None, ge=1, le=1000, alias="PARLEY_FANOUT_WORKERS")
    # X-Ray SDK subsegments (the handler, each AWS call); off: Lambda's active tracing alone, no SDK imported.
    xray_subsegments: bool = Field(default=False, alias="PARLEY_XRAY_SUBSEGMENTS")
    # Which deployment this is (``<stack>-<stage>``, set by the CDK construct): a dimension of every custom
    # metric, so that instances sharing an account and region keep their figures apart. Unset: no dimension.
    deployment: str | None = Field(default=None, min_length=1, max_length=255, alias="PARLEY_DEPLOYMENT")
    # --- delivery (docs/protocol.md "Delivery guarantees") ---
    # The queue (SQS) where `send` hands delivery work it could not finish, for the `deliver` function.
    delivery_queue_url: str | None = Field(default=None, alias="PARLEY_DELIVERY_QUEUE_URL")
    # How long `send` delivers before it hands the rest to the queue and acks (also bounded by the Lambda's
    # remaining time).
    delivery_budget_ms: int = Field(default=3000, ge=100, le=25_000, alias="PARLEY_DELIVERY_BUDGET_MS")
    # A resend of a stored message delivers it again if the original is at most this old (a resend after a
    # lost ack comes within seconds or minutes; an old one only needs its ack).
    redeliver_window_seconds: int = Field(default=600, ge=0, le=86_400, alias="PARLEY_REDELIVER_WINDOW_SECONDS")

    # --- abuse protection (docs/security.md) ---
    # Per-user token buckets, "route=rate_per_second:burst", shared by every connection and Lambda instance.
    rate_limits: str = Field(default="send=5:20,typing=2:10,history=10:40,conversations=1:10,groups=1:10,read=5:20,"
                                     "presence=2:10,preferences=1:10,report=0.2:5,block=1:10,changes=5:20,devices=1:10,uploads=2:20,connect=0.2:10",
                             alias="PARLEY_RATE_LIMITS")
    max_connections_per_user: int = Field(default=10, ge=1, le=1000, alias="PARLEY_MAX_CONNECTIONS_PER_USER")
    # Comma-separated Origins allowed to open a socket (CSWSH); empty: no Origin check.
    allowed_origins: str = Field(default="", alias="PARLEY_ALLOWED_ORIGINS")
    allow_missing_origin: bool = Field(default=True, alias="PARLEY_ALLOW_MISSING_ORIGIN")  # native apps send none
    # Single-use chat tokens: a jti is remembered until exp, and tokens may live at most this long.
    single_use_tokens: bool = Field(default=False, alias="PARLEY_SINGLE_USE_TOKENS")
    max_token_lifetime_seconds: int = Field(default=300, ge=10, le=86_400, alias="PARLEY_MAX_TOKEN_LIFETIME_SECONDS")
    # Optional message-review Lambda (name or ARN), its timeout, and what a failure means.
    moderation_function: str | None = Field(default=None, alias="PARLEY_MODERATION_FUNCTION")
    moderation_timeout_ms: int = Field(default=800, ge=100, le=10_000, alias="PARLEY_MODERATION_TIMEOUT_MS")
    moderation_fail_open: bool = Field(default=True, alias="PARLEY_MODERATION_FAIL_OPEN")
    # SNS topic that receives message reports for the host app's moderators (optional).
    moderation_topic_arn: str | None = Field(default=None, alias="PARLEY_MODERATION_TOPIC_ARN")
    # A message.created event on that topic for every message stored (docs/events.md): one SNS publish per
    # message, so off unless asked for (CDK context ``messageCreatedEvents``).
    message_created_events: bool = Field(default=False, alias="PARLEY_MESSAGE_CREATED_EVENTS")

    # --- push notifications (docs/push.md) ---
    # SNS platform applications the deploying team owns; none configured: push is off, the rest unaffected.
    push_apns_application_arn: str | None = Field(default=None, alias="PARLEY_PUSH_APNS_APPLICATION_ARN")
    push_fcm_application_arn: str | None = Field(default=None, alias="PARLEY_PUSH_FCM_APPLICATION_ARN")
    # The "unread events" topic: one event per stored message that has offline recipients.
    unread_topic_arn: str | None = Field(default=None, alias="PARLEY_UNREAD_TOPIC_ARN")
    # "full": sender and text in alerts and events; "ids": only ids (privacy, and end-to-end encryption later).
    push_content: Literal["full", "ids"] = Field(default="full", alias="PARLEY_PUSH_CONTENT")

    # --- photos, files and voice messages (docs/attachments.md) ---
    uploads_bucket: str | None = Field(default=None, alias="PARLEY_UPLOADS_BUCKET")
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024,
                                  alias="PARLEY_UPLOAD_MAX_BYTES")
    upload_url_ttl_seconds: int = Field(default=300, ge=30, le=3600, alias="PARLEY_UPLOAD_URL_TTL_SECONDS")
    download_url_ttl_seconds: int = Field(default=900, ge=30, le=43_200, alias="PARLEY_DOWNLOAD_URL_TTL_SECONDS")
    thumbnail_px: int = Field(default=320, ge=32, le=2048, alias="PARLEY_THUMBNAIL_PX")

    # --- erasure and export (docs/server-api.md "Erasure and export") ---
    # What erasing a user does to their messages, chosen at deploy time: "tombstone" leaves each as a delete for
    # everyone does (content, files, reactions gone; sender and time kept); "delete" also removes the sender,
    # so that nothing in the stream names the user (each seq keeps an authorless placeholder: no gap).
    erasure_messages: Literal["tombstone", "delete"] = Field(default="tombstone", alias="PARLEY_ERASURE_MESSAGES")
    # The queue (SQS) that carries erasure and export jobs from one bounded batch to the next.
    jobs_queue_url: str | None = Field(default=None, alias="PARLEY_JOBS_QUEUE_URL")
    # Stream entries one batch of a job reads (each batch then writes at most that many items): 200 keep a batch
    # of the 256 MB server API function near 2 s, far from its 29 s timeout (docs/performance.md, "Erasing a user").
    job_batch_items: int = Field(default=200, ge=10, le=2000, alias="PARLEY_JOB_BATCH_ITEMS")
    # How long an export's download link (and the attachment links inside it) stays valid.
    export_url_ttl_seconds: int = Field(default=3600, ge=60, le=43_200, alias="PARLEY_EXPORT_URL_TTL_SECONDS")

    # --- server API (docs/server-api.md) ---
    # How long an audit entry of a server API call is kept (DynamoDB TTL deletes it after).
    audit_retention_days: int = Field(default=365, ge=1, le=3650, alias="PARLEY_AUDIT_RETENTION_DAYS")

    # --- admin console (docs/admin.md) ---
    # The Cognito group whose members may use the console: checked by the server API on every /console call.
    console_admin_group: str = Field(default="admins", min_length=1, max_length=128,
                                     alias="PARLEY_CONSOLE_ADMIN_GROUP")
    # The conversation page shows every message's text (not only reported messages'); every read is audited.
    console_full_access: bool = Field(default=False, alias="PARLEY_CONSOLE_FULL_ACCESS")
    # Where the overview's figures are read: CloudWatch in AWS; the local stack's own counters locally.
    console_metrics: Literal["cloudwatch", "local"] = Field(default="cloudwatch", alias="PARLEY_CONSOLE_METRICS")
    # The dead-letter queues' names (comma-separated): their SQS metrics are the overview's dead-lettered figure.
    console_dead_letter_queues: str = Field(default="", alias="PARLEY_CONSOLE_DEAD_LETTER_QUEUES")

    @property
    def dead_letter_queue_names(self) -> list[str]:
        return [q.strip() for q in self.console_dead_letter_queues.split(",") if q.strip()]

    @property
    def push_applications(self) -> dict[str, str]:
        apps = {"apns": self.push_apns_application_arn, "fcm": self.push_fcm_application_arn}
        return {platform: arn for platform, arn in apps.items() if arn}

    @property
    def fanout_pool_size(self) -> int:
        return self.fanout_workers or self.max_group_members

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @property
    def rate_limit_table(self) -> dict[str, tuple[float, int]]:
        """``{"send": (5.0, 20), ...}``; a rate of 0 switches that limit off."""
        table: dict[str, tuple[float, int]] = {}
        for entry in filter(None, (e.strip() for e in self.rate_limits.split(","))):
            route, _, spec = entry.partition("=")
            rate, _, burst = spec.partition(":")
            table[route.strip()] = (float(rate), int(burst or 1))
        return table

    @property
    def algorithms(self) -> list[str]:
        return _listed(self.auth_algorithms)

    @property
    def issuers(self) -> list[str]:
        return _listed(self.auth_issuer)

    @property
    def audiences(self) -> list[str]:
        return _listed(self.auth_audience)


def _listed(value: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``."""
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
