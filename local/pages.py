"""What the two page servers of the local stack (the web chat, ``local.web``; the admin console,
``local.console``) have in common: they answer only at their own loopback host, serve the static files of a
folder (GET and HEAD, nothing outside it, only the types below), and take JSON posts only from their own page.
Each says how its errors look (``error``): the page it serves reads that one shape."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from local.http_requests import HttpRequest, HttpResponse, LoopbackHttpServer
from local.settings import LOOPBACK

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


def json_response(status: int, body: dict[str, object], **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})


class PageServer(LoopbackHttpServer):
    max_head_bytes = 16 * 1024

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._port}/"

    @abstractmethod
    def error(self, status: int, code: str, message: str, **headers: str) -> HttpResponse:
        """A refusal in the shape this server's page reads."""

    def bad_request(self, message: str) -> HttpResponse:
        return self.error(400, "bad_request", message)

    def wrong_host(self, request: HttpRequest) -> HttpResponse | None:
        """A request for another host name (DNS rebinding: a page elsewhere naming 127.0.0.1) is refused."""
        if request.headers.get("host", "") in (f"{LOOPBACK}:{self._port}", f"localhost:{self._port}"):
            return None
        return self.error(421, "wrong_host", "This server answers only at 127.0.0.1 or localhost.")

    def post_only(self, request: HttpRequest, answer: Callable[[object], HttpResponse], *,
                  max_bytes: int, what: str) -> HttpResponse:
        """A JSON post from this server's own page: not from a page of another origin, and not a form post
        (which needs no CORS preflight), and small; ``answer`` gets its parsed body."""
        if request.method != "POST":
            return self.error(405, "method_not_allowed", "POST a JSON body.", Allow="POST")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return self.error(403, "wrong_origin", f"{what} for this page only.")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return self.error(415, "unsupported_media", "Send the body as application/json.")
        if request.unread_body or len(request.body) > max_bytes:
            return self.error(413, "too_large", f"The body is over {max_bytes} bytes.")
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            return self.error(400, "invalid_json", "The body is not JSON.")
        return answer(body)

    def get_only(self, request: HttpRequest, answer: Callable[[], HttpResponse]) -> HttpResponse:
        """GET, or HEAD (the same answer without its body)."""
        if request.method not in ("GET", "HEAD"):
            return self.error(405, "method_not_allowed", "Only GET here.", Allow="GET, HEAD")
        response = answer()
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    def static_file(self, base: Path, relative: str, *, missing_hint: str = "") -> HttpResponse:
        """A file below ``base``: never a dot or dot-dot part, a backslash, or a type not listed above."""
        parts = PurePosixPath(relative).parts
        if not parts or any(p in ("..", ".") or p.startswith(".") or "\\" in p for p in parts):
            return self.error(404, "not_found", "No such file.")
        target = base.joinpath(*parts)
        content_type = CONTENT_TYPES.get(target.suffix)
        if content_type is None or not target.is_file():
            return self.error(404, "not_found", "No such file." + missing_hint)
        return HttpResponse(200, target.read_bytes(), {"Content-Type": content_type})
