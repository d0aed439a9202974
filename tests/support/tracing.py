"""Powertools' Tracer and the X-Ray SDK as they run in Lambda with active tracing, and what the handlers log.

tests/conftest.py disables tracing for every test (``POWERTOOLS_TRACE_DISABLED``): the Tracer singleton is
built disabled and switches the X-Ray SDK off. ``lambda_tracing`` switches it on the way Lambda runs it (a
facade segment per invocation from ``_X_AMZN_TRACE_ID``, every subsegment streamed out as soon as it ends,
botocore patched), sends every document to a UDP socket on 127.0.0.1 standing in for the X-Ray daemon, and
puts everything back afterwards so that no other test is traced.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client
import botocore.endpoint
import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patcher, xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.streaming.default_streaming import DefaultStreaming

from parley.config import get_settings
from parley.observability import logger
from tests.support.handlers import invoke

HANDLER_SUBSEGMENT = "## lambda_handler"  # the Tracer's subsegment around a handler: the last one to end


class XRayDaemon:
    """What the X-Ray daemon would receive: the SDK's documents over UDP."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.documents: list[str] = []  # JSON text, as sent

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def receive_until_handler_ends(self, trace_id: str) -> None:
        """Receives documents until the handler subsegment of ``trace_id`` arrives: the invocation has sent
        everything then. TimeoutError if it never does (nothing was traced)."""
        self.sock.settimeout(10)
        while True:
            header, _, document = self.sock.recv(65_535).decode().partition("\n")  # {"format":"json",...}\n{...}
            assert json.loads(header)["format"] == "json"
            self.documents.append(document)
            sent = json.loads(document)
            if sent.get("trace_id") == trace_id and sent.get("name") == HANDLER_SUBSEGMENT:
                return


@dataclass
class TracedLambdas:
    """Invokes the real handlers as traced Lambda invocations, each with a trace of its own."""

    daemon: XRayDaemon
    env: pytest.MonkeyPatch
    functions: dict[str, str] = field(default_factory=dict)  # trace id -> the function invoked

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        trace_id = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
        self.functions[trace_id] = function
        self.env.setenv("_X_AMZN_TRACE_ID", f"Root={trace_id};Parent={secrets.token_hex(8)};Sampled=1")
        try:
            return invoke(function, event)
        finally:
            try:
                self.daemon.receive_until_handler_ends(trace_id)
            except TimeoutError:
                pytest.fail(f"{function} sent X-Ray no {HANDLER_SUBSEGMENT!r} subsegment")

    @property
    def documents(self) -> dict[str, list[str]]:
        """Every document each function's invocations sent, by function."""
        by_function: dict[str, list[str]] = {}
        for document in self.daemon.documents:
            function = self.functions[json.loads(document)["trace_id"]]
            by_function.setdefault(function, []).append(document)
        return by_function


@contextmanager
def _botocore_patched() -> Iterator[None]:
    """botocore patched as the Tracer patches it in Lambda with subsegments on (an AWS call becomes a subsegment with
    the parameters the SDK whitelists), unpatched afterwards."""
    if getattr(botocore.client, "_xray_enabled", False):  # patched before us: leave it as it was
        yield
        return
    make_api_call = botocore.client.BaseClient.__dict__["_make_api_call"]
    prepare_request = botocore.endpoint.Endpoint.__dict__["prepare_request"]
    patched_before = set(patcher._PATCHED_MODULES)
    patcher.patch(["botocore"])
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        botocore.endpoint.Endpoint.prepare_request = prepare_request  # type: ignore[method-assign]
        del botocore.client._xray_enabled  # type: ignore[attr-defined]
        patcher._PATCHED_MODULES.intersection_update(patched_before)


@contextmanager
def lambda_tracing() -> Iterator[TracedLambdas]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.MonkeyPatch.context() as mp:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind(("127.0.0.1", 0))
        daemon = XRayDaemon(sock)
        # Lambda's environment with active tracing
        mp.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
        mp.delenv("AWS_XRAY_SDK_ENABLED", raising=False)
        mp.setenv("LAMBDA_TASK_ROOT", "/var/task")
        mp.setenv("AWS_LAMBDA_FUNCTION_NAME", "parley-test")
        mp.setenv("AWS_XRAY_DAEMON_ADDRESS", daemon.address)
        mp.setenv("PARLEY_XRAY_SUBSEGMENTS", "true")  # the only setting that puts Parley's data in traces
        get_settings.cache_clear()
        # what the SDK sets up at import when LAMBDA_TASK_ROOT is set; the emitter reads the daemon address
        mp.setattr(xray_recorder, "context", LambdaContext())
        mp.setattr(xray_recorder, "emitter", UDPEmitter())
        mp.setattr(xray_recorder, "streaming", DefaultStreaming(streaming_threshold=0))
        enabled_before = global_sdk_config.sdk_enabled()
        global_sdk_config.set_sdk_enabled(True)
        try:
            with _botocore_patched():
                yield TracedLambdas(daemon, mp)
        finally:
            global_sdk_config.set_sdk_enabled(enabled_before)
            get_settings.cache_clear()


@contextmanager
def parley_log() -> Iterator[io.StringIO]:
    """Every line Parley's Powertools logger writes (JSON lines on stdout in Lambda), at DEBUG: more than any
    deployment logs (INFO), so that no level can reveal what this one hides."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    level = logger.log_level
    lines = io.StringIO()
    stream: Any = handler.setStream(lines)
    logger.setLevel("DEBUG")
    try:
        yield lines
    finally:
        logger.setLevel(level)
        handler.setStream(stream)
