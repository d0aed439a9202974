"""Reading HTTP/1.1 requests from a persistent connection, for the local stack's small asyncio servers
(the @connections API, the web chat). Enough of HTTP/1.1 for botocore and browsers: a request line, headers,
and a body of ``Content-Length`` bytes (no chunked bodies)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_BODY_READ = 16 * 1024 * 1024  # beyond this the body is not even read: the server answers 413 and closes


class BadRequest(Exception):
    pass


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""
    unread_body: int = 0  # a body too large to read at all: it is answered 413, then the connection closed

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """One request from a persistent connection; ``None`` at a clean end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest("truncated request head") from None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest("unsupported HTTP version")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("malformed header")
        headers[name.lower()] = value.strip()
    request = HttpRequest(method, target, version, headers)
    if "transfer-encoding" in headers:
        raise BadRequest("chunked bodies are not supported")  # botocore always sends Content-Length here
    length_header = headers.get("content-length", "0")
    if not length_header.isdigit():
        raise BadRequest("invalid Content-Length")
    length = int(length_header)
    if length > MAX_BODY_READ:
        request.unread_body = length
        request.headers["connection"] = "close"
        return request
    request.body = await reader.readexactly(length)
    return request
