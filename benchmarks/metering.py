"""Every AWS call the handlers make, seen through botocore's event hooks, with what it would bill.

``Meter`` adds its handlers to botocore's built-in handler list, which every botocore session (so every
``boto3.session.Session()`` that ``parley.aws.client`` makes) copies when it is created: clients made after
``install()`` report every call (``provide-client-params`` -> ``before-call`` -> ``after-call`` or
``after-call-error``). Forget clients made before (``parley.aws.reset_clients()``).

For each call it records the operation, the thread CPU and wall time spent inside it (with in-process
moto this includes moto's own work), notes it in the current invocation's lane (``benchmarks.lanes``: which
calls ran in turn, which side by side), and, when it is given an ``ItemLookup``, the billing units: DynamoDB
read and write units from item sizes (``benchmarks.capacity``; a write's item as it was before is read
from the lookup before the call goes out), API Gateway messages per ``PostToConnection`` (32 KB steps),
SNS requests and mobile push deliveries, SQS requests.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore import handlers as botocore_handlers

from benchmarks import capacity, lanes
from parley.table import TABLE

ItemLookup = Callable[[str, dict[str, Any]], dict[str, Any] | None]  # (table, key) -> item or None

APIGW_FRAME_BYTES = 32 * 1024
SNS_CHUNK_BYTES = 64 * 1024
SQS_CHUNK_BYTES = 64 * 1024
_STATE = "parley_bench"

READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class AwsCall:
    service: str
    operation: str
    params: dict[str, Any]
    thread_cpu_s: float = 0.0
    wall_s: float = 0.0
    started: float = 0.0  # time.perf_counter() when the call began
    error: str | None = None
    wru: float = 0.0
    rru: float = 0.0
    apigw_messages: int = 0
    sns_requests: int = 0
    mobile_pushes: int = 0
    sqs_requests: int = 0
    post_bytes: int = 0  # the payload of a @connections post (data transferred out to the client)
    detail: str = ""  # how the units were reached, for the report's item-level table

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


def apigw_messages(payload_bytes: int) -> int:
    """API Gateway meters WebSocket messages in 32 KB increments."""
    return max(1, math.ceil(payload_bytes / APIGW_FRAME_BYTES))


def sns_requests(payload_bytes: int) -> int:
    """SNS bills each started 64 KB of a publish as one request."""
    return max(1, math.ceil(payload_bytes / SNS_CHUNK_BYTES))


def sqs_requests(payload_bytes: int) -> int:
    """SQS bills each started 64 KB of a request's payload as one request."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {TABLE.partition_key: item[TABLE.partition_key], TABLE.sort_key: item[TABLE.sort_key]}


