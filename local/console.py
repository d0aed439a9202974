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
import logging
import runpy
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from local.http_requests import HttpRequest, HttpResponse
from local.pages import PageServer, json_response
from local.settings import LOOPBACK
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


class ConsoleServer(PageServer):
    """The console's server. ``mint`` signs a console token; ``admin_group`` is the group a dev sign-in with
    ``admin: true`` gets; ``start`` takes the server API's URL (``http://127.0.0.1:<port>``)."""

    def __init__(self, mint: Minter, *, admin_group: str = "admins", console_dir: Path = CONSOLE_DIR) -> None:
        super().__init__()
        self._mint = mint
        self._admin_group = admin_group
        self._dir = console_dir
        self._security = security_headers()
        self._api_host = LOOPBACK
        self._api_port = 0

    async def start(self, port: int = 0, *, server_api_url: str = "") -> int:
        parts = urlsplit(server_api_url)
        self._api_host, self._api_port = parts.hostname or LOOPBACK, parts.port or 80
        return await super().start(port)

    def extra_headers(self) -> dict[str, str]:
        return self._security

    def error(self, status: int, code: str, message: str, **headers: str) -> HttpResponse:
        """The server API's error shape, so the page reads one shape whoever refused."""
        return json_response(status, {"error": {"code": code, "message": message}}, **headers)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        refused = self.wrong_host(request)
        if refused is not None:
            return refused
        path = unquote(urlsplit(request.target).path)
        if path.startswith(API_PREFIX):
            return await self._forward(request)
        if path == SIGN_IN_PATH:
            return self.post_only(request, self._sign_in, max_bytes=MAX_SIGN_IN_BYTES, what="The dev sign-in is")
        return self.get_only(request, lambda: self._config() if path == CONFIG_PATH else self._file(path))

    # -- POST /dev/sign-in ----------------------------------------------------------------------------

    def _sign_in(self, body: object) -> HttpResponse:
        username = body.get("username") if isinstance(body, dict) else None
        admin = body.get("admin", False) if isinstance(body, dict) else None
        if not is_user_id(username) or not isinstance(admin, bool):
            return self.error(400, "invalid_request",
                              'Send {"username": ..., "admin": true|false}; the username: ' + RULE + ".")
        token = self._mint(username, [self._admin_group] if admin else [])
        log.info("console: dev sign-in of %s (admin: %s)", username, admin)  # never the token
        return json_response(200, {"username": username, "admin": admin, "token": token})

    # -- config.json ------------------------------------------------------------------------------------

    def _config(self) -> HttpResponse:
        """What the page reads first: here the dev sign-in, and the API under its own origin."""
        return json_response(200, {"mode": "local", "apiBase": API_PREFIX.rstrip("/"), "cognito": None})

    # -- /console/* -> the server API --------------------------------------------------------------------

    async def _forward(self, request: HttpRequest) -> HttpResponse:
        if request.unread_body:
            return self.error(413, "request_too_large", "The body is too large.")
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        try:
            status, answer_headers, body = await asyncio.to_thread(
                self._call_api, request.method, request.target, headers, request.body)
        except OSError as exc:
            log.warning("console: the server API did not answer (%s)", exc)
            return self.error(502, "bad_gateway", "The server API did not answer.")
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
        return self.static_file(self._dir, "index.html" if path == "/" else path.lstrip("/"))
