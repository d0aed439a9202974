"""The local stack's small asyncio HTTP servers (the @connections API, the server API, the web chat): reading
HTTP/1.1 requests from a persistent connection, writing responses, and the serving loop they share. Enough of
HTTP/1.1 for botocore and browsers: a request line, headers, and a body of ``Content-Length`` bytes (no chunked
bodies)."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

from local.settings import LOOPBACK

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


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False

    def encode(self, extra_headers: Mapping[str, str] | None = None) -> bytes:
        """The response on the wire; ``extra_headers`` (a server's own, on every answer) come before its own."""
        head = {"Date": formatdate(usegmt=True), "Content-Length": str(len(self.body)), **(extra_headers or {}),
                **self.headers}
        if self.close:
            head["Connection"] = "close"
        lines = [f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}", *(f"{k}: {v}" for k, v in head.items()),
                 "", ""]
        return "\r\n".join(lines).encode("latin-1") + self.body


class LoopbackHttpServer(ABC):
    """An HTTP/1.1 server on the loopback interface with persistent connections: a subclass answers one request
    (``respond``) and a malformed one (``bad_request``); ``stop`` ends the connections clients keep alive."""

    max_head_bytes = 64 * 1024

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, port, limit=self.max_head_bytes)
        self._port = self._server.sockets[0].getsockname()[1]
        return self._port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):  # boto3 and browsers keep their connections alive; end them
            writer.close()
        await self._server.wait_closed()
        self._server = None

    @abstractmethod
    async def respond(self, request: HttpRequest) -> HttpResponse: ...

    @abstractmethod
    def bad_request(self, message: str) -> HttpResponse: ...

    def extra_headers(self) -> Mapping[str, str]:
        """Headers on every answer of this server."""
        return {}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except BadRequest as exc:
                    refusal = self.bad_request(str(exc))
                    refusal.close = True
                    writer.write(refusal.encode(self.extra_headers()))
                    await writer.drain()
                    return
                if request is None:
                    return
                response = await self.respond(request)
                response.close = response.close or not request.keep_alive or bool(request.unread_body)
                writer.write(response.encode(self.extra_headers()))
                await writer.drain()
                if response.close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
