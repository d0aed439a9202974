"""Deploy-time configuration, read from CDK context (``cdk synth -c authMode=jwks -c jwksUrl=...``).

Context keys (docs/deploying.md has them as a table):

Chat tokens

* ``authMode`` -- ``hs256`` (default): the stack creates a Secrets Manager secret with a generated
  signing key; the host app's backend reads it to sign chat tokens. ``jwks``: tokens are verified
  against ``jwksUrl`` (for example a Cognito user pool's ``.../.well-known/jwks.json``).
* ``jwksUrl`` -- required in ``jwks`` mode.
* ``authIssuer`` -- comma-separated: the ``iss`` claim must be one of them (default ``parley``; required in
  ``jwks`` mode).
* ``authAudience`` -- comma-separated: the audience must be one of them (default ``parley``).
* ``authAudienceClaim`` -- ``aud`` (default) or ``client_id`` (Cognito access tokens carry no ``aud``).
* ``authAlgorithms`` -- comma-separated allowed algorithms (default ``HS256`` / ``RS256`` by mode).
* ``authMaxTokenLifetimeSeconds`` -- in both modes, every token must carry ``iat`` and live (``exp - iat``)
  at most this many seconds (10 to 86400; default: no cap).

Abuse protection (docs/security.md)

* ``singleUseTokens`` -- ``true``: every chat token carries ``jti`` and ``iat`` and opens one connection only;
  the authorizer remembers used ``jti`` values in the table (it may write ``TOKEN#`` items, nothing else).
  Default ``false``.
* ``maxTokenLifetimeSeconds`` -- the longest ``exp - iat`` a single-use token may have (default 300; only
  with ``singleUseTokens``). With ``authMaxTokenLifetimeSeconds`` too, the smaller of the two applies.
* ``allowedOrigins`` -- comma-separated ``scheme://host[:port]`` origins allowed to open a socket (default:
  none, no Origin check).
* ``allowMissingOrigin`` -- whether a handshake without an ``Origin`` header (native apps) is accepted
  when ``allowedOrigins`` is set (default ``true``).
* ``moderationFunctionArn`` -- a Lambda function (full ARN) that reviews every message before it is stored.
* ``deployExampleModerationHook`` -- ``true``: deploy ``functions/moderation_hook`` and use it as the hook
  (default ``false``; not together with ``moderationFunctionArn``).
* ``moderationTimeoutMs`` / ``moderationFailOpen`` -- how long ``send`` waits for the hook (default 800)
  and whether a failing hook lets the message through (default ``true``); only with a hook.
* ``stageRateLimit`` / ``stageBurstLimit`` -- API Gateway throttling of every route, all clients together
  (default 1000 / 2000: ``StageLoad`` of 50,000 open connections, a tenth of them active).

Concurrency (docs/deploying.md, "Concurrency")

* ``authorizerConcurrency`` / ``connectConcurrency`` -- executions reserved for the ``$connect`` authorizer and
  the ``connect`` function, so a flood of frames cannot starve the handshake (default 50 each).
* ``typingConcurrency`` / ``pingConcurrency`` / ``presenceConcurrency`` -- the most concurrent executions of
  ``typing``, ``default`` (``$default``) and ``presence``, flood-prone routes (default 50, 20, 20).
  Each is a whole number of at least 1, or ``off``: no reservation for that function.
* ``reservedConcurrency`` -- ``false``: reserve nothing at all (default ``true``), for accounts whose
  concurrency limit is too low to reserve any (Lambda keeps 100 executions unreserved).

Stage, storage and operations (the ``Parley`` construct's props of the same names)

* ``stackName`` -- the stack's name (default ``Parley``; read by ``infra/app.py``).
* ``stage`` -- the API stage's name (default ``prod``).
* ``removalPolicy`` -- ``retain`` (default) or ``destroy``: whether the table, the buckets and the log groups
  outlive the stack.
* ``tableDeletionProtection`` -- DynamoDB deletion protection on the table (default: ``true`` when retained).
* ``logRetention`` -- a ``RetentionDays`` name (default ``ONE_MONTH``).
* ``tracing`` -- ``false`` switches X-Ray off (default ``true``).
* ``alarmEmail`` / ``alarmTopicArn`` -- where alarms are sent (one of them; default: no action).
* ``domainName`` + ``certificateArn`` -- a custom domain for the WebSocket API, with its ACM certificate.
* ``tags`` -- ``key=value,key=value`` cost-allocation tags.

Push notifications (docs/push.md)

* ``pushApnsApplicationArn`` -- an SNS platform application for APNs (``arn:aws:sns:REGION:ACCOUNT:app/APNS/NAME``,
  or ``APNS_SANDBOX``).
* ``pushFcmApplicationArn`` -- an SNS platform application for FCM (``...:app/GCM/NAME``).
  Neither given: push is off (``registerDevice`` answers ``push_unavailable``) and no function may touch
  SNS endpoints.
* ``pushContent`` -- ``full`` (default): sender and text in unread events and alerts; ``ids``: ids only.

Attachments (docs/attachments.md)

* ``uploadMaxBytes`` -- the largest file an app may upload (default 10 MiB; 1024 bytes to 100 MiB, as the
  thumbnail maker reads a photo into memory whole): the presigned POST's ``content-length-range``, checked
  again by ``send``.
* ``uploadUrlTtlSeconds`` -- how long a presigned upload is valid (default 300; 30 to 3600).
* ``downloadUrlTtlSeconds`` -- how long a presigned download URL is valid (default 900; 30 to 43200).
* ``thumbnailPx`` -- the longer side of a thumbnail (default 320; 32 to 2048).
* ``attachmentRetentionDays`` -- delete every attachment (uploads, served copies, thumbnails) this many days
  after its upload (default: none, sent attachments are kept). Uploads never sent are deleted after a day
  either way.

Tuning

* ``PARLEY_*`` -- a tunable setting of ``parley.config.Settings`` under its own name
  (``-c PARLEY_RATE_LIMITS=send=10:40 -c PARLEY_MAX_CONNECTIONS_PER_USER=5``), passed to every
  function and validated by the Settings model at synth. Settings that name a resource of the stack or
  need a permission (table, callback URL, auth, moderation hook and topic, single-use tokens, push,
  attachments) are not tunable this way: the stack sets them, and the ones with a context key above are
  set through it.

Every value is checked here, at synth: a typo fails ``cdk synth``, not every connection or message.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import ValidationError

from infra import constants
from parley.auth import TokenVerifier
from parley.config import AuthMode, Settings

ContextReader = Callable[[str], Any]

# Settings that change behaviour only: no resource, no permission depends on them.
TUNABLE_SETTINGS = frozenset({
    "auth_leeway_seconds", "auth_key_cache_seconds", "max_group_members", "max_text_bytes", "history_page_max",
    "connection_ttl_seconds", "idempotency_window", "typing_interval_ms", "fanout_workers", "rate_limits",
    "max_connections_per_user", "prune_grace_ms", "delivery_budget_ms", "redeliver_window_seconds",
    "xray_subsegments", "message_created_events", "erasure_messages", "job_batch_items", "export_url_ttl_seconds",
    "e2e_required", "edit_window_seconds",
})

# Settings with a context key of their own: the stack passes them to the functions that read them only.
NAMED_SETTINGS = {
    "auth_audience_claim": "authAudienceClaim",
    "auth_max_token_lifetime_seconds": "authMaxTokenLifetimeSeconds",
    "allowed_origins": "allowedOrigins",
    "allow_missing_origin": "allowMissingOrigin",
    "single_use_tokens": "singleUseTokens",
    "max_token_lifetime_seconds": "maxTokenLifetimeSeconds",
    "moderation_function": "moderationFunctionArn",
    "moderation_timeout_ms": "moderationTimeoutMs",
    "moderation_fail_open": "moderationFailOpen",
    "push_apns_application_arn": "pushApnsApplicationArn",
    "push_fcm_application_arn": "pushFcmApplicationArn",
    "push_content": "pushContent",
    "upload_max_bytes": "uploadMaxBytes",
    "upload_url_ttl_seconds": "uploadUrlTtlSeconds",
    "download_url_ttl_seconds": "downloadUrlTtlSeconds",
    "thumbnail_px": "thumbnailPx",
}

_PLATFORM_APPLICATION = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):"
    r"app/(?P<platform>[A-Z_]+)/(?P<name>[A-Za-z0-9_.-]{1,256})")
_LAMBDA_FUNCTION = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]{1,128})?")
_ORIGIN = re.compile(r"https?://[^/\s,]+")


def tuned_settings(read: ContextReader) -> dict[str, str]:
    """The ``PARLEY_*`` variables set through context, checked by the model the handlers read them with."""
    values: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = read(field.alias) if field.alias else None
        if value is None:
            continue
        if name in NAMED_SETTINGS:
            raise ValueError(f"{field.alias} is set by the stack: use -c {NAMED_SETTINGS[name]}=... instead "
                             "(see infra/context.py)")
        if name not in TUNABLE_SETTINGS:
            raise ValueError(f"{field.alias} is set by the stack, not through context (see infra/context.py)")
        values[str(field.alias)] = str(value).lower() if isinstance(value, bool) else str(value)
    Settings.model_validate(values)  # a bad value fails synth, not every invocation
    return values


def _flag(read: ContextReader, key: str, default: bool) -> bool:
    """A boolean context value: ``true``/``false`` from the command line, or a JSON boolean from cdk.json."""
    value = read(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in {"true", "false"}:
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return text == "true"


def _setting(read: ContextReader, key: str, field: str) -> Any:
    """Context value ``key`` as ``Settings.<field>``, checked by the model the handlers read it with; the
    model's default when not given."""
    value = read(key)
    if value is None:
        return _default(field)
    try:
        return getattr(Settings.model_validate({field: value}), field)
    except ValidationError as exc:
        raise ValueError(f"{key}: {exc.errors()[0]['msg']}") from None


