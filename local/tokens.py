"""Dev chat tokens: what a host app's backend mints for its users, signed with the local HS256 secret."""

from __future__ import annotations

import secrets
import time

import jwt

from local.settings import LocalSettings

DEFAULT_TTL_SECONDS = 12 * 60 * 60


def mint_token(user_id: str, *, secret: str, issuer: str, audience: str, ttl_seconds: int = DEFAULT_TTL_SECONDS,
               now: int | None = None) -> str:
    """An HS256 token with the claims the authorizer requires (``sub``, ``iss``, ``aud``, ``exp``) plus ``iat``
    and a ``jti``, which single-use mode needs."""
    issued = int(time.time()) if now is None else now
    claims = {"sub": user_id, "iss": issuer, "aud": audience, "iat": issued, "exp": issued + ttl_seconds,
              "jti": secrets.token_urlsafe(16)}
    return jwt.encode(claims, secret, algorithm="HS256")


def dev_token(user_id: str, settings: LocalSettings | None = None, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
    """A token the local stack configured by ``settings`` (by default: the environment) accepts."""
    s = settings or LocalSettings.from_env()
    return mint_token(user_id, secret=s.token_secret, issuer=s.issuer, audience=s.audience,
                      ttl_seconds=ttl_seconds)
