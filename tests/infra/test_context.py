"""Deploy-time context is checked when the app starts, not when the first user connects.
(No synth: these read context values only.)"""

from __future__ import annotations

import re
from pathlib import Path

import annotated_types
import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra import constants
from infra.app import build
from infra.context import (
    NAMED_SETTINGS,
    AttachmentsConfig,
    AuthConfig,
    ConcurrencyConfig,
    ContextReader,
    DeploymentConfig,
    ModerationConfig,
    OperationsConfig,
    PushConfig,
    StageLoad,
    StorageConfig,
    ThrottleConfig,
    tuned_settings,
)
from parley.config import AuthMode, Settings
from parley_client.keepalive import KEEPALIVE_INTERVAL_S

pytestmark = pytest.mark.infra


def context(**values: str) -> ContextReader:
    """What ``app.node.try_get_context`` answers for ``cdk synth -c key=value ...``."""
    return values.get


def test_hs256_is_the_default() -> None:
    config = AuthConfig.from_context(context())
    assert config.mode is AuthMode.HS256
    assert config.algorithms == "HS256"
    assert config.jwks_url is None


def test_jwks_mode_takes_its_url_and_issuer_and_defaults_to_rs256() -> None:
    config = AuthConfig.from_context(context(
        authMode="jwks", jwksUrl="https://idp.example/jwks.json", authIssuer="https://idp.example"))
    assert (config.mode, config.jwks_url, config.issuers, config.algorithms) == (
        AuthMode.JWKS, "https://idp.example/jwks.json", ("https://idp.example",), "RS256")


def test_jwks_mode_takes_lists_of_issuers_and_audiences_and_the_client_id_option() -> None:
    # given -c authIssuer=a,b -c authAudience=x,y -c authAudienceClaim=client_id (Cognito access tokens)
    config = AuthConfig.from_context(context(
        authMode="jwks", jwksUrl="https://idp.example/jwks.json", authIssuer="https://a.example, https://b.example",
        authAudience="client-1,client-2", authAudienceClaim="client_id"))
    # then each list is kept whole, and the audience is read from client_id
    assert config.issuers == ("https://a.example", "https://b.example")
    assert config.audiences == ("client-1", "client-2")
    assert config.audience_claim == "client_id"
    # and hs256 mode keeps its defaults
    default = AuthConfig.from_context(context())
    assert (default.issuers, default.audiences, default.audience_claim) == (("parley",), ("parley",), "aud")


@pytest.mark.parametrize("props", [
    {"mode": AuthMode.JWKS, "issuers": ("https://idp.example",)},  # no JWKS URL
    {"mode": AuthMode.JWKS, "jwks_url": "https://idp.example/jwks.json"},  # no issuer
    {"audiences": ()},
    {"issuers": ("a,b",)},  # a comma would split into two issuers in the authorizer
    {"allowed_origins": ("app.example",)},
    {"audience_claim": "azp"},
    {"algorithms": "RS256"},  # an asymmetric algorithm with a shared secret
])
def test_a_host_app_typo_in_auth_props_fails_at_synth(props: dict) -> None:
    with pytest.raises(ValueError):
        AuthConfig(**props)