def _default(field: str) -> Any:
    return Settings.model_fields[field].default


def _only_with(read: ContextReader, keys: tuple[str, ...], condition: bool, needs: str) -> None:
    """Refuse context values that would silently do nothing."""
    given = [key for key in keys if read(key) is not None]
    if given and not condition:
        raise ValueError(f"{', '.join(given)} only apply with {needs}")


@dataclass(frozen=True)
class AuthConfig:
    """How the ``$connect`` authorizer checks chat tokens (docs/deploying.md, "Chat tokens").

    ``issuers`` / ``audiences``: a token's ``iss`` must be one of the issuers and its audience one of the
    audiences (default ``parley`` for both in hs256 mode; jwks mode needs its issuers named). The audience is
    the ``aud`` claim, or with ``audience_claim="client_id"`` the ``client_id`` claim of Cognito access tokens.
    ``algorithms``: comma-separated, default ``HS256`` / ``RS256`` by mode."""

    mode: AuthMode = AuthMode.HS256
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = (constants.DEFAULT_AUTH_AUDIENCE,)
    audience_claim: Literal["aud", "client_id"] = "aud"
    algorithms: str = ""
    jwks_url: str | None = None
    token_lifetime_cap_seconds: int | None = None  # every token, both modes: exp - iat at most this
    # --- abuse protection at $connect ---
    single_use_tokens: bool = False
    max_token_lifetime_seconds: int = _default("max_token_lifetime_seconds")
    allowed_origins: tuple[str, ...] = ()
    allow_missing_origin: bool = _default("allow_missing_origin")

    def __post_init__(self) -> None:
        # Defaults by mode, filled in on the frozen instance; then every rule the authorizer applies, so a
        # host app's typo fails synth, not every connect.
        if not self.algorithms:
            object.__setattr__(self, "algorithms", constants.DEFAULT_JWKS_ALGORITHMS if self.mode is AuthMode.JWKS
                               else constants.DEFAULT_HS256_ALGORITHMS)
        if self.mode is AuthMode.JWKS and not (self.jwks_url and self.issuers):
            raise ValueError("jwks mode needs a JWKS URL (jwksUrl) and at least one issuer (authIssuer)")
        if not self.issuers:
            object.__setattr__(self, "issuers", (constants.DEFAULT_AUTH_ISSUER,))
        for kind, values in (("issuer", self.issuers), ("audience", self.audiences)):
            if not values or any(not value.strip() or "," in value for value in values):
                raise ValueError(f"auth: every {kind} must be a non-empty value without commas, not {values!r}")
        for origin in self.allowed_origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"allowedOrigins: {origin!r} is not an origin like https://app.example")
        TokenVerifier(Settings(auth_mode=self.mode, auth_algorithms=self.algorithms,
                               auth_issuer=",".join(self.issuers), auth_audience=",".join(self.audiences),
                               auth_audience_claim=self.audience_claim), keys_for=lambda _token: [])

    @classmethod
    def from_context(cls, read: ContextReader) -> AuthConfig:
        mode = AuthMode(str(read("authMode") or AuthMode.HS256.value).lower())
        single_use = _flag(read, "singleUseTokens", default=False)
        _only_with(read, ("maxTokenLifetimeSeconds",), single_use, "singleUseTokens=true")
        origins = _origins(read("allowedOrigins"))
        _only_with(read, ("allowMissingOrigin",), bool(origins), "allowedOrigins")
        jwks_url = read("jwksUrl")
        return cls(
            mode=mode,
            issuers=_listed(read("authIssuer")),
            audiences=_listed(read("authAudience")) or (constants.DEFAULT_AUTH_AUDIENCE,),
            audience_claim=_setting(read, "authAudienceClaim", "auth_audience_claim"),
            algorithms=str(read("authAlgorithms") or ""),
            jwks_url=str(jwks_url) if jwks_url else None,
            token_lifetime_cap_seconds=_setting(read, "authMaxTokenLifetimeSeconds",
                                                "auth_max_token_lifetime_seconds"),
            single_use_tokens=single_use,
            max_token_lifetime_seconds=_setting(read, "maxTokenLifetimeSeconds", "max_token_lifetime_seconds"),
            allowed_origins=origins,
            allow_missing_origin=_flag(read, "allowMissingOrigin", default=_default("allow_missing_origin")),
        )


