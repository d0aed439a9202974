"""JWKS mode against a real JWKS endpoint on 127.0.0.1 (as a Cognito user pool serves one): RS256 and ES256
tokens verify, keys are cached, and an HS256 token forged with the public key is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from parley.auth import build_verifier
from parley.config import Settings
from parley.errors import TokenError
from tests.integration.conftest import reset_caches
from tests.support.events import authorizer_event
from tests.support.handlers import invoke
from tests.support.json_endpoint import JsonEndpoint, json_endpoint

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ISS, AUD = "https://cognito-idp.example/pool", "parley-app"


def jwks() -> dict[str, Any]:
    rsa_jwk = {**json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())), "kid": "rsa-1", "alg": "RS256"}
    ec_jwk = {**json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())), "kid": "ec-1", "alg": "ES256"}
    return {"keys": [rsa_jwk, ec_jwk]}


@pytest.fixture
def jwks_endpoint() -> Iterator[JsonEndpoint]:
    with json_endpoint(jwks()) as endpoint:
        yield endpoint


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, **extra}


def test_jwks_mode_verifies_rs256_and_es256_and_caches_the_keys(jwks_endpoint: JsonEndpoint) -> None:
    jwks_url = f"{jwks_endpoint.url}/.well-known/jwks.json"
    verifier = build_verifier(Settings(PARLEY_AUTH_MODE="jwks", PARLEY_AUTH_JWKS_URL=jwks_url, PARLEY_AUTH_ISSUER=ISS,
                                       PARLEY_AUTH_AUDIENCE=AUD, PARLEY_AUTH_ALGORITHMS="RS256,ES256"),
                              lambda _id: "unused")
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(sub="bob"), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    assert verifier.verify(rs).user_id == "alice"
    assert verifier.verify(es).user_id == "bob"
    assert verifier.verify(rs).user_id == "alice"
    assert jwks_endpoint.requests == 1  # fetched once, then cached
    public_pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode()).decode()
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode()).decode()
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenError):
        verifier.verify(f"{header}.{payload}.{jwt.utils.base64url_encode(signature).decode()}")
    with pytest.raises(TokenError):  # a kid the JWKS does not have
        verifier.verify(jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "unknown"}))


def test_the_authorizer_caps_token_lifetimes_in_jwks_mode(aws_env: Any, monkeypatch: pytest.MonkeyPatch,
                                                         jwks_endpoint: JsonEndpoint) -> None:
    # given the authorizer in jwks mode with PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS=900
    jwks_url = f"{jwks_endpoint.url}/.well-known/jwks.json"
    for name, value in {"PARLEY_AUTH_MODE": "jwks", "PARLEY_AUTH_JWKS_URL": jwks_url, "PARLEY_AUTH_ISSUER": ISS,
                        "PARLEY_AUTH_AUDIENCE": AUD, "PARLEY_AUTH_ALGORITHMS": "RS256",
                        "PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS": "900"}.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    now = int(time.time())

    def effect(**overrides: Any) -> str:
        signed = jwt.encode({k: v for k, v in claims(**overrides).items() if v is not None}, RSA_KEY,
                            algorithm="RS256", headers={"kid": "rsa-1"})
        policy = invoke("authorizer", authorizer_event(query={"token": signed}))
        answer: str = policy["policyDocument"]["Statement"][0]["Effect"]
        return answer

    # then an identity provider's token living 15 minutes connects; a longer one, or one without iat, is denied
    assert effect(iat=now, exp=now + 900) == "Allow"
    assert effect(iat=now, exp=now + 901) == "Deny"
    assert effect(iat=None, exp=now + 60) == "Deny"
