"""The server API on this machine: an HTTP server on the loopback interface that checks each request's SigV4
signature against the local credentials, as API Gateway's IAM authorizer does, then invokes the
``server_api`` function with the HTTP API (payload 2.0) event API Gateway would send, the signer in
``requestContext.authorizer.iam``.

Two local key pairs stand in for the two IAM policies (docs/server-api.md, "Authorization and policies"):
the full one may call every route, the read-only one ``GET`` routes only. A request with no signature, a
signature that does not match, an unknown key, or a date more than ``CLOCK_SKEW_SECONDS`` away from now is
answered 403 with a code saying which (``missing_signature``, ``invalid_signature``, ``unknown_access_key``,
``signature_expired``), and the function is not invoked. Where API Gateway answers ``{"message": ...}``, the
local stack answers the API's own error shape, so the code can be tested.

``/console/...`` is the admin console's route: like API Gateway's JWT authorizer in AWS, it takes a Bearer
token of the console's sign-in (``local.console_tokens``, verified against the key generated when the stack
started) instead of a signature, answers 401 ``unauthorized`` without one, and passes the token's claims to the
function in ``requestContext.authorizer.jwt.claims`` (docs/admin.md, "Signing in").
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.console_tokens import ConsoleTokenRefused, verify_console_token
from local.http_requests import HttpRequest, HttpResponse, LoopbackHttpServer
from local.lambdas import FunctionError, LambdaRuntime
from local.settings import LOOPBACK
from parley.routes import SERVER_API
from parley.server_api.callers import is_console_path
from parley_server.signing import SERVICE

log = logging.getLogger("parley.local.server_api")

CLOCK_SKEW_SECONDS = 300  # API Gateway refuses a signature dated more than 5 minutes away
_ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_MAX_BODY_BYTES = 10 * 1024 * 1024  # an HTTP API's payload limit
CONSOLE_ROUTE_KEY = "ANY /console/{proxy+}"


@dataclass(frozen=True)
class LocalKey:
    """A key pair the local server API accepts, and the IAM principal it stands for."""

    access_key_id: str
    secret_access_key: str
    principal_arn: str
    read_only: bool = False  # the read-only policy: GET routes only


class SignatureRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def verify(request: HttpRequest, keys: dict[str, LocalKey], region: str, *,
           now: Callable[[], float] = time.time) -> LocalKey:
    """The key that signed ``request``; ``SignatureRefused`` when it is unsigned, signed wrong or too old.
    The signature is computed again with botocore, over the headers the request says it signed."""
    authorization = request.headers.get("authorization", "")
    amz_date = request.headers.get("x-amz-date", "")
    if not authorization.startswith(_ALGORITHM + " ") or not amz_date:
        raise SignatureRefused("missing_signature", "The request is not signed with SigV4 (Authorization and "
                                                    "X-Amz-Date headers).")
    fields = dict(part.strip().split("=", 1) for part in authorization[len(_ALGORITHM):].split(",")
                  if "=" in part)
    try:
        access_key, date, scope_region, service, terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        claimed = fields["Signature"]
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise SignatureRefused("invalid_signature", "The Authorization header is not a SigV4 one.") from None
    key = keys.get(access_key)
    if key is None:
        raise SignatureRefused("unknown_access_key", "The access key is not one of the local stack's.")
    if abs(signed_at.timestamp() - now()) > CLOCK_SKEW_SECONDS:
        raise SignatureRefused("signature_expired", f"The signature is dated more than {CLOCK_SKEW_SECONDS} s "
                                                    "away from the server's clock.")
    if (date, scope_region, service, terminator) != (amz_date[:8], region, SERVICE, "aws4_request"):
        raise SignatureRefused("invalid_signature", f"The credential scope must be <date>/{region}/{SERVICE}/"
                                                    "aws4_request.")
    if "host" not in signed_headers or any(h not in request.headers for h in signed_headers):
        raise SignatureRefused("invalid_signature", "The signature must cover the Host header and only headers "
                                                    "the request carries.")
    signed = AWSRequest(method=request.method, url=f"http://{request.headers['host']}{request.target}",
                        data=request.body, headers={h: request.headers[h] for h in signed_headers if h != "host"})
    signed.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), SERVICE, region)
    expected = auth.signature(auth.string_to_sign(signed, auth.canonical_request(signed)), signed)
    if auth.signed_headers(auth.headers_to_sign(signed)) != ";".join(signed_headers) or \
            not hmac.compare_digest(expected, claimed):
        raise SignatureRefused("invalid_signature", "The signature does not match the request (method, path, "
                                                    "query, signed headers and body) and the key.")
    return key


def http_api_event(request: HttpRequest, key: LocalKey | None, *, api_id: str,
                   account_id: str) -> dict[str, object]:
    """The payload 2.0 event of API Gateway's ``ANY /{proxy+}`` route with the AWS_IAM authorizer (``key``: the
    signer; None: no IAM identity)."""
    parts = urlsplit(request.target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    try:
        body: str | None = request.body.decode() if request.body else None
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode(), True
    now = time.time()
    return {
        "version": "2.0", "routeKey": "ANY /{proxy+}", "rawPath": parts.path, "rawQueryString": parts.query,
        **({"queryStringParameters": query} if query else {}),
        "headers": dict(request.headers), "pathParameters": {"proxy": parts.path.lstrip("/")},
        "requestContext": {
            "accountId": account_id, "apiId": api_id, "domainName": request.headers.get("host", LOOPBACK),
            "domainPrefix": api_id, "requestId": str(uuid.uuid4()), "routeKey": "ANY /{proxy+}",
            "stage": "$default", "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
            "http": {"method": request.method, "path": parts.path, "protocol": request.version,
                     "sourceIp": LOOPBACK, "userAgent": request.headers.get("user-agent", "")},
            **({"authorizer": {"iam": {"accessKey": key.access_key_id, "accountId": account_id,
                                       "callerId": key.access_key_id, "cognitoIdentity": None,
                                       "principalOrgId": None, "userArn": key.principal_arn,
                                       "userId": key.access_key_id}}} if key is not None else {}),
        },
        "body": body, "isBase64Encoded": encoded,
    }


def console_event(request: HttpRequest, claims: dict[str, str], *, api_id: str,
                  account_id: str) -> dict[str, object]:
    """The payload 2.0 event of the ``ANY /console/{proxy+}`` route with the JWT authorizer: the verified
    token's claims in ``requestContext.authorizer.jwt``, as API Gateway puts them."""
    event = http_api_event(request, None, api_id=api_id, account_id=account_id)
    event["routeKey"] = CONSOLE_ROUTE_KEY
    context = event["requestContext"]
    assert isinstance(context, dict)
    context["routeKey"] = CONSOLE_ROUTE_KEY
    context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def _refusal(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(status, json.dumps({"error": {"code": code, "message": message}}).encode(),
                        {"Content-Type": "application/json"})


class LocalServerApi(LoopbackHttpServer):
    def __init__(self, runtime: LambdaRuntime, keys: list[LocalKey], *, region: str, account_id: str,
                 api_id: str) -> None:
        super().__init__()
        self._runtime = runtime
        self._keys = {k.access_key_id: k for k in keys}
        self._region = region
        self._account = account_id
        self._api_id = api_id
        # One call at a time: Powertools' resolver keeps the current event on the class, and the local runtime
        # runs invocations in threads of one process (Lambda runs one per sandbox).
        self._one_at_a_time = asyncio.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._port}"

    def bad_request(self, message: str) -> HttpResponse:
        return _refusal(400, "invalid_request", message)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        return await self.handle(request)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.unread_body or len(request.body) > _MAX_BODY_BYTES:
            return _refusal(413, "request_too_large", "The body is larger than an HTTP API accepts (10 MB).")
        if is_console_path(urlsplit(request.target).path):
            event = self._console_event(request)
            if isinstance(event, HttpResponse):
                return event
            return await self._invoke(event)
        try:
            key = verify(request, self._keys, self._region)
        except SignatureRefused as refused:
            log.info("server API request refused: %s", refused.code)
            return _refusal(403, refused.code, refused.message)
        if key.read_only and request.method not in ("GET", "HEAD"):
            return _refusal(403, "forbidden", "This key's policy (read-only) allows GET routes only.")
        return await self._invoke(http_api_event(request, key, api_id=self._api_id, account_id=self._account))

    def _console_event(self, request: HttpRequest) -> dict[str, object] | HttpResponse:
        """``/console/...``: the JWT authorizer's check (a Bearer token of the console's sign-in), as API Gateway
        makes it in AWS; a missing or refused token is answered 401 and the function is not invoked."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refusal(401, "unauthorized", "A console request needs 'Authorization: Bearer <token>' "
                                                 "(the console's sign-in).")
        try:
            claims = verify_console_token(token.strip())
        except ConsoleTokenRefused as refused:
            log.info("console request refused: %s", refused)
            return _refusal(401, "unauthorized", "The console token is not valid (signature, issuer, audience "
                                                 "or expiry).")
        return console_event(request, claims, api_id=self._api_id, account_id=self._account)

    async def _invoke(self, event: dict[str, object]) -> HttpResponse:
        async with self._one_at_a_time:
            try:
                result = await self._runtime.invoke(SERVER_API, event)
            except FunctionError:
                return HttpResponse(500, b'{"message":"Internal Server Error"}', {"Content-Type": "application/json"})
        return _response(result)


def _response(result: object) -> HttpResponse:
    """API Gateway's answer for a payload 2.0 Lambda result (a dict with ``statusCode``)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, json.dumps(result).encode(), {"Content-Type": "application/json"})
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    return HttpResponse(int(result["statusCode"]), raw, headers)
