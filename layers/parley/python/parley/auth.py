"""Chat-token verification for the ``$connect`` authorizer.

Two modes, chosen at deploy time: HS256 with a shared secret kept in Secrets Manager, or RS256/ES256
against a JWKS URL (for example a Cognito user pool), with the keys cached. Algorithms come from
configuration, never from the token; ``exp``, ``iss``, ``aud`` and ``sub`` are required.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from parley.config import AuthMode, Settings
from parley.errors import TokenError

_USER_ID = re.compile(r"^[^\s#]{1,128}$")
_SYMMETRIC = {"HS256", "HS384", "HS512"}
_ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


def token_from_request(query: Mapping[str, str] | None, headers: Mapping[str, str] | None) -> str | None:
    """The token from ``?token=`` (browsers cannot set handshake headers) or ``Authorization: Bearer``."""
    token = (query or {}).get("token")
    if token:
        return token
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value[:7].lower() == "bearer ":
            return value[7:].strip() or None
    return None


@dataclass(frozen=True)
class VerifiedToken:
    user_id: str  # the ``sub`` claim
    expires_at: int  # epoch seconds
    issued_at: int | None
    jti: str | None


def origin_allowed(headers: Mapping[str, str] | None, allowed: frozenset[str], allow_missing: bool) -> bool:
    """Cross-site WebSocket hijacking defence: the browser's ``Origin`` must be on the allowlist."""
    if not allowed:
        return True
    origin = next((v for k, v in (headers or {}).items() if k.lower() == "origin"), None)
    if origin is None:
        return allow_missing
    return origin.strip().rstrip("/") in allowed


class TokenVerifier:
    """Verifies a chat token: signature with a pinned algorithm, ``exp``, ``iss``, ``aud`` and ``sub``."""

    def __init__(self, settings: Settings, key_for: Callable[[str], Any]) -> None:
        self._settings = settings
        self._algorithms = settings.algorithms
        allowed = _SYMMETRIC if settings.auth_mode is AuthMode.HS256 else _ASYMMETRIC
        if not self._algorithms or not set(self._algorithms) <= allowed:
            raise ValueError(f"PARLEY_AUTH_ALGORITHMS must be a subset of {sorted(allowed)} "
                             f"in {settings.auth_mode.value} mode")
        self._key_for = key_for

    def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in self._algorithms:
                raise TokenError("algorithm not allowed")
            claims = jwt.decode(
                token, key=self._key_for(token), algorithms=self._algorithms,
                audience=self._settings.auth_audience, issuer=self._settings.auth_issuer,
                leeway=self._settings.auth_leeway_seconds, options={"require": _REQUIRED_CLAIMS})
        except TokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise TokenError(type(exc).__name__) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not _USER_ID.match(subject):
            raise TokenError("sub is not a valid user id")
        jti, iat = claims.get("jti"), claims.get("iat")
        return VerifiedToken(user_id=subject, expires_at=int(claims["exp"]),
                             issued_at=int(iat) if isinstance(iat, (int, float)) else None,
                             jti=jti if isinstance(jti, str) and 0 < len(jti) <= 128 else None)


def check_single_use(token: VerifiedToken, max_lifetime_seconds: int, first_use: Callable[[str, int], bool]) -> None:
    """Single-use mode: the token must carry ``jti`` and ``iat``, live at most ``max_lifetime_seconds``,
    and not have been used before (its ``jti`` is remembered until it expires)."""
    if token.jti is None or token.issued_at is None:
        raise TokenError("single-use tokens need jti and iat")
    if token.expires_at - token.issued_at > max_lifetime_seconds:
        raise TokenError("token lives too long for single use")
    if not first_use(token.jti, token.expires_at):
        raise TokenError("token already used")


def build_verifier(settings: Settings, secret_reader: Callable[[str], str]) -> TokenVerifier:
    """A verifier for the configured mode. ``secret_reader`` fetches (and caches) a Secrets Manager value."""
    if settings.auth_mode is AuthMode.HS256:
        secret_id = settings.auth_secret_id
        if not secret_id:
            raise ValueError("PARLEY_AUTH_SECRET_ID is required in hs256 mode")
        return TokenVerifier(settings, lambda _token: secret_reader(secret_id))
    if not settings.auth_jwks_url:
        raise ValueError("PARLEY_AUTH_JWKS_URL is required in jwks mode")
    jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True,
                           lifespan=max(settings.auth_key_cache_seconds, 1), timeout=5)

    def signing_key(token: str) -> Any:
        return jwks.get_signing_key_from_jwt(token).key

    return TokenVerifier(settings, signing_key)
