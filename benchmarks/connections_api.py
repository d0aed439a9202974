"""A stand-in for API Gateway's @connections endpoint, for the fan-out benchmark: an HTTP/1.1 server on
127.0.0.1, in a process of its own, that answers every ``POST /<stage>/@connections/<id>`` with 200 after
``delay`` seconds, keeps connections alive, and counts the posts (``GET /_posts``).

The handlers' real botocore ``apigatewaymanagementapi`` client posts to it through ``PARLEY_CALLBACK_URL``, so
a post costs the benchmark's process what it costs a Lambda: serializing, SigV4 signing, urllib3 and parsing
the answer. Being another process, the server's own CPU never counts as the handler's.

``python -m benchmarks.connections_api --delay 0.02`` prints the port it listens on, then serves until stdin
closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n"


class _Server:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.posts = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
                await reader.readexactly(int(headers.get("content-length", "0")))
                method, target, _version = request_line.split(" ", 2)
                if method == "GET" and target == "/_posts":
                    body = json.dumps({"posts": self.posts}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                else:
                    await asyncio.sleep(self.delay)
                    self.posts += 1
                    writer.write(_OK)
                await writer.drain()
        writer.close()


async def _serve(delay: float) -> None:
    server = _Server(delay)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    listener.close()


class ConnectionsApi:
    """The running server, seen from the benchmark."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def callback_url(self, stage: str = "prod") -> str:
        return f"{self.url}/{stage}"

    @property
    def posts(self) -> int:
        with urllib.request.urlopen(f"{self.url}/_posts", timeout=5) as answer:  # noqa: S310 (our own loopback)
            return int(json.load(answer)["posts"])


@contextlib.contextmanager
def running(delay: float) -> Iterator[ConnectionsApi]:
    from benchmarks.paths import REPO_ROOT

    process = subprocess.Popen([sys.executable, "-m", "benchmarks.connections_api", "--delay", str(delay)],  # noqa: S603
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield ConnectionsApi(port)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.connections_api", description=__doc__)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds before each post is answered")
    asyncio.run(_serve(parser.parse_args().delay))


if __name__ == "__main__":
    main()