def _listed(value: Any) -> tuple[str, ...]:
    """``a, b`` -> ``("a", "b")``; nothing given -> ``()``."""
    return tuple(item.strip() for item in str(value or "").split(",") if item.strip())


def _origins(value: Any) -> tuple[str, ...]:
    """``https://app.example, https://admin.example`` -> the origins; browsers send scheme and host only,
    so an entry with a path or without a scheme would never match and is refused."""
    origins = tuple(o.strip().rstrip("/") for o in str(value or "").split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"allowedOrigins: {origin!r} is not an origin like https://app.example")
    return origins


@dataclass(frozen=True)
class StageLoad:
    """The frames clients send the stage, which its throttle counts (docs/deploying.md, "Sizing the stage
    throttle"): every quiet connection pings, every active user sends, reads and types, and every connection
    reconnects at least every 2 hours. Acks and the frames Parley posts do not count here (posts count against
    the account's API Gateway quota)."""

    connections: int  # open at the busiest time
    active_share: float  # of them, the share whose user is chatting
    frames_per_active_minute: float = constants.FRAMES_PER_ACTIVE_USER_PER_MINUTE
    pings_per_quiet_minute: float = constants.PINGS_PER_QUIET_CONNECTION_PER_MINUTE

    @property
    def frames_per_second(self) -> float:
        active = self.connections * self.active_share
        per_minute = ((self.connections - active) * self.pings_per_quiet_minute
                      + active * self.frames_per_active_minute
                      + self.connections * constants.RECONNECTS_PER_CONNECTION_PER_MINUTE)
        return per_minute / 60


