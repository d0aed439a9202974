"""moto's server in a process of its own: ``python -m local.moto_server --port N`` (started by
``local.backend.MotoBackend``, not by hand).

A process of its own gives moto's request handling a core of its own: in the stack's process it shared
one interpreter lock with the gateway, the handlers and their boto3 clients, and it was the larger half
of the work. What it serves is moto's, with three local touches: requests are served one at a time (see
:func:`serialized`), ``GET /_parley/pushes`` answers the stack's view of the pushes (``local.push``), and
a Query looks at its partition only (``local.partition_queries``: the same answers, sooner).

The protocol with the stack: the process binds 127.0.0.1, writes one JSON line to stdout (``{"port": N}``,
or ``{"errno": E, "error": "..."}`` when it cannot bind) and serves until its stdin ends. Its stdin ends
when the stack stops it, and also when the stack's process dies, so moto never outlives the stack. It
runs in a process group of its own: Ctrl-C in the terminal reaches the stack, which stops moto last,
after the connections' ``$disconnect`` handlers have used it.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from local.settings import LOOPBACK

log = logging.getLogger("parley.local.moto")

# SQS long polls wait on the queue (moto's own condition variable) for up to 20 s: they run outside the lock.
_LONG_POLL_TARGET = "AmazonSQS.ReceiveMessage"
_LISTEN_BACKLOG = 128


def with_views(app: Callable[..., Any], views: Mapping[str, Callable[[], Any]]) -> Callable[..., Any]:
    """``GET <path>`` of a view answers its JSON (the stack's own read-only views of moto's state); every
    other request goes to moto."""
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        view = views.get(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "GET" else None
        if view is None:
            return app(environ, start_response)
        body = json.dumps(view()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def serialized(app: Callable[..., Any]) -> Callable[..., Any]:
    """One request at a time. moto checks a ConditionExpression and writes in two Python steps, so
    concurrent requests could both pass ``attribute_not_exists``; DynamoDB makes that atomic.

    SQS ``ReceiveMessage`` is the exception: a long poll holding the lock would stall every other service.
    It only reads the queue and marks messages received; the writes that race with it (deliveries from
    S3 and SNS, ``DeleteMessage``) still take the lock among themselves."""
    lock = threading.Lock()

    def materialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") == _LONG_POLL_TARGET:
            return materialized(environ, start_response)
        with lock:
            return materialized(environ, start_response)

    return wsgi


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(_LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


class _Readiness:
    """The one line the stack waits for, on what was stdout. Everything else this process prints goes to
    stderr from the start, so that nothing else ever lands in that pipe."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._pipe = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def report(self, answer: dict[str, Any]) -> None:
        self._pipe.write(json.dumps(answer) + "\n")
        self._pipe.close()


def serve(port: int, readiness: _Readiness) -> int:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from local.partition_queries import partition_scoped_queries
    from local.push import PUSHES_PATH, pushes_view

    class RequestHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # werkzeug formats its access line (date, decoded path) before the logger drops it
            if logging.getLogger("werkzeug").isEnabledFor(logging.INFO):
                super().log_request(code, size)

    try:
        sock = _listening_socket(port)
    except OSError as exc:
        reason = f"port {port} is in use" if exc.errno == errno.EADDRINUSE else str(exc)
        readiness.report({"errno": exc.errno, "error": reason})
        return 1
    app = serialized(with_views(DomainDispatcherApplication(create_backend_app), {PUSHES_PATH: pushes_view}))
    with sock, partition_scoped_queries():
        server = make_server(LOOPBACK, sock.getsockname()[1], app, threaded=True, request_handler=RequestHandler,
                             fd=sock.fileno())
        serving = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
        serving.start()
        readiness.report({"port": server.server_address[1]})
        sys.stdin.buffer.read()  # until the stack closes it, or its process is gone
        server.shutdown()
        serving.join()
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.moto_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    readiness = _Readiness()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    return serve(args.port, readiness)


if __name__ == "__main__":
    sys.exit(main())
