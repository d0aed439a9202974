"""The admin console's sign-in on this machine: what Cognito and API Gateway's JWT authorizer do in AWS.

``issue_console_token(username, groups)`` signs an RS256 token shaped like a Cognito ID token (``iss``, ``aud``,
``cognito:username``, ``cognito:groups``, ``token_use``, one hour) with a key generated in memory for this
process (a new one each time the stack starts: tokens never outlive it). ``verify_console_token`` checks a
token as the JWT authorizer does (signature, issuer, audience, expiry) and returns the claims in the shape API
Gateway puts them in ``requestContext.authorizer.jwt.claims``: every value a string, a list as ``[a b]``. The
server API's code then runs exactly as in AWS (``parley.server_api.callers``). Local only: docs/admin.md,
"Signing in".
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "parley-local-console"
AUDIENCE = "parley-console-local"
TTL_SECONDS = 3600  # Cognito's default ID token lifetime
LEEWAY_SECONDS = 30

class _SigningKey:
    """The process's signing key, made on first use and replaced by ``new_signing_key``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None

    def renew(self) -> None:
        with self._lock:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def get(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key


_signing = _SigningKey()


class ConsoleTokenRefused(Exception):
    pass


def new_signing_key() -> None:
    """Forget the key and every token signed with it (the local stack calls it when it starts)."""
    _signing.renew()


def issue_console_token(username: str, groups: list[str], *, ttl_seconds: int = TTL_SECONDS,
                        now: int | None = None) -> str:
    """A development sign-in: a token the local server API accepts on ``/console/...`` for ``username``, member
    of ``groups`` (``["admins"]`` for an operator)."""
    issued = int(time.time()) if now is None else now
    claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley-console:{username}")), "iss": ISSUER,
              "aud": AUDIENCE, "token_use": "id", "cognito:username": username, "cognito:groups": list(groups),
              "iat": issued, "auth_time": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, _signing.get(), algorithm="RS256")


def _as_api_gateway(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def verify_console_token(token: str) -> dict[str, str]:
    """The claims, as API Gateway's JWT authorizer passes them; ``ConsoleTokenRefused`` for a token it would
    refuse (bad signature, another issuer or audience, expired, not a JWT)."""
    try:
        claims = jwt.decode(token, _signing.get().public_key(), algorithms=["RS256"], audience=AUDIENCE,
                            issuer=ISSUER, leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise ConsoleTokenRefused(type(exc).__name__) from None
    return {name: _as_api_gateway(value) for name, value in claims.items()}
