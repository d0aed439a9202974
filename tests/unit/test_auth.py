"""Token verification: every way a token can be wrong is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from parley.auth import TokenVerifier, build_verifier, token_from_request
from parley.config import Settings
from parley.errors import TokenError

SECRET = "s3cret-for-tests-only-0123456789abcdef"
ISS, AUD = "https://issuer.example", "parley-app"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "alice", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs_verifier(secrets: tuple[str, ...] = (SECRET,), **settings: Any) -> TokenVerifier:
    configured = Settings(PARLEY_AUTH_MODE="hs256", PARLEY_AUTH_SECRET_ID="secret", PARLEY_AUTH_ISSUER=ISS,
                          PARLEY_AUTH_AUDIENCE=AUD, PARLEY_AUTH_ALGORITHMS="HS256", PARLEY_AUTH_LEEWAY_SECONDS=0,
                          **settings)
    return build_verifier(configured, lambda _id: secrets)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)


def jwks_verifier(algorithms: str = "RS256,ES256", **settings: Any) -> TokenVerifier:
    configured = Settings(PARLEY_AUTH_MODE="jwks", PARLEY_AUTH_JWKS_URL="https://keys.example/jwks.json",
                          PARLEY_AUTH_ISSUER=ISS, PARLEY_AUTH_AUDIENCE=AUD, PARLEY_AUTH_ALGORITHMS=algorithms,
                          PARLEY_AUTH_LEEWAY_SECONDS=0, **settings)

    def keys_for(token: str) -> list[Any]:
        alg = jwt.get_unverified_header(token)["alg"]
        return [EC_KEY.public_key() if alg.startswith("ES") else RSA_KEY.public_key()]

    return TokenVerifier(configured, keys_for)


def test_a_valid_hs256_token_yields_its_subject() -> None:
    assert hs_verifier().verify(jwt.encode(claims(), SECRET, algorithm="HS256")).user_id == "alice"


def test_valid_rs256_and_es256_tokens_yield_their_subject() -> None:
    verifier = jwks_verifier()
    assert verifier.verify(jwt.encode(claims(sub="bob"), RSA_KEY, algorithm="RS256")).user_id == "bob"
    assert verifier.verify(jwt.encode(claims(sub="carol"), EC_KEY, algorithm="ES256")).user_id == "carol"


@pytest.mark.parametrize("case, token", [
    ("bad signature", jwt.encode(claims(), "another-secret-of-sufficient-length!!", algorithm="HS256")),
    ("expired", jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")),
    ("wrong audience", jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256")),
    ("wrong issuer", jwt.encode(claims(iss="https://evil.example"), SECRET, algorithm="HS256")),
    ("no exp", jwt.encode(claims(exp=None), SECRET, algorithm="HS256")),
    ("no iss", jwt.encode(claims(iss=None), SECRET, algorithm="HS256")),
    ("no aud", jwt.encode(claims(aud=None), SECRET, algorithm="HS256")),
    ("no sub", jwt.encode(claims(sub=None), SECRET, algorithm="HS256")),
    ("sub not a user id", jwt.encode(claims(sub="a#b"), SECRET, algorithm="HS256")),
    ("unpinned HS512", jwt.encode(claims(), SECRET, algorithm="HS512")),
    ("RS256 in hs256 mode", jwt.encode(claims(), RSA_KEY, algorithm="RS256")),
    ("garbage", "not-a-jwt"),
    ("empty", ""),
])
def test_bad_hs256_tokens_are_refused(case: str, token: str) -> None:
    with pytest.raises(TokenError):
        hs_verifier().verify(token)


def _unsigned(payload: dict[str, Any]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(payload).encode())}."


def test_alg_none_is_refused_in_both_modes() -> None:
    token = _unsigned(claims())
    with pytest.raises(TokenError):
        hs_verifier().verify(token)
    with pytest.raises(TokenError):
        jwks_verifier().verify(token)


def test_hs_rs_algorithm_swap_is_refused() -> None:
    # given an attacker signs HS256 with the RSA *public* key as the HMAC secret
    forged = _hmac_with_public_key()
    # then a verifier pinned to RS256/ES256 refuses it
    with pytest.raises(TokenError):
        jwks_verifier().verify(forged)


def _hmac_with_public_key() -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}." \
                    f"{b64(json.dumps(claims()).encode())}"
    signature = hmac.new(RSA_PUBLIC_PEM, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_algorithms_are_pinned_to_the_mode() -> None:
    with pytest.raises(ValueError, match="subset"):
        build_verifier(Settings(PARLEY_AUTH_MODE="hs256", PARLEY_AUTH_SECRET_ID="x",
                                PARLEY_AUTH_ALGORITHMS="RS256"), lambda _id: SECRET)
    with pytest.raises(ValueError, match="subset"):
        jwks_verifier("HS256")


def test_the_token_comes_from_the_query_or_a_bearer_header() -> None:
    assert token_from_request({"token": "q"}, {"Authorization": "Bearer h"}) == "q"
    assert token_from_request({}, {"authorization": "Bearer h"}) == "h"
    assert token_from_request(None, {"Authorization": "Basic abc"}) is None
    assert token_from_request(None, None) is None


# --- the user id in sub ---

@pytest.mark.parametrize("subject", [
    "alice1\n", "alice\x00", "\u202eecila", "\u2066alice\u2069", "al\u200bice", "alice\u3000", "x" * 129,
])
def test_a_sub_that_is_not_a_user_id_is_refused_in_both_modes(subject: str) -> None:
    with pytest.raises(TokenError, match="sub"):
        hs_verifier().verify(jwt.encode(claims(sub=subject), SECRET, algorithm="HS256"))
    with pytest.raises(TokenError, match="sub"):
        jwks_verifier().verify(jwt.encode(claims(sub=subject), RSA_KEY, algorithm="RS256"))


# --- the token lifetime cap (PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS) ---

def _sign(mode: str, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256") if mode == "hs256" else \
        jwt.encode(payload, RSA_KEY, algorithm="RS256")


def _capped(mode: str, cap: int | None) -> TokenVerifier:
    setting: dict[str, Any] = {"PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS": cap}
    return hs_verifier(**setting) if mode == "hs256" else jwks_verifier(**setting)


@pytest.mark.parametrize("mode", ["hs256", "jwks"])
def test_with_a_lifetime_cap_tokens_must_carry_iat_and_live_at_most_the_cap(mode: str) -> None:
    # given a cap of 10 minutes
    verifier, now = _capped(mode, 600), int(time.time())
    # then a token that lives exactly 10 minutes is accepted
    assert verifier.verify(_sign(mode, claims(iat=now, exp=now + 600))).user_id == "alice"
    # and one that lives a second longer, one without iat, or one with a non-numeric iat is refused
    for payload in (claims(iat=now, exp=now + 601), claims(iat=None), claims(iat=str(now))):
        with pytest.raises(TokenError):
            verifier.verify(_sign(mode, payload))


@pytest.mark.parametrize("mode", ["hs256", "jwks"])
def test_a_future_iat_does_not_stretch_the_cap(mode: str) -> None:
    # given a token claiming to be issued in a day, valid for ten minutes from then
    now = int(time.time())
    stretched = _sign(mode, claims(iat=now + 86_400, exp=now + 86_400 + 600))
    # then it is refused: it is not valid yet
    with pytest.raises(TokenError):
        _capped(mode, 600).verify(stretched)


@pytest.mark.parametrize("mode", ["hs256", "jwks"])
def test_without_a_cap_long_lived_tokens_and_tokens_without_iat_are_accepted(mode: str) -> None:
    now = int(time.time())
    assert _capped(mode, None).verify(_sign(mode, claims(iat=None, exp=now + 30 * 86_400))).user_id == "alice"


@pytest.mark.parametrize("cap", [0, 9, 86_401, -1])
def test_a_cap_out_of_range_is_a_configuration_error(cap: int) -> None:
    with pytest.raises(ValueError):
        Settings(PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS=cap)


# --- secret rotation: the current and the previous secret ---

PREVIOUS = "the-previous-secret-0123456789abcdef0123"
OLDER = "a-secret-two-rotations-old-0123456789abcdef"


def test_tokens_signed_with_the_current_or_the_previous_secret_verify() -> None:
    verifier = hs_verifier(secrets=(SECRET, PREVIOUS))
    assert verifier.verify(jwt.encode(claims(sub="new"), SECRET, algorithm="HS256")).user_id == "new"
    assert verifier.verify(jwt.encode(claims(sub="old"), PREVIOUS, algorithm="HS256")).user_id == "old"


def test_a_token_signed_with_an_older_secret_is_refused() -> None:
    with pytest.raises(TokenError, match="InvalidSignatureError"):
        hs_verifier(secrets=(SECRET, PREVIOUS)).verify(jwt.encode(claims(), OLDER, algorithm="HS256"))


def test_the_previous_secret_does_not_revive_a_token_refused_for_its_claims() -> None:
    # given a token signed with the previous secret that has expired
    expired = jwt.encode(claims(exp=int(time.time()) - 10), PREVIOUS, algorithm="HS256")
    # then it is refused as expired
    with pytest.raises(TokenError, match="ExpiredSignatureError"):
        hs_verifier(secrets=(SECRET, PREVIOUS)).verify(expired)
