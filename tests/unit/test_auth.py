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


def hs_verifier() -> TokenVerifier:
    settings = Settings(PARLEY_AUTH_MODE="hs256", PARLEY_AUTH_SECRET_ID="secret", PARLEY_AUTH_ISSUER=ISS,
                        PARLEY_AUTH_AUDIENCE=AUD, PARLEY_AUTH_ALGORITHMS="HS256", PARLEY_AUTH_LEEWAY_SECONDS=0)
    return build_verifier(settings, lambda _id: SECRET)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)


def jwks_verifier(algorithms: str = "RS256,ES256") -> TokenVerifier:
    settings = Settings(PARLEY_AUTH_MODE="jwks", PARLEY_AUTH_JWKS_URL="https://keys.example/jwks.json",
                        PARLEY_AUTH_ISSUER=ISS, PARLEY_AUTH_AUDIENCE=AUD, PARLEY_AUTH_ALGORITHMS=algorithms,
                        PARLEY_AUTH_LEEWAY_SECONDS=0)

    def key_for(token: str) -> Any:
        alg = jwt.get_unverified_header(token)["alg"]
        return EC_KEY.public_key() if alg.startswith("ES") else RSA_KEY.public_key()

    return TokenVerifier(settings, key_for)


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
