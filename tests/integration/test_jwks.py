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


# Tokens shaped like the common identity providers' (docs/deploying.md has a recipe for each). Only the
# claims Parley checks matter; the others are there so the fixtures look like the real thing.
COGNITO_POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
COGNITO_APP_CLIENT, COGNITO_OTHER_CLIENT = "3n4b5urk1ft4fl3mg5e62d9ado", "7aq2mbc4kq0g2nbd0rc9p4mh5c"
AUTH0_TENANT, AUTH0_API = "https://chat-example.eu.auth0.com/", "https://chat.example/api"
FIREBASE_PROJECT = "chat-example-4f2a1"


def cognito_id_token(**extra: Any) -> dict[str, Any]:
    return claims(**{"sub": "6f1b2c3d-aaaa-4bbb-8ccc-0123456789ab", "iss": COGNITO_POOL, "aud": COGNITO_APP_CLIENT,
                     "token_use": "id", "cognito:username": "alice", **extra})


def cognito_access_token(**extra: Any) -> dict[str, Any]:
    token = claims(**{"sub": "6f1b2c3d-aaaa-4bbb-8ccc-0123456789ab", "iss": COGNITO_POOL,
                      "client_id": COGNITO_APP_CLIENT, "token_use": "access",
                      "scope": "aws.cognito.signin.user.admin", "username": "alice", **extra})
    del token["aud"]  # Cognito access tokens carry client_id, never aud
    return token


def auth0_token(**extra: Any) -> dict[str, Any]:
    return claims(**{"sub": "auth0|64b7f0c2e1d3a4b5c6d7e8f9", "iss": AUTH0_TENANT,
                     "aud": [AUTH0_API, f"{AUTH0_TENANT}userinfo"], "azp": "tWq0xq1fYmT3", "scope": "openid chat",
                     **extra})


def firebase_token(**extra: Any) -> dict[str, Any]:
    return claims(**{"sub": "kX3b9QzR2sVwYt7uHn1cLp0aE4d2", "iss": f"https://securetoken.google.com/{FIREBASE_PROJECT}",
                     "aud": FIREBASE_PROJECT, "auth_time": int(time.time()), "user_id": "kX3b9QzR2sVwYt7uHn1cLp0aE4d2",
                     "firebase": {"sign_in_provider": "password"}, **extra})


def rs256(token_claims: dict[str, Any]) -> str:
    return jwt.encode(token_claims, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})


def jwks_verifier(endpoint: JsonEndpoint, **settings: str) -> Any:
    return build_verifier(Settings(PARLEY_AUTH_MODE="jwks", PARLEY_AUTH_JWKS_URL=f"{endpoint.url}/jwks.json",
                                   PARLEY_AUTH_ALGORITHMS="RS256", **settings), lambda _id: "unused")


def test_cognito_id_tokens_verify_with_the_app_client_as_audience(jwks_endpoint: JsonEndpoint) -> None:
    # given jwks mode set up as the Cognito recipe says for ID tokens
    verifier = jwks_verifier(jwks_endpoint, PARLEY_AUTH_ISSUER=COGNITO_POOL, PARLEY_AUTH_AUDIENCE=COGNITO_APP_CLIENT)
    # then the pool's ID token connects as its sub, and one for another app client does not
    assert verifier.verify(rs256(cognito_id_token())).user_id == "6f1b2c3d-aaaa-4bbb-8ccc-0123456789ab"
    with pytest.raises(TokenError):
        verifier.verify(rs256(cognito_id_token(aud=COGNITO_OTHER_CLIENT)))
    # and an access token (no aud) is refused: it needs PARLEY_AUTH_AUDIENCE_CLAIM=client_id
    with pytest.raises(TokenError):
        verifier.verify(rs256(cognito_access_token()))


def test_cognito_access_tokens_verify_with_the_client_id_option(jwks_endpoint: JsonEndpoint) -> None:
    # given jwks mode with the audience taken from client_id, two app clients allowed
    verifier = jwks_verifier(jwks_endpoint, PARLEY_AUTH_ISSUER=COGNITO_POOL,
                             PARLEY_AUTH_AUDIENCE=f"{COGNITO_APP_CLIENT},{COGNITO_OTHER_CLIENT}",
                             PARLEY_AUTH_AUDIENCE_CLAIM="client_id")
    # then access tokens of either app client connect
    assert verifier.verify(rs256(cognito_access_token())).user_id == "6f1b2c3d-aaaa-4bbb-8ccc-0123456789ab"
    assert verifier.verify(rs256(cognito_access_token(client_id=COGNITO_OTHER_CLIENT))).user_id
    # and a token of another client, one without client_id, or from another pool, does not
    for refused in (cognito_access_token(client_id="someone-else"),
                    {k: v for k, v in cognito_access_token().items() if k != "client_id"},
                    cognito_access_token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")):
        with pytest.raises(TokenError):
            verifier.verify(rs256(refused))


def test_auth0_tokens_with_a_list_of_audiences_verify(jwks_endpoint: JsonEndpoint) -> None:
    # given the Auth0 recipe: the tenant as issuer (with its trailing slash), the API identifier as audience
    verifier = jwks_verifier(jwks_endpoint, PARLEY_AUTH_ISSUER=AUTH0_TENANT, PARLEY_AUTH_AUDIENCE=AUTH0_API)
    # then an access token whose aud lists the API and userinfo connects
    assert verifier.verify(rs256(auth0_token())).user_id == "auth0|64b7f0c2e1d3a4b5c6d7e8f9"
    # and one for another API, or from another tenant, does not
    for refused in (auth0_token(aud="https://other.example/api"), auth0_token(iss="https://evil.auth0.com/")):
        with pytest.raises(TokenError):
            verifier.verify(rs256(refused))


def test_firebase_tokens_verify_and_several_issuers_share_one_deployment(jwks_endpoint: JsonEndpoint) -> None:
    # given one deployment that accepts two Firebase projects (a list of issuers and of audiences)
    other = "chat-example-staging"
    verifier = jwks_verifier(
        jwks_endpoint,
        PARLEY_AUTH_ISSUER=f"https://securetoken.google.com/{FIREBASE_PROJECT}, https://securetoken.google.com/{other}",
        PARLEY_AUTH_AUDIENCE=f"{FIREBASE_PROJECT},{other}")
    # then ID tokens of either project connect
    assert verifier.verify(rs256(firebase_token())).user_id == "kX3b9QzR2sVwYt7uHn1cLp0aE4d2"
    assert verifier.verify(rs256(firebase_token(iss=f"https://securetoken.google.com/{other}", aud=other))).user_id
    # and a third project's token does not
    with pytest.raises(TokenError):
        verifier.verify(rs256(firebase_token(iss="https://securetoken.google.com/third", aud="third")))
