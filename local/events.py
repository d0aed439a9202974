"""API Gateway WebSocket events, shaped as API Gateway sends them to Lambda.

They pass Powertools' strict parser models (``APIGatewayWebSocketConnectEventModel``,
``...MessageEventModel``, ``...DisconnectEventModel``); the e2e tests check that on live traffic.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from parley import routes

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_id() -> str:
    """An id in API Gateway's style for connections and requests (16 characters, e.g. ``JC1dgf9yoAMCK-g=``)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


def request_time(epoch_ms: int) -> str:
    """``09/Feb/2019:22:13:41 +0000``, API Gateway's CLF timestamp (locale independent)."""
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


@dataclass(frozen=True)
class Api:
    """The identity of the emulated WebSocket API."""

    api_id: str
    stage: str
    region: str
    account_id: str
    domain_name: str

    def route_arn(self, route_key: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{route_key}"


@dataclass
class ConnectionInfo:
    """What API Gateway knows about a connection and repeats in each of its events."""

    connection_id: str
    connected_at: int  # epoch ms
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Handshake:
    """The parts of the opening HTTP request that reach the authorizer and ``$connect``."""

    headers: dict[str, str]
    multi_value_headers: dict[str, list[str]]
    query: dict[str, str] | None
    multi_value_query: dict[str, list[str]] | None


def handshake_of(raw_headers: Iterable[tuple[str, str]], query_string: str, *, source_ip: str,
                 port: int) -> Handshake:
    """Headers as the client sent them plus the ones API Gateway adds; the last value of a repeated
    header or query parameter wins in the single-value maps, as in API Gateway."""
    multi: dict[str, list[str]] = {}
    for name, value in raw_headers:
        multi.setdefault(name, []).append(value)
    multi.setdefault("X-Forwarded-For", []).append(source_ip)
    multi["X-Forwarded-Port"] = [str(port)]
    multi["X-Forwarded-Proto"] = ["http"]
    headers = {name: values[-1] for name, values in multi.items()}
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if not pairs:
        return Handshake(headers, multi, None, None)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    return Handshake(headers, multi, {k: v[-1] for k, v in multi_query.items()}, multi_query)


def _request_context(api: Api, conn: ConnectionInfo, route_key: str, event_type: str, at_ms: int,
                     request_id: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(at_ms),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": conn.connected_at,
        "requestTimeEpoch": at_ms,
        "identity": {"sourceIp": conn.source_ip, **({"userAgent": conn.user_agent} if conn.user_agent else {})},
        "requestId": request_id,
        "domainName": api.domain_name,
        "connectionId": conn.connection_id,
        "apiId": api.api_id,
    }
    if conn.authorizer is not None:
        context["authorizer"] = dict(conn.authorizer)
    return context


def authorizer_event(api: Api, conn: ConnectionInfo, handshake: Handshake, request_id: str) -> dict[str, Any]:
    """The REQUEST authorizer's event for ``$connect``."""
    event: dict[str, Any] = {
        "type": "REQUEST",
        "methodArn": api.route_arn(routes.CONNECT),
        "headers": dict(handshake.headers),
        "multiValueHeaders": {k: list(v) for k, v in handshake.multi_value_headers.items()},
        # Unlike the $connect integration's event, the authorizer's always carries the query maps (empty
        # without a query string), as captured from API Gateway.
        "queryStringParameters": dict(handshake.query or {}),
        "multiValueQueryStringParameters": {k: list(v) for k, v in (handshake.multi_value_query or {}).items()},
        "stageVariables": {},
        "requestContext": _request_context(api, conn, routes.CONNECT, "CONNECT", conn.connected_at, request_id),
    }
    return event


def connect_event(api: Api, conn: ConnectionInfo, handshake: Handshake, request_id: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": dict(handshake.headers),
        "multiValueHeaders": {k: list(v) for k, v in handshake.multi_value_headers.items()},
        "requestContext": _request_context(api, conn, routes.CONNECT, "CONNECT", conn.connected_at, request_id),
        "isBase64Encoded": False,
    }
    if handshake.query is not None:
        event["queryStringParameters"] = dict(handshake.query)
        event["multiValueQueryStringParameters"] = {k: list(v) for k, v in (handshake.multi_value_query or {}).items()}
    return event


def message_event(api: Api, conn: ConnectionInfo, route_key: str, frame: str | bytes) -> dict[str, Any]:
    """A message route's event: text frames as they are, binary frames base64-encoded."""
    at = now_ms()
    context = _request_context(api, conn, route_key, "MESSAGE", at, new_id())
    context["messageId"] = new_id()
    if isinstance(frame, bytes):
        return {"requestContext": context, "body": base64.b64encode(frame).decode(), "isBase64Encoded": True}
    return {"requestContext": context, "body": frame, "isBase64Encoded": False}


def disconnect_event(api: Api, conn: ConnectionInfo, status_code: int, reason: str) -> dict[str, Any]:
    at = now_ms()
    context = _request_context(api, conn, routes.DISCONNECT, "DISCONNECT", at, new_id())
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    # API Gateway repeats only a few of the handshake's headers on $disconnect.
    headers = {k: v for k, v in conn.headers.items() if k.lower() in {"host", "x-forwarded-for"}}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def authorizer_context(policy: Mapping[str, Any], latency_ms: int) -> dict[str, Any]:
    """What ``requestContext.authorizer`` holds after an Allow: the policy's context and principalId."""
    context = dict(policy.get("context") or {})
    context["principalId"] = policy.get("principalId")
    context["integrationLatency"] = latency_ms
    return context
