"""Deploy-time context is checked when the app starts, not when the first user connects.
(No synth: these read context values only.)"""

from __future__ import annotations

import pytest

from infra import constants
from infra.context import AuthConfig, ContextReader, ThrottleConfig, tuned_settings
from parley.config import AuthMode

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
    assert (config.mode, config.jwks_url, config.issuer, config.algorithms) == (
        AuthMode.JWKS, "https://idp.example/jwks.json", "https://idp.example", "RS256")


@pytest.mark.parametrize("values", [
    {"authMode": "jwks", "authIssuer": "https://idp.example"},  # no jwksUrl
    {"authMode": "jwks", "jwksUrl": "https://idp.example/jwks.json"},  # no issuer
    {"authMode": "rsa"},  # unknown mode
    {"authAlgorithms": "RS256"},  # an asymmetric algorithm with a shared secret
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


def test_tunable_settings_pass_through_under_their_own_names() -> None:
    tuned = tuned_settings(context(PARLEY_RATE_LIMITS="send=10:40", PARLEY_ALLOWED_ORIGINS="https://app.example"))
    assert tuned == {"PARLEY_RATE_LIMITS": "send=10:40", "PARLEY_ALLOWED_ORIGINS": "https://app.example"}


def test_nothing_is_tuned_by_default() -> None:
    assert tuned_settings(context()) == {}


def test_a_tuned_setting_the_handlers_would_refuse_fails_the_synth() -> None:
    with pytest.raises(ValueError):
        tuned_settings(context(PARLEY_MAX_TEXT_BYTES="0"))


@pytest.mark.parametrize("name", ["PARLEY_TABLE_NAME", "PARLEY_AUTH_SECRET_ID", "PARLEY_SINGLE_USE_TOKENS"])
def test_settings_the_stack_owns_cannot_be_set_through_context(name: str) -> None:
    # they name a resource of the stack, or would need a permission it does not grant
    with pytest.raises(ValueError, match=name):
        tuned_settings(context(**{name: "x"}))
