"""API-Gateway-shaped WebSocket and authorizer events for tests. They pass Powertools' strict
WebSocket parser models (see tests/unit/test_events.py)."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from typing import Any

API_ID = "parleytest"
STAGE = "prod"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def _request_context(connection_id: str, route_key: str, event_type: str, user_id: str | None,
                     frame_format: str | None = "compact", **extra: Any) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    ctx: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": now_ms - 1000,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "parley-tests"},
        "requestId": uuid.uuid4().hex,
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
        **extra,
    }
    if user_id is not None:  # as the authorizer passes them (frameFormat None: a connection from before formats)
        ctx["authorizer"] = {"userId": user_id, "principalId": user_id}
        if frame_format is not None:
            ctx["authorizer"]["frameFormat"] = frame_format
    return ctx


def connect_event(user_id: str | None, connection_id: str, frame_format: str | None = "compact") -> dict[str, Any]:
    return {
        "headers": {"Host": DOMAIN, "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Host": [DOMAIN], "Sec-WebSocket-Version": ["13"]},
        "requestContext": _request_context(connection_id, "$connect", "CONNECT", user_id, frame_format),
        "isBase64Encoded": False,
    }


def disconnect_event(user_id: str | None, connection_id: str) -> dict[str, Any]:
    return {
        "headers": {"Host": DOMAIN},
        "multiValueHeaders": {"Host": [DOMAIN]},
        "requestContext": _request_context(connection_id, "$disconnect", "DISCONNECT", user_id,
                                           disconnectStatusCode=1000, disconnectReason="Client closed"),
        "isBase64Encoded": False,
    }


def message_event(user_id: str | None, connection_id: str, body: Any, route_key: str | None = None,
                  frame_format: str | None = "compact") -> dict[str, Any]:
    """``body`` is sent as-is when it is a str, JSON-encoded otherwise; the route key follows the action.
    ``frame_format`` is the connection's, as the authorizer passed it."""
    raw = body if isinstance(body, str) else json.dumps(body)
    if route_key is None:
        action = body.get("action") if isinstance(body, dict) else None
        route_key = action if isinstance(action, str) else "$default"
    return {
        "requestContext": _request_context(connection_id, route_key, "MESSAGE", user_id, frame_format,
                                           messageId=uuid.uuid4().hex[:16]),
        "body": raw,
        "isBase64Encoded": False,
    }


def authorizer_event(query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    headers = headers or {}
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/$connect",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or {},
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()},
        "stageVariables": {},
        "requestContext": _request_context(f"conn-{uuid.uuid4().hex[:8]}", "$connect", "CONNECT", None),
    }


def sqs_record(body: str, message_id: str | None = None, queue: str = "parley-delivery") -> dict[str, Any]:
    """One record of the SQS event Lambda's poller hands a queue-fed function (the ``deliver`` function)."""
    return {"messageId": message_id or str(uuid.uuid4()), "receiptHandle": "handle", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "x",
                           "ApproximateFirstReceiveTimestamp": "0"},
            "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}", "awsRegion": REGION}


ADMIN_ARN = "arn:aws:sts::123456789012:assumed-role/host-backend/session"


def http_api_event(method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
                   caller_arn: str | None = ADMIN_ARN, raw_body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the server API's route ``ANY /{proxy+}`` with the
    AWS_IAM authorizer delivers it: the signer in ``requestContext.authorizer.iam``."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    query = query or {}
    request_context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "api", "domainName": "api.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "api", "requestId": f"req-{uuid.uuid4().hex[:12]}", "routeKey": "ANY /{proxy+}",
        "stage": "$default", "time": "01/Dec/2026:12:00:00 +0000", "timeEpoch": 1_795_000_000_000,
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                 "userAgent": "parley-tests"},
    }
    if caller_arn is not None:
        request_context["authorizer"] = {"iam": {
            "accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AROAEXAMPLE:session",
            "cognitoIdentity": None, "principalOrgId": None, "userArn": caller_arn, "userId": "AROAEXAMPLE:session"}}
    return {
        "version": "2.0", "routeKey": "ANY /{proxy+}", "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query),
        "queryStringParameters": query or None,
        "headers": {"content-type": "application/json", "host": "api.execute-api.us-east-1.amazonaws.com"},
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": request_context, "body": text, "isBase64Encoded": False,
    }


def console_event(method: str, path: str, body: Any = None, *, username: str = "ops",
                  groups: str | None = "[admins]", query: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API event as the admin console's route ``ANY /console/{proxy+}`` with the JWT authorizer delivers
    it: the token's claims in ``requestContext.authorizer.jwt.claims``, strings as API Gateway passes them (a list
    claim such as ``cognito:groups`` as ``[a b]``); no IAM identity. ``path`` starts with ``/console``."""
    event = http_api_event(method, path, body, query=query, caller_arn=None)
    claims: dict[str, str] = {"sub": "0f0e", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
                              "aud": "client", "token_use": "id", "cognito:username": username,
                              "email": f"{username}@example.com"}
    if groups is not None:
        claims["cognito:groups"] = groups
    event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /console/{proxy+}"
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event
