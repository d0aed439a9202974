"""BatchGetItem for the stores: keys asked 100 at a time (DynamoDB's limit per call), and the keys a call
leaves unprocessed asked again until none is left."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parley.aws import client
from parley.stores.codec import from_item
from parley.stores.errors import translated

BATCH_GET_MAX = 100


def batch_get(table_name: str, keys: list[dict[str, Any]], **options: Any) -> Iterator[dict[str, Any]]:
    """Every stored item of ``keys``, deserialised, in no particular order (a key with no item yields
    nothing). ``options``: the rest of the table's request (``ConsistentRead``, ``ProjectionExpression``...)."""
    for start in range(0, len(keys), BATCH_GET_MAX):
        pending: dict[str, Any] = {table_name: {"Keys": keys[start:start + BATCH_GET_MAX], **options}}
        while pending:
            with translated():
                resp = client("dynamodb").batch_get_item(RequestItems=pending)
            for raw in resp["Responses"].get(table_name, []):
                yield from_item(raw)
            pending = resp.get("UnprocessedKeys") or {}