@dataclass(frozen=True)
class ThrottleConfig:
    rate_limit: float = constants.THROTTLE_RATE_LIMIT
    burst_limit: int = constants.THROTTLE_BURST_LIMIT

    @classmethod
    def sized_for(cls, load: StageLoad) -> ThrottleConfig:
        """The load's frames per second rounded up to the next 100, and twice that as the burst."""
        rate = math.ceil(load.frames_per_second / 100) * 100
        return cls(rate_limit=float(rate), burst_limit=2 * rate)

    @classmethod
    def from_context(cls, read: ContextReader) -> ThrottleConfig:
        # `-c key=value` arrives as a string, cdk.json values as numbers: accept both.
        rate = read("stageRateLimit")
        burst = read("stageBurstLimit")
        return cls(
            rate_limit=float(rate) if rate is not None else constants.THROTTLE_RATE_LIMIT,
            burst_limit=int(burst) if burst is not None else constants.THROTTLE_BURST_LIMIT,
        )


_OFF = "off"


@dataclass(frozen=True)
class ConcurrencyConfig:
    """Reserved concurrency per function name (``constants.RESERVED_CONCURRENCY``); a function not named here
    draws on the account's unreserved executions."""

    reserved: Mapping[str, int] = dataclasses.field(default_factory=lambda: {
        function: default for function, (_key, default) in constants.RESERVED_CONCURRENCY.items()})

    @property
    def total(self) -> int:
        return sum(self.reserved.values())

    @classmethod
    def from_context(cls, read: ContextReader) -> ConcurrencyConfig:
        keys = tuple(key for key, _ in constants.RESERVED_CONCURRENCY.values())
        if not _flag(read, "reservedConcurrency", default=True):
            _only_with(read, keys, False, "reservedConcurrency=true")
            return cls(reserved={})
        reserved = {}
        for function, (key, default) in constants.RESERVED_CONCURRENCY.items():
            executions = _executions(read, key, default)
            if executions is not None:
                reserved[function] = executions
        return cls(reserved=reserved)


