"""Secrets Manager reads: a secret's current and previous values, cached inside a warm Lambda.

Putting a new value into a secret labels it ``AWSCURRENT`` and moves ``AWSPREVIOUS`` to the value it
replaces. Reading both lets tokens signed with either verify while the host app's backend switches to the
new value (docs/deploying.md, "Rotating the token secret"). Values are never logged. (Powertools' parameter
cache keys a secret by its name alone, so it cannot hold two versions of one secret: hence this small cache.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from parley.aws import client
from parley.stores.errors import error_code

CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"

# secret id -> (when fetched, its values): one entry per secret, both versions fetched together.
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


def _value(secret_id: str, stage: str) -> str | None:
    """The string value labelled ``stage`` (None when it is empty or binary)."""
    value = client("secretsmanager").get_secret_value(SecretId=secret_id, VersionStage=stage).get("SecretString")
    return value if isinstance(value, str) and value else None


def _previous_value(secret_id: str) -> str | None:
    """None when no version is labelled previous: the secret was never rotated."""
    try:
        return _value(secret_id, PREVIOUS)
    except ClientError as exc:  # by code: a client made since (another session) has other exception classes
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def secret_reader(max_age_seconds: int, clock: Callable[[], float] = time.monotonic
                  ) -> Callable[[str], tuple[str, ...]]:
    """Reads a secret's values, the current one first, then the previous one when there is one; both are
    fetched together and kept ``max_age_seconds``."""

    def read(secret_id: str) -> tuple[str, ...]:
        cached = _cache.get(secret_id)
        if cached is not None and clock() - cached[0] < max_age_seconds:
            return cached[1]
        current = _value(secret_id, CURRENT)
        if current is None:
            raise ValueError("the token secret is empty")
        previous = _previous_value(secret_id)
        values = (current,) if previous is None or previous == current else (current, previous)
        _cache[secret_id] = (clock(), values)
        return values

    return read


def reset() -> None:
    _cache.clear()
