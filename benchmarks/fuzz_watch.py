"""What the fuzz benchmark (``benchmarks.fuzz``) watches of the local stack besides the answers: what it
logged, its table, and its Lambda runtime's invocations."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import time
import traceback
from typing import Any

import boto3

from local.backend import FAKE_ACCESS_KEY
from local.stack import Stack
from parley import table

SETTLE_SECONDS = 40.0  # longer than the local stack's 29 s integration timeout
# Left out of every scan: rate-limit buckets (charged for refused frames on purpose) and typing markers.
THROTTLE_PREFIX = table.throttle_pk("", "", "").split("#", 1)[0] + "#"


# -- what the stack logged ------------------------------------------------------------------------------


class _Tee(io.TextIOBase):
    """stderr as it was, remembering what was written (the local Lambda runtime prints tracebacks there)."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self.chunks: list[str] = []

    def write(self, text: str) -> int:
        self.chunks.append(text)
        return int(self._target.write(text))

    def flush(self) -> None:
        self._target.flush()


class StackLog(logging.Handler):
    """Every WARNING and ERROR record of the handlers (Powertools' ``parley`` logger), the local stack and its
    libraries, and stderr, while the fuzz runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._last: logging.LogRecord | None = None
        self._stderr = _Tee(sys.stderr)
        self._redirect = contextlib.redirect_stderr(self._stderr)

    def emit(self, record: logging.LogRecord) -> None:
        if record is self._last:  # handled on "parley" and again on the root logger
            return
        self._last = record
        try:
            text = f"{record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        except Exception as exc:  # a record that cannot be formatted is still one
            text = f"{record.levelname} {record.name}: (unformattable: {exc!r})"
        (self.errors if record.levelno >= logging.ERROR or record.exc_info else self.warnings).append(text)

    def __enter__(self) -> StackLog:
        for name in ("", "parley"):
            logging.getLogger(name).addHandler(self)
        # The stacks log at WARNING. The core's logger takes its level once, when first imported: in
        # ``python -m benchmarks`` that is before any stack configures it (INFO would log every refused frame).
        core = logging.getLogger("parley")
        self._core_level = core.level
        core.setLevel(logging.WARNING)
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._redirect.__exit__(None, None, None)
        logging.getLogger("parley").setLevel(self._core_level)
        for name in ("", "parley"):
            logging.getLogger(name).removeHandler(self)

    def mark(self) -> tuple[int, int]:
        return len(self.errors), len(self._stderr.chunks)

    def since(self, mark: tuple[int, int]) -> list[str]:
        """The ERROR records and the stderr tracebacks since ``mark``."""
        found = self.errors[mark[0]:]
        written = "".join(self._stderr.chunks[mark[1]:])
        if "Traceback (most recent call last)" in written:
            found = [*found, written]
        return found


# -- the table ------------------------------------------------------------------------------------------


Snapshot = dict[tuple[str, str], dict[str, Any]]


class TableScans:
    """The benchmark's own view of moto's table: a consistent Scan without the ``THROTTLE#`` items."""

    def __init__(self, stack: Stack) -> None:
        self._client = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name=stack.settings.region,
                                    aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_ACCESS_KEY)
        self._table = stack.settings.table_name
        self.seconds = 0.0
        self.most = 0

    def scan(self) -> Snapshot:
        started = time.perf_counter()
        items: Snapshot = {}
        for page in self._client.get_paginator("scan").paginate(
                TableName=self._table, ConsistentRead=True, FilterExpression="NOT begins_with(#pk, :throttle)",
                ExpressionAttributeNames={"#pk": table.PK},
                ExpressionAttributeValues={":throttle": {"S": THROTTLE_PREFIX}}):
            for item in page["Items"]:
                items[(item[table.PK]["S"], item[table.SK]["S"])] = item
        self.seconds += time.perf_counter() - started
        self.most = max(self.most, len(items))
        return items

    def close(self) -> None:
        self._client.close()


def differences(before: Snapshot, after: Snapshot) -> str:
    """Which items a frame added, removed or changed, and which attributes (never their values)."""
    parts = [f"added {pk} / {sk}" for pk, sk in sorted(after.keys() - before.keys())]
    parts += [f"removed {pk} / {sk}" for pk, sk in sorted(before.keys() - after.keys())]
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if old != new:
            names = sorted(a for a in old.keys() | new.keys() if old.get(a) != new.get(a))
            parts.append(f"changed {key[0]} / {key[1]}: {', '.join(names)}")
    return "; ".join(parts)


# -- sockets and invocations ----------------------------------------------------------------------------


class Invocations:
    """Counts the message and disconnect events the stack's Lambda runtime is given, to know when a frame's
    invocation has run and finished (``in_flight``: none running)."""

    def __init__(self, stack: Stack) -> None:
        self._runtime = stack.runtime
        self.messages = 0
        self.disconnects = 0
        self._runtime.observers.append(self._observe)

    def _observe(self, _function: str, event: dict[str, Any]) -> None:
        kind = (event.get("requestContext") or {}).get("eventType")
        if kind == "MESSAGE":
            self.messages += 1
        elif kind == "DISCONNECT":
            self.disconnects += 1

    async def settled(self, *, messages: int = 0, disconnects: int = 0, timeout: float = SETTLE_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        while not (self.messages >= messages and self.disconnects >= disconnects and self._runtime.in_flight == 0):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.001)
        return True
