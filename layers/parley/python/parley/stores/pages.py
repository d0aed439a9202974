"""Paging through a Query: DynamoDB's ``LastEvaluatedKey`` handed to the caller as an opaque cursor."""

from __future__ import annotations

import base64
import json
from typing import Any

from parley.errors import InvalidCursorError

_MAX_CURSOR_CHARS = 2048


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """The cursor of the next page (None: this was the last one)."""
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, key_names: tuple[str, ...]) -> dict[str, Any] | None:
    """The ``ExclusiveStartKey`` a cursor stands for; ``InvalidCursorError`` for anything else."""
    if cursor is None:
        return None
    try:
        if len(cursor) > _MAX_CURSOR_CHARS:
            raise ValueError("too long")
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict) or set(raw) != set(key_names) or \
                not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in raw.values()):
            raise ValueError("not a key")
    except ValueError:
        raise InvalidCursorError() from None
    return raw
