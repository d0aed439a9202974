"""The @connections management API, on a small asyncio HTTP/1.1 server.

The handlers' boto3 ``apigatewaymanagementapi`` client reaches it through ``PARLEY_CALLBACK_URL``
(``http://127.0.0.1:<port>/<stage>``) exactly as it reaches API Gateway, so botocore sends
``POST|GET|DELETE /<stage>/@connections/<percent-encoded id>`` and parses the errors itself:
``x-amzn-ErrorType`` names the exception (``GoneException``, ``PayloadTooLargeException``, ...).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import unquote

from local.events import new_id
from local.gateway import Delivery, WebSocketGateway
from local.http_requests import HttpRequest, HttpResponse, LoopbackHttpServer
from local.settings import LOOPBACK

log = logging.getLogger("parley.local.management")

MAX_PAYLOAD_BYTES = 128 * 1024  # PostToConnection's Data limit


def _error(status: int, error_type: str, message: str, *, close: bool = False) -> HttpResponse:
    return HttpResponse(status, json.dumps({"message": message}).encode(),
                        {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}, close)


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ManagementApi(LoopbackHttpServer):
    def __init__(self, gateway: WebSocketGateway, stage: str, max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        super().__init__()
        self._gateway = gateway
        self._stage = stage
        self._max_payload = max_payload_bytes
        self.answered: Counter[int] = Counter()  # responses by HTTP status

    @property
    def url(self) -> str:
        """The callback URL: what boto3 gets as ``endpoint_url``."""
        return f"http://{LOOPBACK}:{self._port}/{self._stage}"

    def extra_headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": new_id()}

    def bad_request(self, message: str) -> HttpResponse:
        return _error(400, "BadRequestException", message)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        response = await self.handle(request)
        self.answered[response.status] += 1
        return response

    async def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.target.split("?", 1)[0]
        segments = [unquote(s) for s in path.split("/")]
        # ["", stage, "@connections", id]
        if len(segments) != 4 or segments[0] or segments[1] != self._stage or segments[2] != "@connections" \
                or not segments[3]:
            return _error(403, "ForbiddenException", "Forbidden")
        connection_id = segments[3]
        if request.method == "POST":
            return await self._post(connection_id, request)
        if request.method == "GET":
            return self._get(connection_id)
        if request.method == "DELETE":
            return HttpResponse(204) if await self._gateway.delete(connection_id) else _gone()
        return _error(403, "ForbiddenException", "Forbidden")

    async def _post(self, connection_id: str, request: HttpRequest) -> HttpResponse:
        if request.unread_body or len(request.body) > self._max_payload:
            return _error(413, "PayloadTooLargeException", "Message too long", close=bool(request.unread_body))
        outcome = await self._gateway.post(connection_id, request.body)
        if outcome is Delivery.GONE:
            return _gone()
        if outcome is Delivery.BUFFER_FULL:
            return _error(429, "LimitExceededException", "The client side buffer is full")
        return HttpResponse(200)

    def _get(self, connection_id: str) -> HttpResponse:
        live = self._gateway.connection(connection_id)
        if live is None:
            return _gone()
        body = {"connectedAt": _iso(live.info.connected_at),
                "identity": {"sourceIp": live.info.source_ip, "userAgent": live.info.user_agent},
                "lastActiveAt": _iso(live.last_active_ms)}
        return HttpResponse(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _gone() -> HttpResponse:
    return _error(410, "GoneException", "The connection with the provided id no longer exists.")
