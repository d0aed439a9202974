"""The local API Gateway WebSocket API, on ``websockets``' asyncio server.

What it does, in API Gateway's terms:

* ``$connect``: the REQUEST authorizer runs first ("Unauthorized" -> 401, a Deny -> 403, a broken
  response -> 500); on Allow its ``context`` and ``principalId`` become ``requestContext.authorizer`` of
  every later event of the connection; then the ``$connect`` integration runs and a non-2xx answer
  refuses the handshake.
* Route selection on ``$request.body.action``; each frame is its own invocation (concurrent, like
  Lambda) and the integration's ``body`` goes back to the caller as a route response. A route API Gateway
  answers itself (a MOCK integration: ``ping``) is answered here, with no handler invoked.
* ``$disconnect`` when the connection closes, whoever closes it.
* Limits: 128 KB messages (1009 on excess), the idle timeout and the maximum connection duration.
* The connection registry behind the @connections management API (``local.management``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from local import events
from local.lambdas import UNAUTHORIZED, FunctionError, LambdaRuntime
from local.policy import Decision, PolicyError, evaluate
from local.settings import LOOPBACK
from parley import routes

log = logging.getLogger("parley.local.gateway")

# ``$request.body.action``: the route selection expression names this field of the JSON body.
ROUTE_SELECTION_FIELD = "action"

GOING_AWAY = CloseCode.GOING_AWAY
IDLE_REASON = "Idle timeout"
MAX_DURATION_REASON = "Connection duration limit reached"
DELETED_REASON = "Connection deleted"
SHUTDOWN_REASON = "Server is shutting down"
INTERNAL_ERROR = "Internal server error"


@dataclass(frozen=True)
class Limits:
    """API Gateway's WebSocket limits; the tests shorten them."""

    max_message_bytes: int = 128 * 1024
    idle_timeout_seconds: float = 600.0
    max_connection_seconds: float = 7200.0


@dataclass
class Faults:
    """Timing and failures that AWS shows and a quiet local run rarely does, keyed by principal (user id).

    * ``lost_disconnects``: ``$disconnect`` is best effort in AWS. A connection of these principals that
      dies without a closing handshake (1006) gets none, so its record stays until a fan-out meets its
      410 (or its TTL).
    * ``slow_posts``: the next POST to one of these principals' connections waits first (once).
    * ``connect_delays``: seconds between ``$connect`` returning and the connection opening. A POST in that
      window gets 410, as in AWS ("posted before the connection was established").
    """

    lost_disconnects: set[str] = field(default_factory=set)
    connect_delays: dict[str, float] = field(default_factory=dict)
    # ``slow_posts``: the next @connections POST to a connection of these principals takes this many seconds
    # (once each): an API Gateway slow enough that ``send`` runs out of its delivery budget.
    slow_posts: dict[str, float] = field(default_factory=dict)


class Delivery(Enum):
    SENT = "sent"
    GONE = "gone"
    BUFFER_FULL = "buffer_full"


@dataclass
class LiveConnection:
    info: events.ConnectionInfo
    websocket: ServerConnection
    opened: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)
    last_active_ms: int = field(default_factory=events.now_ms)
    # Set when the gateway closes the connection itself (limits, DeleteConnection).
    closed_by_gateway: tuple[int, str] | None = None

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    @property
    def is_open(self) -> bool:
        return self.websocket.state is State.OPEN

    def touch(self) -> None:
        self.last_active = time.monotonic()
        self.last_active_ms = events.now_ms()


def select_route(frame: str | bytes, route_keys: Collection[str]) -> str:
    """``$request.body.action``: a JSON object whose string ``action`` names a route, else ``$default``."""
    if isinstance(frame, bytes):
        return routes.DEFAULT
    try:
        body = json.loads(frame)
    except (ValueError, RecursionError):
        return routes.DEFAULT
    action = body.get(ROUTE_SELECTION_FIELD) if isinstance(body, dict) else None
    if isinstance(action, str) and action in route_keys and action not in (routes.CONNECT, routes.DISCONNECT):
        return action
    return routes.DEFAULT


