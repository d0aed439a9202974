"""The web chat of ``make run``: a small asyncio HTTP server on 127.0.0.1 for the page in ``local/web/``, the
TypeScript SDK's browser build (``clients/js/dist/``, under ``/sdk/``) and a local-only token endpoint.

``POST /token`` with ``{"userId": "alice"}`` answers ``{"userId", "token", "url", "expiresAt"}``: a chat token the
local stack accepts, as a host app's backend would mint it after its own login (here there is no login: the
server is bound to the loopback interface and signs with the local dev secret). The user id must satisfy the
server's own rule (``parley.user_ids``), so the page cannot get a token the authorizer refuses. The endpoint
answers only requests whose ``Host`` names this server and whose ``Origin`` (when sent) is this server, and only
``application/json`` bodies: a page of another origin can neither post to it without a CORS preflight (which is
never granted) nor reach it through a rebound DNS name.

Every answer carries the security headers (a Content-Security-Policy that allows scripts and styles from this
server only, and connections to the WebSocket API and the uploads endpoint), and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import jwt

from local.http_requests import HttpRequest, HttpResponse, LoopbackHttpServer
from local.settings import LOOPBACK
from parley.user_ids import RULE, is_user_id

log = logging.getLogger("parley.local.web")

ROOT = Path(__file__).resolve().parents[1]
PAGE_DIR = Path(__file__).resolve().parent / "web"
SDK_DIR = ROOT / "clients" / "js" / "dist"
SDK_PREFIX = "/sdk/"
TOKEN_PATH = "/token"
MAX_TOKEN_REQUEST_BYTES = 1024

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def _json(status: int, body: dict[str, object], **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})


def _error(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    return _json(status, {"error": code, "message": message}, **headers)


class WebChat(LoopbackHttpServer):
    """The web chat's server. ``mint`` signs a token for a valid user id. ``start`` takes the WebSocket API's URL
    and ``uploads_origin``, the S3 endpoint the browser uploads to and downloads from (None: AWS's own)."""

    max_head_bytes = 16 * 1024

    def __init__(self, mint: Callable[[str], str], *, page_dir: Path = PAGE_DIR,
                 sdk_dir: Path = SDK_DIR) -> None:
        super().__init__()
        self._mint = mint
        self._page_dir = page_dir
        self._sdk_dir = sdk_dir
        self._ws_url = ""
        self._security: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._port}/"

    @property
    def sdk_built(self) -> bool:
        return (self._sdk_dir / "index.js").is_file()

    async def start(self, port: int = 0, *, ws_url: str = "", uploads_origin: str | None = None) -> int:
        self._ws_url = ws_url
        self._security = security_headers(ws_url, uploads_origin)
        return await super().start(port)

    def extra_headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store", **self._security}

    def bad_request(self, message: str) -> HttpResponse:
        return _error(400, "bad_request", message)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        if not self._is_own_host(request.headers.get("host", "")):
            return _error(421, "wrong_host", "This server answers only at 127.0.0.1 or localhost.")
        path = unquote(urlsplit(request.target).path)
        if path == TOKEN_PATH:
            if request.method != "POST":
                return _error(405, "method_not_allowed", "POST a JSON body.", Allow="POST")
            return self._token(request)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "method_not_allowed", "Only GET here.", Allow="GET, HEAD")
        response = self._file(path)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    # -- POST /token ------------------------------------------------------------------------------

    def _token(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return _error(403, "wrong_origin", "Tokens are minted for this page only.")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "unsupported_media", "Send the body as application/json.")
        if request.unread_body or len(request.body) > MAX_TOKEN_REQUEST_BYTES:
            return _error(413, "too_large", f"The body is over {MAX_TOKEN_REQUEST_BYTES} bytes.")
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            return _error(400, "invalid_json", "The body is not JSON.")
        user_id = body.get("userId") if isinstance(body, dict) else None
        if not is_user_id(user_id):
            return _error(400, "invalid_user_id", RULE[0].upper() + RULE[1:] + ".")
        token = self._mint(user_id)
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]  # our own token: read its exp
        log.info("web chat: minted a token for %s", user_id)  # never the token
        return _json(200, {"userId": user_id, "token": token, "url": self._ws_url, "expiresAt": expires_at})

    def _is_own_host(self, host: str) -> bool:
        return host in (f"{LOOPBACK}:{self._port}", f"localhost:{self._port}")

    # -- static files -----------------------------------------------------------------------------

    def _file(self, path: str) -> HttpResponse:
        if path == "/":
            path = "/index.html"
        if path.startswith(SDK_PREFIX):
            base, relative = self._sdk_dir, path[len(SDK_PREFIX):]
        else:
            base, relative = self._page_dir, path.lstrip("/")
        parts = PurePosixPath(relative).parts
        if not parts or any(p in ("..", ".") or p.startswith(".") or "\\" in p for p in parts):
            return _error(404, "not_found", "No such file.")
        target = base.joinpath(*parts)
        content_type = CONTENT_TYPES.get(target.suffix)
        if content_type is None or not target.is_file():
            hint = " Build the SDK: make install." if base == self._sdk_dir else ""
            return _error(404, "not_found", "No such file." + hint)
        return HttpResponse(200, target.read_bytes(), {"Content-Type": content_type})


def security_headers(ws_url: str, uploads_origin: str | None) -> dict[str, str]:
    """What every answer carries. Scripts and styles come from this server only (no inline code); the page may
    connect to the WebSocket API and post uploads to S3, and show images from S3 and the inline previews
    (``data:`` URIs) and photos picked for upload (``blob:``)."""
    s3 = uploads_origin or "https://*.amazonaws.com"
    policy = "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob: {s3}",
        f"connect-src 'self' {ws_url} {s3}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
