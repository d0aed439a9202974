"""Invoking the real handlers the way Lambda does, one at a time, and measuring each invocation.

Handlers are loaded by path (``tests.support.handlers``), events are API-Gateway-shaped
(``tests.support.events``), and the context is the tests' fake ``LambdaContext``. Per invocation:
wall time, process CPU (every thread: fan-out runs in a pool) and the part of it in-process moto spent
answering (``benchmarks.duration``), the AWS calls the ``Meter`` saw and how they ran (``benchmarks.lanes``),
the bytes and lines the function wrote to its log (Powertools' JSON logs and EMF metrics, what CloudWatch
Logs ingests), and the API Gateway messages of the route itself (the inbound frame and the route response).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks import duration, lanes
from benchmarks.metering import AwsCall, Meter, Totals, apigw_messages
from parley.observability import logger
from tests.support.handlers import handler_module
from tests.support.lambda_context import FakeLambdaContext


class _CountingStream(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0  # one CloudWatch Logs event each (Powertools writes one JSON object per line)

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)


@dataclass
class Invocation:
    function: str
    wall_s: float
    cpu_s: float  # the whole process, every thread
    calls: list[AwsCall]
    response: Any
    log_bytes: int
    inbound_messages: int  # API Gateway messages into the route (0: not invoked by API Gateway)
    response_messages: int  # the route response frame, when it has a body
    log_lines: int = 0
    server_cpu_s: float = 0.0  # what in-process moto spent answering this invocation's calls
    lane: lanes.Lane | None = None  # how its calls ran: in turn, or side by side in a pool
    response_bytes: int = 0  # the route response's payload (sent to the client)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.calls)

    @property
    def aws_cpu_s(self) -> float:
        return sum(c.thread_cpu_s for c in self.calls)

    @property
    def own_cpu_s(self) -> float:
        """Our code's CPU: the process's CPU minus what was spent inside AWS calls (with in-process moto,
        moto's own work is inside them too)."""
        return max(0.0, self.cpu_s - self.aws_cpu_s)

    @property
    def lambda_cpu_s(self) -> float:
        """The CPU the function itself needs: its code, Powertools, pydantic and botocore's client side (the
        process's CPU minus moto's server-side work)."""
        return max(0.0, self.cpu_s - self.server_cpu_s)

    @property
    def waited_ms(self) -> float:
        """Modelled time waiting on AWS calls (``benchmarks.duration.LATENCIES``, pools in parallel)."""
        return duration.wait_ms(self.lane) if self.lane is not None else 0.0

    def billed_ms(self, memory_mb: int) -> int:
        """Modelled billed duration at ``memory_mb`` (``benchmarks.duration``); never this machine's wall time."""
        return duration.billed_ms(self.lambda_cpu_s, self.waited_ms, memory_mb)


@contextlib.contextmanager
def captured_output() -> Iterator[_CountingStream]:
    """Counts (and swallows) what a handler writes: Powertools' log handler and EMF metrics on stdout."""
    stream = _CountingStream()
    handler = logger.registered_handler
    stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
    previous = stream_handler.setStream(stream) if stream_handler is not None else None
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(stream):
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            yield stream
    finally:
        if stream_handler is not None and previous is not None:
            stream_handler.setStream(previous)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic GC is paused during an invocation and run after it: here the heap holds moto's whole
    store (hundreds of thousands of items with the preloaded users), so a collection inside an invocation
    would cost far more CPU than on a Lambda's small heap, and land in the invocation's own CPU."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def invoke(meter: Meter, function: str, event: dict[str, Any]) -> Invocation:
    module = handler_module(function)
    mark = meter.mark()
    with captured_output() as stream, lanes.lane() as lane, gc_paused():
        server0 = duration.SERVER_CPU.seconds
        cpu0, wall0 = time.process_time(), time.perf_counter()
        response = module.lambda_handler(event, FakeLambdaContext())
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        server = duration.SERVER_CPU.seconds - server0
    inbound = response_frames = response_bytes = 0
    if "requestContext" in event and "body" in event:  # a message route: the frame in, the answer out
        inbound = apigw_messages(len(str(event["body"]).encode()))
        if isinstance(response, dict) and response.get("body"):
            response_bytes = len(str(response["body"]).encode())
            response_frames = apigw_messages(response_bytes)
    return Invocation(function=function, wall_s=wall, cpu_s=cpu, calls=meter.since(mark), response=response,
                      log_bytes=stream.bytes, inbound_messages=inbound, response_messages=response_frames,
                      log_lines=stream.lines, server_cpu_s=server, lane=lane, response_bytes=response_bytes)


def sns_event(publish_params: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The event SNS gives a subscribed Lambda for a ``Publish`` to a topic (what the notifier receives)."""
    attributes = {name: {"Type": value.get("DataType", "String"), "Value": value.get("StringValue")}
                  for name, value in (publish_params.get("MessageAttributes") or {}).items()}
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{publish_params['TopicArn']}:subscription",
        "Sns": {"Type": "Notification", "MessageId": message_id, "TopicArn": publish_params["TopicArn"],
                "Subject": None, "Message": publish_params["Message"],
                "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertUrl": "https://example.invalid/cert",
                "UnsubscribeUrl": "https://example.invalid/unsubscribe", "MessageAttributes": attributes},
    }]}


def route_body(invocation: Invocation) -> dict[str, Any]:
    """The JSON frame a route answered with ({} when it answered nothing)."""
    response = invocation.response
    if not isinstance(response, dict) or not response.get("body"):
        return {}
    body: dict[str, Any] = json.loads(response["body"])
    return body


def is_ack(answer: dict[str, Any]) -> bool:
    """Whether a route's answer is an ``ack``, in either frame format (compact: ``t``; full: ``type``)."""
    return answer.get("t", answer.get("type")) == "ack"