def _json_response(connection: ServerConnection, status: int, message: str) -> Response:
    response = connection.respond(status, json.dumps({"message": message}))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


class WebSocketGateway:
    def __init__(self, runtime: LambdaRuntime, *, api_id: str, stage: str, region: str, account_id: str,
                 limits: Limits | None = None, route_table: Mapping[str, str] = routes.ROUTES,
                 gateway_answers: Mapping[str, str] = routes.GATEWAY_ANSWERS,
                 two_way_routes: frozenset[str] = routes.TWO_WAY_ROUTES, faults: Faults | None = None) -> None:
        self._runtime = runtime
        self._api_id = api_id
        self._stage = stage
        self._region = region
        self._account_id = account_id
        self.limits = limits or Limits()
        self._routes = route_table
        self._answers = gateway_answers
        self._route_keys = frozenset({*route_table, *gateway_answers})
        self._two_way = two_way_routes
        self.faults = faults or Faults()
        self._server: Server | None = None
        self._api: events.Api | None = None
        self._port = 0
        self._pending: WeakKeyDictionary[ServerConnection, LiveConnection] = WeakKeyDictionary()
        self._live: dict[str, LiveConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def api(self) -> events.Api:
        if self._api is None:
            raise RuntimeError("the gateway is not started")
        return self._api

    async def start(self, port: int = 0) -> int:
        self._server = await serve(
            self._serve_connection, LOOPBACK, port,
            process_request=self._open,
            compression=None,  # API Gateway negotiates no permessage-deflate
            max_size=self.limits.max_message_bytes,
            ping_interval=None,  # API Gateway answers pings but sends none
            open_timeout=60, close_timeout=5, server_header=None)
        self._port = self._server.sockets[0].getsockname()[1]
        self._api = events.Api(api_id=self._api_id, stage=self._stage, region=self._region,
                               account_id=self._account_id, domain_name=f"{LOOPBACK}:{self._port}")
        return self._port

    async def stop(self) -> None:
        """Close every connection (1001, each gets its ``$disconnect``) and wait for in-flight routes."""
        if self._server is not None:
            for live in self._live.values():
                live.closed_by_gateway = live.closed_by_gateway or (GOING_AWAY, SHUTDOWN_REASON)
            self._server.close(code=GOING_AWAY, reason=SHUTDOWN_REASON)
            await self._server.wait_closed()
            self._server = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the opening handshake: authorizer, then $connect --------------------------------------

    async def _open(self, connection: ServerConnection, request: Request) -> Response | None:
        """``process_request``: None accepts the handshake, a Response refuses it."""
        url = urlsplit(request.path)
        if url.path.rstrip("/") not in ("", f"/{self._stage}"):
            return _json_response(connection, 403, "Forbidden")
        source_ip = str(connection.remote_address[0])
        handshake = events.handshake_of(_raw_items(request.headers), url.query, source_ip=source_ip,
                                        port=self._port)
        info = events.ConnectionInfo(
            connection_id=events.new_id(), connected_at=events.now_ms(), source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""), headers=handshake.headers)
        request_id = events.new_id()
        refusal = await self._authorize(info, handshake, request_id)
        if refusal is None:
            refusal = await self._connect(info, handshake, request_id)
        if refusal is not None:
            return _json_response(connection, *refusal)
        delay = self.faults.connect_delays.get(str((info.authorizer or {}).get("principalId")))
        if delay:
            await asyncio.sleep(delay)
        self._pending[connection] = LiveConnection(info=info, websocket=connection)
        return None

    async def _authorize(self, info: events.ConnectionInfo, handshake: events.Handshake,
                         request_id: str) -> tuple[int, str] | None:
        """The REQUEST authorizer: on Allow, ``info.authorizer`` is set; otherwise the refusal."""
        started = time.monotonic()
        method_arn = self.api.route_arn(routes.CONNECT)
        try:
            policy = await self._runtime.invoke(routes.AUTHORIZER,
                                                events.authorizer_event(self.api, info, handshake, request_id))
            decision = evaluate(policy, method_arn)
        except FunctionError as exc:
            if exc.error_message == UNAUTHORIZED:
                return 401, UNAUTHORIZED
            log.error("authorizer failed: %s", exc)
            return 500, INTERNAL_ERROR
        except PolicyError as exc:
            log.error("authorizer returned an invalid response: %s", exc)
            return 500, INTERNAL_ERROR
        if decision is Decision.DENY:
            return 403, "Forbidden"
        info.authorizer = events.authorizer_context(policy, int((time.monotonic() - started) * 1000))
        return None

    async def _connect(self, info: events.ConnectionInfo, handshake: events.Handshake,
                       request_id: str) -> tuple[int, str] | None:
        """The ``$connect`` integration: anything but a 2xx refuses the handshake."""
        try:
            result = await self._runtime.invoke(self._routes[routes.CONNECT],
                                                events.connect_event(self.api, info, handshake, request_id))
        except FunctionError as exc:
            log.error("$connect failed: %s", exc)
            return 500, INTERNAL_ERROR
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        if isinstance(status, int) and 200 <= status < 300:
            return None
        code = status if isinstance(status, int) and 400 <= status < 600 else 500
        return code, "Forbidden" if code == 403 else INTERNAL_ERROR if code == 500 else "Connection refused"

    # -- an open connection ------------------------------------------------------------------------

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        live = self._pending.pop(websocket, None)
        if live is None:  # the handshake never ran through _open
            await websocket.close(CloseCode.INTERNAL_ERROR)
            return
        self._live[live.connection_id] = live
        watchdog = asyncio.create_task(self._enforce_limits(live))
        try:
            async for frame in websocket:
                live.touch()
                self._spawn(self._route(live, frame))
        except ConnectionClosed:
            pass  # an abnormal closure or a 1009: $disconnect below says which
        finally:
            watchdog.cancel()
            self._live.pop(live.connection_id, None)
            await websocket.wait_closed()
            await self._disconnect(live)

    async def _route(self, live: LiveConnection, frame: str | bytes) -> None:
        route_key = select_route(frame, self._route_keys)
        body: str | None
        if route_key in self._answers:  # the MOCK integration: API Gateway's own answer, no handler
            body = self._answers[route_key]
        else:
            body = await self._invoke(live, route_key, frame)
        if body is None or not live.is_open:
            return
        try:
            await live.websocket.send(body)
            live.touch()
        except ConnectionClosed:
            pass

    async def _invoke(self, live: LiveConnection, route_key: str, frame: str | bytes) -> str | None:
        """Run the route's function; its answer for the caller (None: nothing to send)."""
        event = events.message_event(self.api, live.info, route_key, frame)
        try:
            result = await self._runtime.invoke(self._routes[route_key], event)
        except FunctionError as exc:
            log.error("route %s failed: %s", route_key, exc)
            return json.dumps({"message": INTERNAL_ERROR, "connectionId": live.connection_id,
                               "requestId": event["requestContext"]["requestId"]})
        return _route_response(result) if route_key in self._two_way else None

    async def _disconnect(self, live: LiveConnection) -> None:
        code, reason = _close_cause(live)
        principal = (live.info.authorizer or {}).get("principalId")
        if code == CloseCode.ABNORMAL_CLOSURE and principal in self.faults.lost_disconnects:
            log.info("$disconnect of %s lost (fault injected)", live.connection_id)
            return
        try:
            await self._runtime.invoke(self._routes[routes.DISCONNECT],
                                       events.disconnect_event(self.api, live.info, code, reason))
        except FunctionError as exc:
            log.error("$disconnect failed: %s", exc)

    async def _enforce_limits(self, live: LiveConnection) -> None:
        while live.is_open:
            now = time.monotonic()
            idle_at = live.last_active + self.limits.idle_timeout_seconds
            end_at = live.opened + self.limits.max_connection_seconds
            if now >= end_at:
                self._close(live, GOING_AWAY, MAX_DURATION_REASON)
                return
            if now >= idle_at:
                self._close(live, GOING_AWAY, IDLE_REASON)
                return
            await asyncio.sleep(min(idle_at, end_at) - now)

    def _close(self, live: LiveConnection, code: int, reason: str) -> None:
        """Start the closing handshake; the connection leaves the registry at once (POSTs get 410)."""
        if live.closed_by_gateway is None:
            live.closed_by_gateway = (code, reason)
        self._live.pop(live.connection_id, None)
        self._spawn(live.websocket.close(code, reason))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the registry behind @connections -----------------------------------------------------------

    def connection(self, connection_id: str) -> LiveConnection | None:
        live = self._live.get(connection_id)
        return live if live is not None and live.is_open else None

    def connections(self) -> list[LiveConnection]:
        return [c for c in self._live.values() if c.is_open]

    async def post(self, connection_id: str, data: bytes) -> Delivery:
        live = self.connection(connection_id)
        if live is None:
            return Delivery.GONE
        slow = self.faults.slow_posts.pop(str((live.info.authorizer or {}).get("principalId")), None)
        if slow:
            await asyncio.sleep(slow)
        transport = live.websocket.transport
        if transport.get_write_buffer_size() > self.limits.max_message_bytes * 8:
            return Delivery.BUFFER_FULL  # the client is not reading: API Gateway's LimitExceededException
        try:
            message: str | bytes = data.decode()
        except UnicodeDecodeError:
            message = data
        # The frame is written at once; only the wait for the socket to drain is bounded.
        sending = asyncio.ensure_future(live.websocket.send(message))
        done, _ = await asyncio.wait({sending}, timeout=2)
        if not done:
            sending.add_done_callback(_consume)
        elif sending.exception() is not None:
            if isinstance(sending.exception(), ConnectionClosed):
                return Delivery.GONE
            sending.result()
        live.touch()
        return Delivery.SENT

    async def delete(self, connection_id: str) -> bool:
        live = self.connection(connection_id)
        if live is None:
            return False
        self._close(live, CloseCode.NORMAL_CLOSURE, DELETED_REASON)
        return True


