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

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jwt

from local.http_requests import HttpRequest, HttpResponse
from local.pages import PageServer, json_response
from parley.user_ids import RULE, is_user_id

log = logging.getLogger("parley.local.web")

ROOT = Path(__file__).resolve().parents[1]
PAGE_DIR = Path(__file__).resolve().parent / "web"
SDK_DIR = ROOT / "clients" / "js" / "dist"
SDK_PREFIX = "/sdk/"
TOKEN_PATH = "/token"
MAX_TOKEN_REQUEST_BYTES = 1024


class WebChat(PageServer):
    """The web chat's server. ``mint`` signs a token for a valid user id. ``start`` takes the WebSocket API's URL
    and ``uploads_origin``, the S3 endpoint the browser uploads to and downloads from (None: AWS's own)."""

    def __init__(self, mint: Callable[[str], str], *, page_dir: Path = PAGE_DIR,
                 sdk_dir: Path = SDK_DIR) -> None:
        super().__init__()
        self._mint = mint
        self._page_dir = page_dir
        self._sdk_dir = sdk_dir
        self._ws_url = ""
        self._security: dict[str, str] = {}

    @property
    def sdk_built(self) -> bool:
        return (self._sdk_dir / "index.js").is_file()

    async def start(self, port: int = 0, *, ws_url: str = "", uploads_origin: str | None = None) -> int:
        self._ws_url = ws_url
        self._security = security_headers(ws_url, uploads_origin)
        return await super().start(port)

    def extra_headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store", **self._security}

    def error(self, status: int, code: str, message: str, **headers: str) -> HttpResponse:
        return json_response(status, {"error": code, "message": message}, **headers)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        refused = self.wrong_host(request)
        if refused is not None:
            return refused
        path = unquote(urlsplit(request.target).path)
        if path == TOKEN_PATH:
            return self.post_only(request, self._token, max_bytes=MAX_TOKEN_REQUEST_BYTES, what="Tokens are minted")
        return self.get_only(request, lambda: self._file(path))

    # -- POST /token ------------------------------------------------------------------------------

    def _token(self, body: object) -> HttpResponse:
        user_id = body.get("userId") if isinstance(body, dict) else None
        if not is_user_id(user_id):
            return self.error(400, "invalid_user_id", RULE[0].upper() + RULE[1:] + ".")
        token = self._mint(user_id)
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]  # our own token: read its exp
        log.info("web chat: minted a token for %s", user_id)  # never the token
        return json_response(200, {"userId": user_id, "token": token, "url": self._ws_url, "expiresAt": expires_at})

    # -- static files -----------------------------------------------------------------------------

    def _file(self, path: str) -> HttpResponse:
        if path == "/":
            path = "/index.html"
        if path.startswith(SDK_PREFIX):
            return self.static_file(self._sdk_dir, path[len(SDK_PREFIX):], missing_hint=" Build the SDK: make install.")
        return self.static_file(self._page_dir, path.lstrip("/"))


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
