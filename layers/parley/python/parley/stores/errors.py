"""Maps DynamoDB's error codes to domain errors, so no service ever sees a botocore exception."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from parley.errors import ThrottledError

_THROTTLING = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in _THROTTLING:
            raise ThrottledError() from exc
        raise
