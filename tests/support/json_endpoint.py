"""A tiny JSON HTTP endpoint on 127.0.0.1 for tests that need a real server (a JWKS URL, a Lambda Invoke
endpoint): every GET or POST is answered with ``endpoint.answer`` after ``endpoint.delay`` seconds."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JsonEndpoint:
    url: str = ""
    answer: Any = field(default_factory=dict)
    delay: float = 0.0
    requests: int = 0


@contextmanager
def json_endpoint(answer: Any = None) -> Iterator[JsonEndpoint]:
    endpoint = JsonEndpoint(answer=answer if answer is not None else {})

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            endpoint.requests += 1
            time.sleep(endpoint.delay)
            body = json.dumps(endpoint.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