def _executions(read: ContextReader, key: str, default: int) -> int | None:
    """A reservation: a whole number of executions, at least 1, or ``off`` (None). Zero is refused: Lambda
    would throttle every invocation, switching the route off."""
    value = read(key)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text == _OFF:
        return None
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key} must be a whole number of executions, at least 1, or off, not {value!r}")
    return int(text)


@dataclass(frozen=True)
class PlatformApplication:
    """An SNS platform application (``arn:aws:sns:REGION:ACCOUNT:app/APNS/NAME``) the deploying team owns."""

    arn: str
    partition: str
    region: str
    account: str
    platform: str
    name: str

    @classmethod
    def parse(cls, key: str, arn: str, platforms: frozenset[str]) -> PlatformApplication:
        found = _PLATFORM_APPLICATION.fullmatch(arn.strip())
        if not found:
            raise ValueError(f"{key}: {arn!r} is not an SNS platform application ARN "
                             "(arn:aws:sns:REGION:ACCOUNT:app/PLATFORM/NAME)")
        if found["platform"] not in platforms:
            raise ValueError(f"{key}: the platform must be one of {sorted(platforms)}, not {found['platform']}")
        return cls(arn=found.group(0), **found.groupdict())

    @property
    def endpoints(self) -> str:
        """Every device endpoint SNS creates in this application: ``...:endpoint/APNS/NAME/<uuid>``."""
        return (f"arn:{self.partition}:sns:{self.region}:{self.account}:"
                f"endpoint/{self.platform}/{self.name}/*")


@dataclass(frozen=True)
class PushConfig:
    apns: PlatformApplication | None = None
    fcm: PlatformApplication | None = None
    content: str = _default("push_content")

    @property
    def applications(self) -> list[PlatformApplication]:
        return [app for app in (self.apns, self.fcm) if app is not None]

    @classmethod
    def from_context(cls, read: ContextReader) -> PushConfig:
        apns = read("pushApnsApplicationArn")
        fcm = read("pushFcmApplicationArn")
        return cls(
            apns=PlatformApplication.parse("pushApnsApplicationArn", str(apns), frozenset({"APNS", "APNS_SANDBOX"}))
            if apns else None,
            fcm=PlatformApplication.parse("pushFcmApplicationArn", str(fcm), frozenset({"GCM"})) if fcm else None,
            content=_setting(read, "pushContent", "push_content"),
        )


@dataclass(frozen=True)
class ModerationConfig:
    function_arn: str | None = None
    deploy_example_hook: bool = False
    timeout_ms: int = _default("moderation_timeout_ms")
    fail_open: bool = _default("moderation_fail_open")

    @property
    def has_hook(self) -> bool:
        return self.function_arn is not None or self.deploy_example_hook

    @classmethod
    def from_context(cls, read: ContextReader) -> ModerationConfig:
        arn = read("moderationFunctionArn")
        example = _flag(read, "deployExampleModerationHook", default=False)
        if arn and example:
            raise ValueError("moderationFunctionArn and deployExampleModerationHook=true name two hooks: pick one")
        if arn and not _LAMBDA_FUNCTION.fullmatch(str(arn).strip()):
            raise ValueError(f"moderationFunctionArn: {arn!r} is not a Lambda function ARN "
                             "(arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS])")
        _only_with(read, ("moderationTimeoutMs", "moderationFailOpen"), bool(arn) or example,
                   "moderationFunctionArn or deployExampleModerationHook=true")
        return cls(
            function_arn=str(arn).strip() if arn else None,
            deploy_example_hook=example,
            timeout_ms=_setting(read, "moderationTimeoutMs", "moderation_timeout_ms"),
            fail_open=_flag(read, "moderationFailOpen", default=_default("moderation_fail_open")),
        )


def _days(read: ContextReader, key: str) -> int | None:
    """A whole number of days, at least 1 (S3 lifecycle expirations count whole days); None when not given."""
    value = read(key)
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key} must be a whole number of days, at least 1, not {value!r}")
    return int(text)


