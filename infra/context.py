"""Deploy-time configuration, read from CDK context (``cdk synth -c authMode=jwks -c jwksUrl=...``).

Context keys:

* ``authMode`` -- ``hs256`` (default): the stack creates a Secrets Manager secret with a generated
  signing key; the host app's backend reads it to sign chat tokens. ``jwks``: tokens are verified
  against ``jwksUrl`` (for example a Cognito user pool's ``.../.well-known/jwks.json``).
* ``jwksUrl`` -- required in ``jwks`` mode.
* ``authIssuer`` -- the required ``iss`` claim (default ``parley``; required in ``jwks`` mode).
* ``authAudience`` -- the required ``aud`` claim (default ``parley``).
* ``authAlgorithms`` -- comma-separated allowed algorithms (default ``HS256`` / ``RS256`` by mode).
* ``stageRateLimit`` / ``stageBurstLimit`` -- API Gateway throttling of every route, all clients together.
* ``PARLEY_*`` -- a tunable setting of ``parley.config.Settings`` under its own name
  (``-c PARLEY_RATE_LIMITS=send=10:40 -c PARLEY_ALLOWED_ORIGINS=https://app.example``), passed to every
  function and validated by the Settings model at synth. Settings that name a resource of the stack or
  need a permission (table, callback URL, auth, moderation hook and topic, single-use tokens, push) are
  not tunable this way: the stack sets them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra import constants
from parley.auth import TokenVerifier
from parley.config import AuthMode, Settings

ContextReader = Callable[[str], Any]

# Settings that change behaviour only: no resource, no permission depends on them.
TUNABLE_SETTINGS = frozenset({
    "auth_leeway_seconds", "auth_key_cache_seconds", "max_group_members", "max_text_bytes", "history_page_max",
    "connection_ttl_seconds", "idempotency_window", "typing_interval_ms", "fanout_workers", "rate_limits",
    "max_connections_per_user", "allowed_origins", "allow_missing_origin", "max_token_lifetime_seconds",
    "moderation_timeout_ms", "moderation_fail_open", "push_content",
})


def tuned_settings(read: ContextReader) -> dict[str, str]:
    """The ``PARLEY_*`` variables set through context, checked by the model the handlers read them with."""
    values: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = read(field.alias) if field.alias else None
        if value is None:
            continue
        if name not in TUNABLE_SETTINGS:
            raise ValueError(f"{field.alias} is set by the stack, not through context (see infra/context.py)")
        values[str(field.alias)] = str(value).lower() if isinstance(value, bool) else str(value)
    Settings.model_validate(values)  # a bad value fails synth, not every invocation
    return values


@dataclass(frozen=True)
class AuthConfig:
    mode: AuthMode
    issuer: str
    audience: str
    algorithms: str
    jwks_url: str | None = None

    @classmethod
    def from_context(cls, read: ContextReader) -> AuthConfig:
        mode = AuthMode(str(read("authMode") or AuthMode.HS256.value).lower())
        jwks_url = read("jwksUrl")
        issuer = read("authIssuer")
        if mode is AuthMode.JWKS and not (jwks_url and issuer):
            raise ValueError("authMode=jwks needs the context values jwksUrl and authIssuer")
        default_algorithms = (constants.DEFAULT_JWKS_ALGORITHMS if mode is AuthMode.JWKS
                              else constants.DEFAULT_HS256_ALGORITHMS)
        config = cls(
            mode=mode,
            issuer=str(issuer or constants.DEFAULT_AUTH_ISSUER),
            audience=str(read("authAudience") or constants.DEFAULT_AUTH_AUDIENCE),
            algorithms=str(read("authAlgorithms") or default_algorithms),
            jwks_url=str(jwks_url) if jwks_url else None,
        )
        # The authorizer's own rule (algorithms allowed for the mode): a typo fails synth, not every connect.
        TokenVerifier(Settings(auth_mode=mode, auth_algorithms=config.algorithms), key_for=lambda _token: None)
        return config


@dataclass(frozen=True)
class ThrottleConfig:
    rate_limit: float
    burst_limit: int

    @classmethod
    def from_context(cls, read: ContextReader) -> ThrottleConfig:
        # `-c key=value` arrives as a string, cdk.json values as numbers: accept both.
        rate = read("stageRateLimit")
        burst = read("stageBurstLimit")
        return cls(
            rate_limit=float(rate) if rate is not None else constants.THROTTLE_RATE_LIMIT,
            burst_limit=int(burst) if burst is not None else constants.THROTTLE_BURST_LIMIT,
        )


@dataclass(frozen=True)
class DeploymentConfig:
    auth: AuthConfig
    throttle: ThrottleConfig
    settings: Mapping[str, str]  # tuned PARLEY_* variables, for every function

    @classmethod
    def from_context(cls, read: ContextReader) -> DeploymentConfig:
        return cls(auth=AuthConfig.from_context(read), throttle=ThrottleConfig.from_context(read),
                   settings=tuned_settings(read))
