"""The admin console of ``make run``: a small asyncio HTTP server on 127.0.0.1 for the console's static pages
(top-level ``console/``), its ``config.json``, a development sign-in, and a proxy of ``/console/*`` to the local
server API, so the page calls its own origin as it does behind CloudFront in AWS (docs/admin.md).

``POST /dev/sign-in`` with ``{"username": "ops", "admin": true}`` answers ``{"token", "username", "admin"}``: a
console token (a JWT the local server API verifies as API Gateway's JWT authorizer would), in the admins group
when ``admin`` is true, in no group otherwise (the server API then refuses every call with 403 ``forbidden``:
that is how the tests check the refusal happens server-side). There is no password: the server is bound to the
loopback interface, and it exists only locally (in AWS operators sign in with Cognito). Like the web chat's
``POST /token`` it answers only requests whose ``Host`` names this server, whose ``Origin`` (when sent) is this
server, and whose body is ``application/json``.

``/console/<path>`` is forwarded to the server API with its method, query, body and ``Authorization`` header
only; the answer comes back as the server API gave it. Every answer carries the console's security headers
(``infra/console_headers.py``: the set CloudFront's response headers policy sends in AWS, without HSTS on plain
HTTP), ``Cache-Control: no-store`` among them.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import runpy
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from local.http_requests import HttpRequest, HttpResponse, LoopbackHttpServer
from local.settings import LOOPBACK
from local.web import CONTENT_TYPES
from parley.user_ids import RULE, is_user_id

log = logging.getLogger("parley.local.console")

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_DIR = ROOT / "console"
HEADERS_MODULE = ROOT / "infra" / "console_headers.py"
API_PREFIX = "/console/"
SIGN_IN_PATH = "/dev/sign-in"
CONFIG_PATH = "/config.json"
MAX_SIGN_IN_BYTES = 1024
PROXY_TIMEOUT_SECONDS = 60  # above the server API's own integration timeout
# Only these request headers reach the server API: the caller's token and what describes the body.
FORWARDED_HEADERS = ("authorization", "content-type", "accept")
# Only these answer headers come back: the console's own security headers are added to every answer.
RETURNED_HEADERS = ("content-type", "retry-after")

# Mints a console token: (username, groups) -> JWT.
Minter = Callable[[str, list[str]], str]


def security_headers() -> dict[str, str]:
    """The console's security headers, defined once for CloudFront and here (``infra/console_headers.py``; no
    HSTS on plain HTTP). The file is run on its own: importing it through the ``infra`` package would load the CDK
    (and start its Node.js process) in the local stack."""
    headers = runpy.run_path(str(HEADERS_MODULE))["LOCAL_HEADERS"]
    return {str(name): str(value) for name, value in headers.items()}


def _json(status: int, body: dict[str, object], **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})


def _error(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    """The server API's error shape, so the page reads one shape whoever refused."""
    return _json(status, {"error": {"code": code, "message": message}}, **headers)