@dataclass(frozen=True)
class AttachmentsConfig:
    upload_max_bytes: int = _default("upload_max_bytes")
    upload_url_ttl_seconds: int = _default("upload_url_ttl_seconds")
    download_url_ttl_seconds: int = _default("download_url_ttl_seconds")
    thumbnail_px: int = _default("thumbnail_px")
    retention_days: int | None = None  # None: sent attachments are kept

    @classmethod
    def from_context(cls, read: ContextReader) -> AttachmentsConfig:
        return cls(
            upload_max_bytes=_setting(read, "uploadMaxBytes", "upload_max_bytes"),
            upload_url_ttl_seconds=_setting(read, "uploadUrlTtlSeconds", "upload_url_ttl_seconds"),
            download_url_ttl_seconds=_setting(read, "downloadUrlTtlSeconds", "download_url_ttl_seconds"),
            thumbnail_px=_setting(read, "thumbnailPx", "thumbnail_px"),
            retention_days=_days(read, "attachmentRetentionDays"),
        )


@dataclass(frozen=True)
class StorageConfig:
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    deletion_protection: bool | None = None  # None: on exactly when the table is retained

    @classmethod
    def from_context(cls, read: ContextReader) -> StorageConfig:
        policy = str(read("removalPolicy") or "retain").strip().lower()
        if policy not in _REMOVAL_POLICIES:
            raise ValueError(f"removalPolicy must be retain or destroy, not {read('removalPolicy')!r}")
        protection = read("tableDeletionProtection")
        return cls(removal_policy=_REMOVAL_POLICIES[policy],
                   deletion_protection=None if protection is None else _flag(read, "tableDeletionProtection", True))


_REMOVAL_POLICIES = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}


@dataclass(frozen=True)
class OperationsConfig:
    """The repository's own app's operating props of the ``Parley`` construct, from context."""

    stage: str = constants.STAGE_NAME
    log_retention: logs.RetentionDays = constants.LOG_RETENTION
    tracing: bool = True
    alarm_email: str | None = None
    alarm_topic_arn: str | None = None
    domain_name: str | None = None
    certificate_arn: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_context(cls, read: ContextReader) -> OperationsConfig:
        retention = str(read("logRetention") or constants.LOG_RETENTION.name).strip().upper()
        if retention not in logs.RetentionDays.__members__:
            raise ValueError(f"logRetention must be one of {', '.join(logs.RetentionDays.__members__)}, "
                             f"not {read('logRetention')!r}")
        domain, certificate = read("domainName"), read("certificateArn")
        if bool(domain) != bool(certificate):
            raise ValueError("domainName and certificateArn go together (an ACM certificate in the stack's region)")
        email, topic = read("alarmEmail"), read("alarmTopicArn")
        if email and not _EMAIL.fullmatch(str(email)):
            raise ValueError(f"alarmEmail: {email!r} is not an email address")
        if topic and not _TOPIC.fullmatch(str(topic)):
            raise ValueError(f"alarmTopicArn: {topic!r} is not an SNS topic ARN")
        return cls(stage=str(read("stage") or constants.STAGE_NAME), log_retention=logs.RetentionDays[retention],
                   tracing=_flag(read, "tracing", default=True), alarm_email=str(email) if email else None,
                   alarm_topic_arn=str(topic) if topic else None, domain_name=str(domain) if domain else None,
                   certificate_arn=str(certificate) if certificate else None, tags=_tags(read("tags")))


_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
_TOPIC = re.compile(r"arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}")


def _tags(value: Any) -> dict[str, str]:
    """``team=chat,cost-center=42`` -> ``{"team": "chat", "cost-center": "42"}``."""
    tags = {}
    for entry in filter(None, (e.strip() for e in str(value or "").split(","))):
        key, equals, tag_value = entry.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"tags: {entry!r} is not key=value")
        tags[key.strip()] = tag_value.strip()
    return tags


@dataclass(frozen=True)
class DeploymentConfig:
    auth: AuthConfig
    throttle: ThrottleConfig
    push: PushConfig
    moderation: ModerationConfig
    attachments: AttachmentsConfig
    concurrency: ConcurrencyConfig
    storage: StorageConfig
    settings: Mapping[str, str]  # tuned PARLEY_* variables, for every function
    operations: OperationsConfig = OperationsConfig()

    @classmethod
    def from_context(cls, read: ContextReader) -> DeploymentConfig:
        return cls(auth=AuthConfig.from_context(read), throttle=ThrottleConfig.from_context(read),
                   push=PushConfig.from_context(read), moderation=ModerationConfig.from_context(read),
                   attachments=AttachmentsConfig.from_context(read),
                   concurrency=ConcurrencyConfig.from_context(read), storage=StorageConfig.from_context(read),
                   settings=tuned_settings(read), operations=OperationsConfig.from_context(read))
