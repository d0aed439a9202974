"""Maps DynamoDB's error codes to domain errors, so no service ever sees a botocore exception, and the
conditional put that several stores use to record something exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from parley.aws import client
from parley.errors import ThrottledError

_THROTTLING = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]] | None:
    """What a cancelled TransactWriteItems says of each of its items, in order (None: ``exc`` is not a
    cancellation)."""
    if error_code(exc) != "TransactionCanceledException":
        return None
    return [dict(r) for r in exc.response.get("CancellationReasons") or []]


def condition_failed(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in _THROTTLING:
            raise ThrottledError() from exc
        raise


def put_if_absent(table_name: str, item: dict[str, Any]) -> bool:
    """Put ``item`` unless an item with its key exists: True if stored, False if it was already there."""
    return put_unless_there(table_name, item) is None


def put_unless_there(table_name: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """Put ``item`` unless an item with its key exists: None if stored, else the item that was there, in
    attribute-value form (DynamoDB returns it with the failed condition, at no extra cost; empty if an
    endpoint did not)."""
    try:
        with translated():
            client("dynamodb").put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)",
                                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            there = exc.response.get("Item")
            return dict(there) if isinstance(there, dict) else {}
        raise
    return None