def _close_cause(live: LiveConnection) -> tuple[int, str]:
    """What ``$disconnect`` reports: the gateway's own close, else the client's close frame, else the code a
    failed protocol closed with (1009), else 1006 (no closing handshake at all)."""
    if live.closed_by_gateway is not None:
        return live.closed_by_gateway
    protocol = live.websocket.protocol
    if protocol.close_rcvd is not None:
        code, text = int(protocol.close_rcvd.code), protocol.close_rcvd.reason
    elif protocol.close_sent is not None:
        code, text = int(protocol.close_sent.code), protocol.close_sent.reason
    else:
        code, text = CloseCode.ABNORMAL_CLOSURE, ""
    try:
        name = CloseCode(code).name
    except ValueError:
        name = "UNKNOWN"
    return code, f"Client-side close frame status code '{code}' ({name}) - with a reason '{text}'"


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _raw_items(headers: Headers) -> list[tuple[str, str]]:
    return list(headers.raw_items())


def _route_response(result: Any) -> str | None:
    """The route response API Gateway sends back: the integration's ``body``."""
    if isinstance(result, dict):
        body = result.get("body")
        if body is None:
            return None
        return body if isinstance(body, str) else json.dumps(body)
    if result is None:
        return None
    return result if isinstance(result, str) else json.dumps(result)