class Meter:
    """Records AWS calls while installed. ``items`` (optional) turns on unit accounting."""

    def __init__(self, items: ItemLookup | None = None) -> None:
        self._items = items
        self.accounting = True  # False: count calls and time them, but compute no units (timing runs)
        self._lock = threading.Lock()
        self.calls: list[AwsCall] = []
        self._handlers: list[tuple[str, Callable[..., Any]]] = [
            ("provide-client-params", self._on_params),
            ("before-call", self._on_before_call),
            ("after-call", self._on_after_call),
            ("after-call-error", self._on_after_call_error),
        ]

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        botocore_handlers.BUILTIN_HANDLERS.extend(self._handlers)
        try:
            yield self
        finally:
            for handler in self._handlers:
                botocore_handlers.BUILTIN_HANDLERS.remove(handler)

    def mark(self) -> int:
        """A position in ``calls``: ``since(mark)`` returns what was recorded after it."""
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[AwsCall]:
        with self._lock:
            return self.calls[mark:]

    # -- botocore hooks --------------------------------------------------------------------------

    def _on_params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = AwsCall(service=model.service_model.service_name, operation=model.name, params=params)
        call.started = time.perf_counter()
        lanes.record(call)  # in the lane of the invocation (or pool task) making it, for the duration model
        context[_STATE] = (call, time.thread_time(), call.started, {})

    def _on_before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        state = context.get(_STATE)
        if state is None or self._items is None or not self.accounting or model.name not in WRITES:
            return
        call, _cpu, _wall, before = state
        for table, key in _written_keys(call.operation, call.params):
            before[(table, json.dumps(key, sort_keys=True, default=str))] = capacity.item_size(self._items(table, key))

    def _on_after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
                       **_: Any) -> None:
        state = context.get(_STATE)
        if state is None:
            return
        call, cpu0, wall0, before = state
        if getattr(http_response, "status_code", 200) >= 300:
            call.error = str(parsed.get("Error", {}).get("Code", "error"))
        if self._items is not None and self.accounting:
            self._account(call, parsed, before)
        self._finish(call, cpu0, wall0)

    def _on_after_call_error(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        state = context.get(_STATE)
        if state is None:
            return
        call, cpu0, wall0, _before = state
        call.error = type(exception).__name__
        self._finish(call, cpu0, wall0)

    def _finish(self, call: AwsCall, cpu0: float, wall0: float) -> None:
        call.thread_cpu_s = time.thread_time() - cpu0
        call.wall_s = time.perf_counter() - wall0
        with self._lock:
            self.calls.append(call)

    # -- what a call bills -----------------------------------------------------------------------

    def _account(self, call: AwsCall, parsed: dict[str, Any], before: dict[tuple[str, str], int]) -> None:
        if call.service == "dynamodb":
            if call.operation in READS:
                self._account_read(call, parsed)
            elif call.operation in WRITES:
                self._account_write(call, before)
        elif call.service == "apigatewaymanagementapi" and call.operation == "PostToConnection":
            data = call.params.get("Data", b"")
            call.post_bytes = len(data if isinstance(data, bytes) else str(data).encode())
            call.apigw_messages = apigw_messages(call.post_bytes)
        elif call.service == "sns" and call.operation == "Publish":
            size = len(str(call.params.get("Message", "")).encode()) + len(
                json.dumps(call.params.get("MessageAttributes", {})).encode())
            call.sns_requests = sns_requests(size)
            if "TargetArn" in call.params and call.error is None:
                call.mobile_pushes = 1  # a direct publish to a platform endpoint: one push delivery
        elif call.service == "sqs" and call.operation in ("SendMessage", "SendMessageBatch"):
            bodies = [call.params.get("MessageBody", "")] if call.operation == "SendMessage" else [
                entry.get("MessageBody", "") for entry in call.params.get("Entries", [])]
            call.sqs_requests = sqs_requests(sum(len(str(b).encode()) for b in bodies))

    def _full(self, table: str, item: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        """The whole stored item behind a (possibly projected) returned item: projections cost the same."""
        if "ProjectionExpression" not in params or self._items is None:
            return item
        pk = item.get(TABLE.partition_key) or params.get("ExpressionAttributeValues", {}).get(":pk")
        if pk is None or TABLE.sort_key not in item:
            return item
        return self._items(table, {TABLE.partition_key: pk, TABLE.sort_key: item[TABLE.sort_key]}) or item

    def _account_read(self, call: AwsCall, parsed: dict[str, Any]) -> None:
        p = call.params
        if call.operation == "GetItem":
            item = parsed.get("Item")
            size = capacity.item_size(self._full(p["TableName"], item, p) if item else None)
            call.rru = capacity.read_units(size, consistent=bool(p.get("ConsistentRead")))
            call.detail = f"{size} B"
        elif call.operation in ("Query", "Scan"):
            sizes = [capacity.item_size(self._full(p["TableName"], i, p)) for i in parsed.get("Items", [])]
            call.rru = capacity.query_units(sizes, consistent=bool(p.get("ConsistentRead")))
            call.detail = f"{len(sizes)} items, {sum(sizes)} B"
        elif call.operation == "BatchGetItem":
            total = 0.0
            details = []
            for table, request in p["RequestItems"].items():
                found = [capacity.item_size(i) for i in parsed.get("Responses", {}).get(table, [])]
                unprocessed = len(parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                missing = len(request["Keys"]) - len(found) - unprocessed
                consistent = bool(request.get("ConsistentRead"))
                total += capacity.batch_get_units(found + [0] * missing, consistent=consistent)
                details.append(f"{len(found)} found, {missing} missing")
            call.rru = total
            call.detail = "; ".join(details)
        elif call.operation == "TransactGetItems":
            sizes = [capacity.item_size(r.get("Item")) for r in parsed.get("Responses", [])]
            call.rru = 2 * capacity.batch_get_units(sizes, consistent=True)

    def _account_write(self, call: AwsCall, before: dict[tuple[str, str], int]) -> None:
        failed_condition = call.error in ("ConditionalCheckFailedException", "TransactionCanceledException")
        sizes: list[int] = []
        for table, key, new_item in _writes_with_new_items(call.operation, call.params):
            old = before.get((table, json.dumps(key, sort_keys=True, default=str)), 0)
            if failed_condition or new_item is _DELETED:
                sizes.append(old)  # 0 (no item) still costs one unit
            elif new_item is _READ_BACK and self._items is not None:
                sizes.append(max(old, capacity.item_size(self._items(table, key))))
            elif isinstance(new_item, dict):
                sizes.append(max(old, capacity.item_size(new_item)))
        if call.operation == "TransactWriteItems":
            call.wru = capacity.transact_write_units(sizes)
        else:
            call.wru = sum(capacity.write_units(s) for s in sizes)
        call.detail = ", ".join(f"{s} B" for s in sizes)


_DELETED = object()
_READ_BACK = object()


def _writes_with_new_items(  # noqa: PLR0912 (one branch per write operation and action)
        operation: str, params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(table, key, new item | _DELETED | _READ_BACK) for every item a write touches."""
    if operation == "PutItem":
        yield params["TableName"], _key_of(params["Item"]), params["Item"]
    elif operation == "UpdateItem":
        yield params["TableName"], params["Key"], _READ_BACK
    elif operation == "DeleteItem":
        yield params["TableName"], params["Key"], _DELETED
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    yield table, _key_of(item), item
                else:
                    yield table, request["DeleteRequest"]["Key"], _DELETED
    elif operation == "TransactWriteItems":
        for action in params["TransactItems"]:
            (kind, spec), = action.items()
            if kind == "Put":
                yield spec["TableName"], _key_of(spec["Item"]), spec["Item"]
            elif kind == "Update":
                yield spec["TableName"], spec["Key"], _READ_BACK
            elif kind == "Delete":
                yield spec["TableName"], spec["Key"], _DELETED
            else:  # ConditionCheck: charged like a write of the checked item
                yield spec["TableName"], spec["Key"], _DELETED


def _written_keys(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for table, key, _new in _writes_with_new_items(operation, params):
        yield table, key


def moto_items(account_id: str = "123456789012", region: str = "us-east-1") -> ItemLookup:
    """An ``ItemLookup`` that reads in-process moto's DynamoDB directly (no AWS call, nothing metered)."""
    from moto.dynamodb.models import dynamodb_backends

    def lookup(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        backend = dynamodb_backends[account_id][region]
        try:
            item = backend.get_item(table, key)
        except Exception:  # no such table (yet): nothing stored
            return None
        if item is None:
            return None
        return {name: value.to_regular_json() for name, value in item.attrs.items()}

    return lookup


@dataclass
class Totals:
    """What a set of calls bills, by kind."""

    calls: dict[str, int] = field(default_factory=dict)
    wru: float = 0.0
    rru: float = 0.0
    apigw_posts: int = 0
    sns_requests: int = 0
    mobile_pushes: int = 0
    sqs_requests: int = 0
    post_bytes: int = 0
    aws_cpu_s: float = 0.0

    @classmethod
    def of(cls, calls: list[AwsCall]) -> Totals:
        totals = cls()
        for call in calls:
            totals.calls[call.name] = totals.calls.get(call.name, 0) + 1
            totals.wru += call.wru
            totals.rru += call.rru
            totals.apigw_posts += call.apigw_messages
            totals.sns_requests += call.sns_requests
            totals.mobile_pushes += call.mobile_pushes
            totals.sqs_requests += call.sqs_requests
            totals.post_bytes += call.post_bytes
            totals.aws_cpu_s += call.thread_cpu_s
        return totals
