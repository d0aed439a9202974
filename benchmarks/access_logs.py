"""The bytes of one API Gateway access-log entry, in the format the stack declares.

``infra/constructs/websocket_api.py`` declares the stage's access-log format as ``_ACCESS_LOG_FIELDS``, a JSON
object of ``$context`` variables, written for every connect, disconnect and frame (route invocation). The
fields are read from that file's syntax tree (importing it would start the CDK), each one rendered with a
realistic value for a successful request: a UUID user id, 16-character request and connection ids as API
Gateway makes them, an IPv4 address, ``-`` for an empty variable (API Gateway's placeholder). A field this
module does not know fails the benchmark rather than being left out.

CloudWatch Logs bills the entry's UTF-8 bytes ($0.50 per GB ingested, ``benchmarks.prices``).
"""

from __future__ import annotations

import ast
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.paths import REPO_ROOT

WEBSOCKET_API = REPO_ROOT / "infra" / "constructs" / "websocket_api.py"
FIELDS_NAME = "_ACCESS_LOG_FIELDS"


@dataclass(frozen=True)
class Event:
    """What one access-log entry is about."""

    event_type: str  # CONNECT, MESSAGE or DISCONNECT
    route_key: str
    user_id: str


def _api_id(seed: str) -> str:
    """A 16-character id like API Gateway's request and connection ids (e.g. ``Kx3aBHXYoAMFr9Q=``)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, seed).hex[:15] + "="


# AccessLogField method (as infra calls it) -> its $context variable and a realistic value for an event.
VALUES: dict[str, tuple[str, Callable[[Event], str]]] = {
    "context_request_id": ("$context.requestId", lambda e: _api_id("request" + e.route_key)),
    "context_extended_request_id": ("$context.extendedRequestId", lambda e: _api_id("extended" + e.route_key)),
    "context_request_time": ("$context.requestTime",
                             lambda _e: time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(1_796_000_000))),
    "context_event_type": ("$context.eventType", lambda e: e.event_type),
    "context_route_key": ("$context.routeKey", lambda e: e.route_key),
    "context_connection_id": ("$context.connectionId", lambda e: _api_id("connection" + e.user_id)),
    "context_status": ("$context.status", lambda _e: "200"),
    "context_identity_source_ip": ("$context.identity.sourceIp", lambda _e: "203.0.113.195"),
    "context_error_message": ("$context.error.message", lambda _e: "-"),
    "context_authorizer_error": ("$context.authorizer.error", lambda _e: "-"),
    "context_authorizer_principal_id": ("$context.authorizer.principalId", lambda e: e.user_id),
}


def declared_fields(source: str | None = None) -> dict[str, str]:
    """``_ACCESS_LOG_FIELDS`` of the WebSocket API construct: JSON key -> ``AccessLogField`` method."""
    tree = ast.parse(source if source is not None else WEBSOCKET_API.read_text())
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
            else []
        if isinstance(value, ast.Dict) and any(isinstance(t, ast.Name) and t.id == FIELDS_NAME for t in targets):
            fields = {}
            for key, call in zip(value.keys, value.values, strict=True):
                if not (isinstance(key, ast.Constant) and isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)):
                    raise ValueError(f"{FIELDS_NAME}: expected \"key\": AccessLogField.<method>() entries")
                fields[str(key.value)] = call.func.attr
            return fields
    raise LookupError(f"{FIELDS_NAME} not found in {WEBSOCKET_API}")


def entry(event: Event, fields: dict[str, str] | None = None) -> str:
    """The access-log line API Gateway writes for ``event``, with the declared format's JSON layout."""
    fields = fields if fields is not None else declared_fields()
    unknown = sorted(set(fields.values()) - set(VALUES))
    if unknown:
        raise LookupError(f"access-log fields without an example value in benchmarks/access_logs.py: {unknown}")
    # The format is json.dumps of the {key: "$context.x"} mapping; API Gateway substitutes each variable.
    return json.dumps({key: VALUES[method][1](event) for key, method in fields.items()})


def entry_bytes(event: Event, fields: dict[str, str] | None = None) -> int:
    return len(entry(event, fields).encode())