class ConsoleServer(LoopbackHttpServer):
    """The console's server. ``mint`` signs a console token; ``admin_group`` is the group a dev sign-in with
    ``admin: true`` gets; ``start`` takes the server API's URL (``http://127.0.0.1:<port>``)."""

    max_head_bytes = 16 * 1024

    def __init__(self, mint: Minter, *, admin_group: str = "admins", console_dir: Path = CONSOLE_DIR) -> None:
        super().__init__()
        self._mint = mint
        self._admin_group = admin_group
        self._dir = console_dir
        self._security = security_headers()
        self._api_host = LOOPBACK
        self._api_port = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._port}/"

    async def start(self, port: int = 0, *, server_api_url: str = "") -> int:
        parts = urlsplit(server_api_url)
        self._api_host, self._api_port = parts.hostname or LOOPBACK, parts.port or 80
        return await super().start(port)

    def extra_headers(self) -> dict[str, str]:
        return self._security

    def bad_request(self, message: str) -> HttpResponse:
        return _error(400, "bad_request", message)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        if not self._is_own_host(request.headers.get("host", "")):
            return _error(421, "wrong_host", "This server answers only at 127.0.0.1 or localhost.")
        path = unquote(urlsplit(request.target).path)
        if path.startswith(API_PREFIX):
            return await self._forward(request)
        if path == SIGN_IN_PATH:
            if request.method != "POST":
                return _error(405, "method_not_allowed", "POST a JSON body.", Allow="POST")
            return self._sign_in(request)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "method_not_allowed", "Only GET here.", Allow="GET, HEAD")
        response = self._config() if path == CONFIG_PATH else self._file(path)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    def _is_own_host(self, host: str) -> bool:
        return host in (f"{LOOPBACK}:{self._port}", f"localhost:{self._port}")

    # -- POST /dev/sign-in ----------------------------------------------------------------------------

    def _sign_in(self, request: HttpRequest) -> HttpResponse:
        refused = self._refuse_sign_in(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            return _error(400, "invalid_json", "The body is not JSON.")
        username = body.get("username") if isinstance(body, dict) else None
        admin = body.get("admin", False) if isinstance(body, dict) else None
        if not is_user_id(username) or not isinstance(admin, bool):
            return _error(400, "invalid_request", 'Send {"username": ..., "admin": true|false}; the username: '
                                                  + RULE + ".")
        token = self._mint(username, [self._admin_group] if admin else [])
        log.info("console: dev sign-in of %s (admin: %s)", username, admin)  # never the token
        return _json(200, {"username": username, "admin": admin, "token": token})

    @staticmethod
    def _refuse_sign_in(request: HttpRequest) -> HttpResponse | None:
        """A sign-in that does not come from this page, as JSON: a page of another origin, or a form post (which
        needs no CORS preflight)."""
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return _error(403, "wrong_origin", "The dev sign-in is for this page only.")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "unsupported_media", "Send the body as application/json.")
        if request.unread_body or len(request.body) > MAX_SIGN_IN_BYTES:
            return _error(413, "too_large", f"The body is over {MAX_SIGN_IN_BYTES} bytes.")
        return None

    # -- config.json ------------------------------------------------------------------------------------

    def _config(self) -> HttpResponse:
        """What the page reads first: here the dev sign-in, and the API under its own origin."""
        return _json(200, {"mode": "local", "apiBase": API_PREFIX.rstrip("/"), "cognito": None})

    # -- /console/* -> the server API --------------------------------------------------------------------

    async def _forward(self, request: HttpRequest) -> HttpResponse:
        if request.unread_body:
            return _error(413, "request_too_large", "The body is too large.")
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        try:
            status, answer_headers, body = await asyncio.to_thread(
                self._call_api, request.method, request.target, headers, request.body)
        except OSError as exc:
            log.warning("console: the server API did not answer (%s)", exc)
            return _error(502, "bad_gateway", "The server API did not answer.")
        kept = {name: value for name, value in answer_headers if name.lower() in RETURNED_HEADERS}
        return HttpResponse(status, body, kept)

    def _call_api(self, method: str, target: str, headers: dict[str, str],
                  body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self._api_host, self._api_port, timeout=PROXY_TIMEOUT_SECONDS)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    # -- static files -------------------------------------------------------------------------------------

    def _file(self, path: str) -> HttpResponse:
        if path == "/":
            path = "/index.html"
        parts = PurePosixPath(path.lstrip("/")).parts
        if not parts or any(p in ("..", ".") or p.startswith(".") or "\\" in p for p in parts):
            return _error(404, "not_found", "No such file.")
        target = self._dir.joinpath(*parts)
        content_type = CONTENT_TYPES.get(target.suffix)
        if content_type is None or not target.is_file():
            return _error(404, "not_found", "No such file.")
        return HttpResponse(200, target.read_bytes(), {"Content-Type": content_type})
