"""BatchGetItem for the stores: keys asked 100 at a time (DynamoDB's limit per call), and the keys a call
leaves unprocessed asked again until none is left; and a transaction guarded by its first item's condition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from parley.aws import client
from parley.stores.codec import from_item
from parley.stores.errors import cancellation_reasons, condition_failed, translated

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


def transact_unless_first_fails(items: list[dict[str, Any]]) -> bool:
    """TransactWriteItems of ``items``, whose first carries the condition that decides: False (nothing
    written) when that condition failed; any other failure is raised."""
    try:
        with translated():
            client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as exc:
        reasons = cancellation_reasons(exc)
        if reasons and condition_failed(reasons[0]):
            return False
        raise
    return True
