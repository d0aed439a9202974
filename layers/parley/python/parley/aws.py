"""Lazily created, cached boto3 clients. A client made before moto starts would not be mocked, so
nothing creates one at import time. ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` (read by boto3
itself) point Parley at moto, DynamoDB Local or another endpoint."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=64,
                 connect_timeout=2, read_timeout=5)


_LOCK = threading.Lock()  # a boto3 session is not thread-safe (fan-out threads make clients too)


@cache
def _session() -> boto3.session.Session:
    """One session for every client: it loads botocore's data (endpoints, the service list) once, where a
    session per client loads it again for each, on the first invocation's critical path."""
    return boto3.session.Session()


@cache
def client(service: str, endpoint_url: str | None = None, max_pool_connections: int | None = None) -> Any:
    """One client per service and endpoint for the process, from one shared session. ``max_pool_connections``:
    HTTP connections kept alive (default 64): at least the threads that call it at once, or it opens a new one
    (a TLS handshake) per call past it."""
    config = _CONFIG if max_pool_connections is None else _CONFIG.merge(
        Config(max_pool_connections=max_pool_connections))
    with _LOCK:
        return _session().client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests start moto per test)."""
    client.cache_clear()
    _session.cache_clear()