@pytest.mark.parametrize("values", [
    {"authMode": "jwks", "authIssuer": "https://idp.example"},  # no jwksUrl
    {"authMode": "jwks", "jwksUrl": "https://idp.example/jwks.json"},  # no issuer
    {"authMode": "rsa"},  # unknown mode
    {"authAlgorithms": "RS256"},  # an asymmetric algorithm with a shared secret
    {"authAudienceClaim": "azp"},  # not a supported audience claim
    {"authMode": "jwks", "jwksUrl": "https://idp.example/jwks.json", "authIssuer": "x",
     "authAlgorithms": "HS256"},  # a symmetric algorithm against public keys
])
def test_contradictory_auth_context_fails_the_synth(values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        AuthConfig.from_context(context(**values))


def test_throttling_defaults_and_overrides_from_the_command_line() -> None:
    assert ThrottleConfig.from_context(context()) == ThrottleConfig(constants.THROTTLE_RATE_LIMIT,
                                                                  constants.THROTTLE_BURST_LIMIT)
    # `cdk synth -c stageRateLimit=50 -c stageBurstLimit=100` passes strings
    overridden = ThrottleConfig.from_context(context(stageRateLimit="50", stageBurstLimit="100"))
    assert overridden == ThrottleConfig(50.0, 100)


def test_the_default_stage_throttle_is_sized_from_the_frames_each_connection_sends() -> None:
    # given the load the defaults are sized for (docs/deploying.md, "Sizing the stage throttle")
    load = StageLoad(constants.THROTTLE_SIZED_FOR_CONNECTIONS, constants.THROTTLE_SIZED_FOR_ACTIVE_SHARE)
    # then the default rate is its frames per second rounded up, and the burst twice that
    assert load.frames_per_second == pytest.approx(990.3, abs=0.1)
    assert ThrottleConfig.sized_for(load) == ThrottleConfig(constants.THROTTLE_RATE_LIMIT,
                                                            constants.THROTTLE_BURST_LIMIT)
    # and a quiet connection pings as often as the client's keepalive rule makes it
    assert constants.PINGS_PER_QUIET_CONNECTION_PER_MINUTE == 60 / KEEPALIVE_INTERVAL_S


def test_the_worked_example_of_the_deploying_guide() -> None:
    # 200,000 open connections, 5% of their users chatting: 38,000 pings, 100,000 frames of active users and
    # 1,667 reconnects a minute
    load = StageLoad(200_000, 0.05)
    assert load.frames_per_second == pytest.approx(2327.8, abs=0.1)
    assert ThrottleConfig.sized_for(load) == ThrottleConfig(2400.0, 4800)
    # quiet connections alone: 150,000 of them use 500 frames a second, 520 with their reconnects
    assert StageLoad(150_000, 0).frames_per_second == pytest.approx(520.8, abs=0.1)


def test_tunable_settings_pass_through_under_their_own_names() -> None:
    tuned = tuned_settings(context(PARLEY_RATE_LIMITS="send=10:40", PARLEY_MAX_CONNECTIONS_PER_USER="5"))
    assert tuned == {"PARLEY_RATE_LIMITS": "send=10:40", "PARLEY_MAX_CONNECTIONS_PER_USER": "5"}


def test_every_setting_the_deploying_guide_names_as_tunable_is_accepted() -> None:
    # docs/deploying.md's `PARLEY_*` row names its examples: each passes through with its default value
    row = next(line for line in (Path(__file__).parents[2] / "docs" / "deploying.md").read_text().splitlines()
               if line.startswith("| `PARLEY_*` |"))
    named = dict(re.findall(r"`(PARLEY_[A-Z0-9_]+)` \(`([^`]+)`", row))
    assert "PARLEY_EDIT_WINDOW_SECONDS" in named
    assert tuned_settings(context(**named)) == named


def test_nothing_is_tuned_by_default() -> None:
    assert tuned_settings(context()) == {}


def test_a_tuned_setting_the_handlers_would_refuse_fails_the_synth() -> None:
    with pytest.raises(ValueError):
        tuned_settings(context(PARLEY_MAX_TEXT_BYTES="0"))


@pytest.mark.parametrize("name", ["PARLEY_TABLE_NAME", "PARLEY_AUTH_SECRET_ID", "PARLEY_SINGLE_USE_TOKENS",
                                  "PARLEY_UNREAD_TOPIC_ARN", "PARLEY_MODERATION_TOPIC_ARN", "PARLEY_UPLOADS_BUCKET"])
def test_settings_the_stack_owns_cannot_be_set_through_context(name: str) -> None:
    # they name a resource of the stack, or would need a permission it does not grant
    with pytest.raises(ValueError, match=name):
        tuned_settings(context(**{name: "x"}))


@pytest.mark.parametrize(("name", "key"), [
    ("PARLEY_ALLOWED_ORIGINS", "allowedOrigins"), ("PARLEY_PUSH_CONTENT", "pushContent"),
    ("PARLEY_MODERATION_FUNCTION", "moderationFunctionArn"), ("PARLEY_MAX_TOKEN_LIFETIME_SECONDS",
                                                              "maxTokenLifetimeSeconds"),
    ("PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS", "authMaxTokenLifetimeSeconds"),
    ("PARLEY_UPLOAD_MAX_BYTES", "uploadMaxBytes"), ("PARLEY_THUMBNAIL_PX", "thumbnailPx"),
    ("PARLEY_UPLOAD_URL_TTL_SECONDS", "uploadUrlTtlSeconds"),
    ("PARLEY_DOWNLOAD_URL_TTL_SECONDS", "downloadUrlTtlSeconds"),
])
def test_a_setting_with_a_context_key_points_to_it(name: str, key: str) -> None:
    # one way to set each: the named key, which reaches only the functions that read the setting
    with pytest.raises(ValueError, match=f"-c {key}="):
        tuned_settings(context(**{name: "x"}))


def test_every_optional_feature_is_off_by_default() -> None:
    config = DeploymentConfig.from_context(context())
    assert (config.auth.single_use_tokens, config.auth.allowed_origins) == (False, ())
    assert (config.push.applications, config.push.content) == ([], "full")
    assert (config.moderation.has_hook, config.moderation.function_arn) == (False, None)


# --- push ---

def test_platform_applications_name_their_endpoints() -> None:
    # given the APNs and FCM applications' ARNs
    push = PushConfig.from_context(context(
        pushApnsApplicationArn="arn:aws:sns:eu-west-1:123456789012:app/APNS_SANDBOX/my-app",
        pushFcmApplicationArn="arn:aws:sns:eu-west-1:123456789012:app/GCM/my.app"))
    # then the endpoints SNS creates in each are arn:...:endpoint/<PLATFORM>/<APP>/<uuid>
    assert [app.endpoints for app in push.applications] == [
        "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS_SANDBOX/my-app/*",
        "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/my.app/*"]


@pytest.mark.parametrize("values", [
    {"pushApnsApplicationArn": "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/uuid"},  # an endpoint
    {"pushApnsApplicationArn": "arn:aws:sns:us-east-1:123456789012:app/GCM/app"},  # FCM under the APNs key
    {"pushFcmApplicationArn": "arn:aws:sns:us-east-1:123456789012:app/APNS/app"},  # and the other way round
    {"pushFcmApplicationArn": "my-app"},  # a name, not an ARN
    {"pushFcmApplicationArn": "arn:aws:sns:us-east-1:1234:app/GCM/app"},  # a short account id
    {"pushApnsApplicationArn": "arn:aws:sns:us-east-1:123456789012:app/APNS/my app"},  # not a valid name
    {"pushContent": "none"},  # neither full nor ids
])
def test_a_malformed_push_setting_fails_the_synth(values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        PushConfig.from_context(context(**values))


# --- abuse protection ---

def test_single_use_tokens_from_the_command_line_or_cdk_json() -> None:
    assert AuthConfig.from_context(context(singleUseTokens="true")).single_use_tokens is True
    assert AuthConfig.from_context({"singleUseTokens": True}.get).single_use_tokens is True


def test_the_token_lifetime_cap_is_off_by_default_and_applies_in_both_modes() -> None:
    assert AuthConfig.from_context(context()).token_lifetime_cap_seconds is None
    assert AuthConfig.from_context(context(authMaxTokenLifetimeSeconds="900")).token_lifetime_cap_seconds == 900
    jwks = AuthConfig.from_context({"authMode": "jwks", "jwksUrl": "https://idp.example/jwks.json",
                                    "authIssuer": "https://idp.example", "authMaxTokenLifetimeSeconds": 3600}.get)
    assert jwks.token_lifetime_cap_seconds == 3600  # a cdk.json number


@pytest.mark.parametrize("value", ["5", "86401", "an hour", "-1", ""])
def test_a_token_lifetime_cap_the_authorizer_would_refuse_fails_the_synth(value: str) -> None:
    with pytest.raises(ValueError, match="authMaxTokenLifetimeSeconds"):
        AuthConfig.from_context(context(authMaxTokenLifetimeSeconds=value))
    # and the app itself (what `cdk synth -c authMaxTokenLifetimeSeconds=...` runs) stops before synthesizing
    with pytest.raises(ValueError, match="authMaxTokenLifetimeSeconds"):
        build(cdk.App(context={"authMaxTokenLifetimeSeconds": value}))


@pytest.mark.parametrize("values", [
    {"singleUseTokens": "yes please"},  # not a boolean
    {"maxTokenLifetimeSeconds": "120"},  # without single-use tokens it would do nothing
    {"singleUseTokens": "true", "maxTokenLifetimeSeconds": "5"},  # below the handlers' minimum
    {"allowMissingOrigin": "false"},  # without an allowlist it would do nothing
    {"allowedOrigins": "app.example"},  # no scheme: a browser's Origin would never match
    {"allowedOrigins": "https://app.example/chat"},  # a path: ditto
])
def test_abuse_protection_context_that_would_not_work_fails_the_synth(values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        AuthConfig.from_context(context(**values))


def test_origins_are_normalised_as_the_authorizer_compares_them() -> None:
    config = AuthConfig.from_context(context(allowedOrigins=" https://app.example/ ,http://localhost:5173"))
    assert config.allowed_origins == ("https://app.example", "http://localhost:5173")


@pytest.mark.parametrize("values", [
    {"moderationFunctionArn": "review-messages"},  # a name: the grant needs the ARN
    {"moderationFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hook",
     "deployExampleModerationHook": "true"},  # two hooks
    {"moderationTimeoutMs": "500"},  # no hook to wait for
    {"deployExampleModerationHook": "true", "moderationTimeoutMs": "20000"},  # above the handlers' maximum
])
def test_moderation_context_that_would_not_work_fails_the_synth(values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ModerationConfig.from_context(context(**values))


def test_a_hook_alias_is_accepted() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:review:live"
    assert ModerationConfig.from_context(context(moderationFunctionArn=arn)).function_arn == arn


# --- attachments ---

def test_attachments_default_to_the_models_settings_and_keep_sent_files() -> None:
    config = AttachmentsConfig.from_context(context())
    assert (config.upload_max_bytes, config.upload_url_ttl_seconds, config.download_url_ttl_seconds,
            config.thumbnail_px, config.retention_days) == (10 * 1024 * 1024, 300, 900, 320, None)


def test_attachment_settings_from_the_command_line_or_cdk_json() -> None:
    config = AttachmentsConfig.from_context(context(
        uploadMaxBytes="26214400", uploadUrlTtlSeconds="120", downloadUrlTtlSeconds="600", thumbnailPx="256",
        attachmentRetentionDays="365"))
    assert (config.upload_max_bytes, config.upload_url_ttl_seconds, config.download_url_ttl_seconds,
            config.thumbnail_px, config.retention_days) == (26_214_400, 120, 600, 256, 365)
    assert AttachmentsConfig.from_context({"attachmentRetentionDays": 30}.get).retention_days == 30


def documented_ranges() -> dict[str, tuple[int, int]]:
    """Context key -> the "(LOW to HIGH" range its row in docs/deploying.md's context table states."""
    ranges = {}
    for line in (constants.REPO_ROOT / "docs" / "deploying.md").read_text().splitlines():
        found = re.match(r"\| `(\w+)` \|.*?\((\d+) to (\d+)\b", line)
        if found:
            ranges[found[1]] = (int(found[2]), int(found[3]))
    return ranges


def model_range(field: str) -> tuple[int, int]:
    metadata = Settings.model_fields[field].metadata
    (low,) = [m.ge for m in metadata if isinstance(m, annotated_types.Ge)]
    (high,) = [m.le for m in metadata if isinstance(m, annotated_types.Le)]
    return int(low), int(high)


@pytest.mark.parametrize(("field", "key"), [(f, k) for f, k in NAMED_SETTINGS.items()
                                            if k in documented_ranges()])
def test_documented_ranges_are_the_ones_the_synth_accepts(field: str, key: str) -> None:
    # given docs/deploying.md's range for a context key / then Settings refuses exactly what lies outside it
    assert documented_ranges()[key] == model_range(field)


def test_upload_max_bytes_is_documented_as_the_model_bounds_it() -> None:
    # the thumbnail maker reads a photo into memory whole: 100 MiB, not presigned POST's 5 GB, is the limit
    assert documented_ranges()["uploadMaxBytes"] == model_range("upload_max_bytes") == (1024, 100 * 1024 * 1024)


@pytest.mark.parametrize("values", [
    {"uploadMaxBytes": "10MB"},  # not a number of bytes
    {"uploadMaxBytes": "100"},  # below the handlers' minimum
    {"uploadMaxBytes": str(100 * 1024 * 1024 + 1)},  # above their maximum (docs/deploying.md: 100 MiB)
    {"uploadUrlTtlSeconds": "86400"},  # above the handlers' maximum
    {"downloadUrlTtlSeconds": "5"},  # below it
    {"thumbnailPx": "4096"},  # above it
    {"attachmentRetentionDays": "0"},  # S3 expires after whole days, at least one
    {"attachmentRetentionDays": "1.5"},
    {"attachmentRetentionDays": "a year"},
])
def test_attachment_context_the_handlers_would_refuse_fails_the_synth(values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(values))):
        AttachmentsConfig.from_context(context(**values))


# --- concurrency ---

def test_the_handshake_gets_headroom_and_flood_prone_routes_a_cap_by_default() -> None:
    config = ConcurrencyConfig.from_context(context())
    assert config.reserved == {"authorizer": 50, "connect": 50, "typing": 50, "default": 20, "presence": 20}
    # docs/deploying.md: the defaults need an account concurrency limit of at least 290
    assert config.total + constants.UNRESERVED_CONCURRENCY_MINIMUM == 290


def test_reservations_from_the_command_line_or_cdk_json() -> None:
    config = ConcurrencyConfig.from_context(context(authorizerConcurrency="100", pingConcurrency="5"))
    assert (config.reserved["authorizer"], config.reserved["default"]) == (100, 5)
    assert ConcurrencyConfig.from_context({"typingConcurrency": 200}.get).reserved["typing"] == 200


def test_one_reservation_can_be_switched_off() -> None:
    config = ConcurrencyConfig.from_context(context(presenceConcurrency="off", connectConcurrency="OFF"))
    assert config.reserved == {"authorizer": 50, "typing": 50, "default": 20}


@pytest.mark.parametrize("value", ["false", False])
def test_every_reservation_can_be_switched_off_at_once(value: object) -> None:
    # a new account whose concurrency limit leaves nothing to reserve
    assert ConcurrencyConfig.from_context({"reservedConcurrency": value}.get).reserved == {}


@pytest.mark.parametrize("values", [
    {"connectConcurrency": "0"},  # zero executions would throttle every handshake
    {"typingConcurrency": "-5"},
    {"typingConcurrency": "2.5"},
    {"authorizerConcurrency": "fifty"},
    {"pingConcurrency": "none"},  # off is spelt "off"
    {"presenceConcurrency": True},
    {"reservedConcurrency": "no"},  # not a boolean
    {"reservedConcurrency": "false", "typingConcurrency": "10"},  # a cap that would do nothing
])
def test_concurrency_context_that_would_not_work_fails_the_synth(values: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(values)) if len(values) == 1 else "typingConcurrency"):
        ConcurrencyConfig.from_context(values.get)


# --- storage ---

def test_the_table_is_kept_and_protected_unless_a_dev_stage_says_otherwise() -> None:
    # given no context / then data is retained, and deletion protection follows the removal policy
    assert StorageConfig.from_context(context()) == StorageConfig(RemovalPolicy.RETAIN, None)
    # given -c removalPolicy=destroy (a dev stage) / then the table goes with the stack
    assert StorageConfig.from_context(context(removalPolicy="destroy")).removal_policy is RemovalPolicy.DESTROY
    # and deletion protection may still be switched off (or on) explicitly
    assert StorageConfig.from_context(context(tableDeletionProtection="false")).deletion_protection is False
    assert StorageConfig.from_context({"tableDeletionProtection": False}.get).deletion_protection is False
    with pytest.raises(ValueError, match="tableDeletionProtection"):
        StorageConfig.from_context(context(tableDeletionProtection="off"))
    with pytest.raises(ValueError, match="removalPolicy"):
        StorageConfig.from_context(context(removalPolicy="snapshot"))


def test_operating_props_come_from_context_and_typos_fail_the_synth() -> None:
    # given nothing / then the prod stage, a month of logs, tracing on, no alarm action, no domain, no tags
    assert OperationsConfig.from_context(context()) == OperationsConfig()
    # given every operating key
    config = OperationsConfig.from_context(context(
        stage="dev", logRetention="one_week", tracing="false", alarmEmail="ops@example.com",
        domainName="chat.example.com", certificateArn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        tags="team=chat, cost-center=42"))
    # then each becomes the construct's prop
    assert (config.stage, config.log_retention, config.tracing, config.alarm_email) == (
        "dev", logs.RetentionDays.ONE_WEEK, False, "ops@example.com")
    assert config.tags == {"team": "chat", "cost-center": "42"}
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    assert OperationsConfig.from_context(context(alarmTopicArn=topic)).alarm_topic_arn == topic
    for values in ({"logRetention": "fortnight"}, {"domainName": "chat.example.com"}, {"alarmEmail": "ops"},
                   {"alarmTopicArn": "on-call"}, {"tags": "team"}, {"tracing": "sometimes"}):
        with pytest.raises(ValueError):
            OperationsConfig.from_context(context(**values))


def test_a_bad_stack_name_fails_before_anything_is_built() -> None:
    # -c stackName=ParleyDev deploys a second stack beside Parley; a name CloudFormation refuses fails here
    with pytest.raises(ValueError, match="stackName"):
        build(cdk.App(context={"stackName": "parley dev"}))
