"""Chat-token verification for the ``$connect`` authorizer.

Two modes, chosen at deploy time: HS256 with a shared secret kept in Secrets Manager (its current and
previous versions, so that the secret can be rotated without refusing live tokens), or RS256/ES256 against
a JWKS URL (for example a Cognito user pool), with the keys cached. Algorithms come from configuration,
never from the token; ``exp``, ``iss``, ``sub`` and the audience claim (``aud``, or ``client_id`` for Cognito
access tokens) are required, and ``iat`` too when a token lifetime cap is configured. ``iss`` must be one of
the configured issuers and the audience one of the configured audiences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from parley.config import AuthMode, Settings
from parley.errors import TokenError
from parley.models import FrameFormat
from parley.user_ids import is_user_id

_SYMMETRIC = {"HS256", "HS384", "HS512"}
_ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
_REQUIRED_CLAIMS = ["exp", "iss", "sub"]


def token_from_request(query: Mapping[str, str] | None, headers: Mapping[str, str] | None) -> str | None:
    """The token from ``?token=`` (browsers cannot set handshake headers) or ``Authorization: Bearer``."""
    token = (query or {}).get("token")
    if token:
        return token
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value[:7].lower() == "bearer ":
            return value[7:].strip() or None
    return None


def frame_format_from_request(query: Mapping[str, str] | None) -> FrameFormat | None:
    """The frame format asked for with ``?format=`` (``compact`` when absent); None for any other value."""
    asked = (query or {}).get("format")
    if asked is None:
        return FrameFormat.COMPACT
    return FrameFormat(asked) if asked in tuple(FrameFormat) else None


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
    """Verifies a chat token: signature with a pinned algorithm, ``exp``, ``iss``, ``aud`` and ``sub``, and
    with a lifetime cap configured, ``iat`` and ``exp - iat``.

    ``keys_for`` gives the keys a token may be signed with, tried in order: one from a JWKS, or the current
    and the previous version of the HS256 secret."""

    def __init__(self, settings: Settings, keys_for: Callable[[str], Sequence[Any]]) -> None:
        self._settings = settings
        self._algorithms = settings.algorithms
        allowed = _SYMMETRIC if settings.auth_mode is AuthMode.HS256 else _ASYMMETRIC
        if not self._algorithms or not set(self._algorithms) <= allowed:
            raise ValueError(f"PARLEY_AUTH_ALGORITHMS must be a subset of {sorted(allowed)} "
                             f"in {settings.auth_mode.value} mode")
        self._keys_for = keys_for
        self._issuers = settings.issuers
        self._audiences = settings.audiences
        if not self._issuers or not self._audiences:
            raise ValueError("PARLEY_AUTH_ISSUER and PARLEY_AUTH_AUDIENCE must each name at least one value")
        self._audience_claim = settings.auth_audience_claim
        self._max_lifetime = settings.auth_max_token_lifetime_seconds
        self._required = [*_REQUIRED_CLAIMS, self._audience_claim, *(["iat"] if self._max_lifetime is not None else [])]

    def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in self._algorithms:
                raise TokenError("algorithm not allowed")
            claims = self._decode(token)
        except TokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise TokenError(type(exc).__name__) from None
        subject = claims.get("sub")
        if not is_user_id(subject):
            raise TokenError("sub is not a valid user id")
        jti, iat = claims.get("jti"), claims.get("iat")
        verified = VerifiedToken(user_id=subject, expires_at=int(claims["exp"]),
                                 issued_at=int(iat) if isinstance(iat, (int, float)) else None,
                                 jti=jti if isinstance(jti, str) and 0 < len(jti) <= 128 else None)
        if self._max_lifetime is not None and (
                verified.issued_at is None or verified.expires_at - verified.issued_at > self._max_lifetime):
            raise TokenError("token lives longer than PARLEY_AUTH_MAX_TOKEN_LIFETIME_SECONDS")
        return verified

    def _decode(self, token: str) -> dict[str, Any]:
        """The claims, checked against the first key whose signature matches (the signature is checked
        before any claim, so only a wrong key moves on to the next)."""
        keys = self._keys_for(token)
        by_aud = self._audience_claim == "aud"
        for index, key in enumerate(keys):
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, key=key, algorithms=self._algorithms,
                    audience=self._audiences if by_aud else None, issuer=self._issuers,
                    leeway=self._settings.auth_leeway_seconds,
                    options={"require": self._required, "verify_aud": by_aud})
                if not by_aud and claims.get("client_id") not in self._audiences:
                    raise TokenError("client_id is not an allowed audience")
                return claims
            except jwt.InvalidSignatureError:
                if index == len(keys) - 1:
                    raise
        raise TokenError("no key to verify with")


def check_single_use(token: VerifiedToken, max_lifetime_seconds: int, first_use: Callable[[str, int], bool]) -> None:
    """Single-use mode: the token must carry ``jti`` and ``iat``, live at most ``max_lifetime_seconds``,
    and not have been used before (its ``jti`` is remembered until it expires)."""
    if token.jti is None or token.issued_at is None:
        raise TokenError("single-use tokens need jti and iat")
    if token.expires_at - token.issued_at > max_lifetime_seconds:
        raise TokenError("token lives too long for single use")
    if not first_use(token.jti, token.expires_at):
        raise TokenError("token already used")


def build_verifier(settings: Settings, secret_reader: Callable[[str], Sequence[str]]) -> TokenVerifier:
    """A verifier for the configured mode. ``secret_reader`` fetches (and caches) a Secrets Manager secret's
    values: the current version first, then the previous one when there is one."""
    if settings.auth_mode is AuthMode.HS256:
        secret_id = settings.auth_secret_id
        if not secret_id:
            raise ValueError("PARLEY_AUTH_SECRET_ID is required in hs256 mode")
        return TokenVerifier(settings, lambda _token: secret_reader(secret_id))
    if not settings.auth_jwks_url:
        raise ValueError("PARLEY_AUTH_JWKS_URL is required in jwks mode")
    jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True,
                           lifespan=max(settings.auth_key_cache_seconds, 1), timeout=5)

    def signing_key(token: str) -> list[Any]:
        return [jwks.get_signing_key_from_jwt(token).key]

    return TokenVerifier(settings, signing_key)
