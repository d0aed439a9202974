"""The $connect authorizer under moto: the HS256 secret comes from Secrets Manager."""

from __future__ import annotations

import logging
import time
from typing import Any

import boto3
import pytest

from parley.stores.secrets import secret_reader
from tests.integration.conftest import SECRET, SECRET_NAME, reset_caches, token
from tests.support.events import authorizer_event
from tests.support.handlers import invoke

pytestmark = pytest.mark.usefixtures("aws_env")


def effect(policy: dict[str, Any]) -> str:
    effect_value: str = policy["policyDocument"]["Statement"][0]["Effect"]
    return effect_value


def test_a_valid_query_token_is_allowed_and_carries_the_user_id_and_the_default_frame_format() -> None:
    policy = invoke("authorizer", authorizer_event(query={"token": token("alice")}))
    assert effect(policy) == "Allow"
    assert policy["principalId"] == "alice"
    assert policy["context"] == {"userId": "alice", "frameFormat": "compact"}


def test_the_frame_format_asked_for_is_passed_to_every_route() -> None:
    for asked in ("compact", "full"):
        policy = invoke("authorizer", authorizer_event(query={"token": token("alice"), "format": asked}))
        assert effect(policy) == "Allow" and policy["context"]["frameFormat"] == asked


def test_an_unknown_frame_format_refuses_the_handshake() -> None:
    # given a good token, when the app asks for a format Parley does not have, then it is refused (403)
    for asked in ("cbor", "Full", ""):
        policy = invoke("authorizer", authorizer_event(query={"token": token("alice"), "format": asked}))
        assert effect(policy) == "Deny", asked


def test_a_valid_bearer_header_is_allowed() -> None:
    policy = invoke("authorizer", authorizer_event(headers={"Authorization": f"Bearer {token('bob')}"}))
    assert effect(policy) == "Allow" and policy["context"]["userId"] == "bob"


def test_no_token_is_401() -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", authorizer_event())


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: token("alice", key="not-the-secret-0123456789abcdef"), id="bad signature"),
    pytest.param(lambda: token("alice", exp=int(time.time()) - 60), id="expired"),
    pytest.param(lambda: token("alice", aud="another-app"), id="wrong aud"),
    pytest.param(lambda: token("alice", iss="another-issuer"), id="wrong iss"),
    pytest.param(lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", id="alg none"),
])
def test_a_bad_token_is_denied(bad: Any) -> None:
    policy = invoke("authorizer", authorizer_event(query={"token": bad()}))
    assert effect(policy) == "Deny"
    assert "context" not in policy or not policy["context"]


def allowed(user_token: str) -> bool:
    """Whether the handshake with this token gets through: Allow, or Deny (API Gateway answers 403)."""
    return effect(invoke("authorizer", authorizer_event(query={"token": user_token}))) == "Allow"


@pytest.mark.parametrize("subject", [
    pytest.param("alice1\n", id="trailing newline"),
    pytest.param("alice\x00", id="NUL"),
    pytest.param("\u202eecila", id="right-to-left override"),
    pytest.param("\u2066alice\u2069", id="bidi isolate"),
    pytest.param("al\u200bice", id="zero-width space"),
    pytest.param("alice\u3000", id="ideographic space"),
    pytest.param("alice#admin", id="hash"),
    pytest.param("x" * 129, id="129 characters"),
])
def test_a_sub_that_is_not_a_user_id_is_denied(subject: str) -> None:
    policy = invoke("authorizer", authorizer_event(query={"token": token(subject)}))
    assert effect(policy) == "Deny"
    assert not policy.get("context")


# --- PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS ---

def test_tokens_live_as_long_as_the_backend_likes_without_a_cap() -> None:
    now = int(time.time())
    assert allowed(token("alice", iat=None, exp=now + 30 * 86_400))


def test_with_a_cap_a_token_must_carry_iat_and_live_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the authorizer caps token lifetimes at 10 minutes
    monkeypatch.setenv("PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS", "600")
    reset_caches()
    now = int(time.time())
    # then a token living 10 minutes connects; a longer one, or one without iat, is denied
    assert allowed(token("alice", iat=now, exp=now + 600))
    assert not allowed(token("alice", iat=now, exp=now + 601))
    assert not allowed(token("alice", iat=None, exp=now + 60))


@pytest.mark.parametrize(("general_cap", "single_use_cap", "denied", "allowed_lifetime"), [
    pytest.param("600", "300", 360, 300, id="the single-use cap is smaller"),
    pytest.param("120", "300", 200, 120, id="the general cap is smaller"),
])
def test_with_single_use_tokens_the_smaller_cap_applies(
        configure: Any, monkeypatch: pytest.MonkeyPatch, general_cap: str, single_use_cap: str, denied: int,
        allowed_lifetime: int) -> None:
    # given single-use tokens and a general cap, both set
    monkeypatch.setenv("PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS", general_cap)
    configure(PARLEY_SINGLE_USE_TOKENS="true", PARLEY_MAX_TOKEN_LIFETIME_SECONDS=single_use_cap)
    reset_caches()
    now = int(time.time())
    # then a token living longer than the smaller one is denied, and one living exactly that long connects
    assert not allowed(token("alice", iat=now, exp=now + denied, jti="j-1"))
    assert allowed(token("alice", iat=now, exp=now + allowed_lifetime, jti="j-2"))


# --- secret rotation: AWSCURRENT and AWSPREVIOUS ---

NEW_SECRET = "the-rotated-secret-0123456789abcdef0123456789"
NEWER_SECRET = "the-secret-after-that-0123456789abcdef012345"


def test_rotating_the_secret_in_two_steps_keeps_live_tokens_working(
        aws_env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="parley")
    monkeypatch.setenv("PARLEY_AUTH_KEY_CACHE_SECONDS", "0")  # the authorizer re-reads the secret at once
    reset_caches()
    secrets = boto3.client("secretsmanager")
    # given alice holds a token signed with the secret as deployed
    alices = token("alice")
    assert allowed(alices)
    # when (1) a new value is put: it becomes AWSCURRENT, the old one AWSPREVIOUS
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=NEW_SECRET)
    # then alice's token still connects, and (2) tokens the backend now signs with the new value do too
    assert allowed(alices)
    bobs = token("bob", key=NEW_SECRET)
    assert allowed(bobs)
    # when the secret is rotated once more
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=NEWER_SECRET)
    # then a token signed with the value two rotations old is denied; the previous and the current connect
    assert not allowed(alices)
    assert allowed(bobs)
    assert allowed(token("carol", key=NEWER_SECRET))
    # and nothing the authorizer logged carries a token or a secret
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert caplog.records  # the refusal was logged, with its reason
    for secret in (alices, bobs, SECRET, NEW_SECRET, NEWER_SECRET):
        assert secret not in logged


def test_both_versions_are_cached_for_the_key_cache_period(aws_env: Any) -> None:
    # given a reader that keeps values 300 s, on a clock the test moves
    now = [1000.0]
    read = secret_reader(300, clock=lambda: now[0])
    # then a secret never rotated has only its current value
    assert read(SECRET_NAME) == (SECRET,)
    # when a new value is put, the cached values are used until they are 300 s old
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=NEW_SECRET)
    now[0] += 299
    assert read(SECRET_NAME) == (SECRET,)
    now[0] += 1
    # then both versions are read again: current first, then previous
    assert read(SECRET_NAME) == (NEW_SECRET, SECRET)
