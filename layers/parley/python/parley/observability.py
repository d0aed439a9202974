"""Logger, Tracer and Metrics singletons, created once for every handler."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from parley.config import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from parley.delivery import DeliveryReport

SERVICE = "parley"

Handler = Callable[[Any, Any], Any]


class ContentFreeTracer:
    """X-Ray subsegments only when ``PARLEY_XRAY_SUBSEGMENTS`` asks for them, and never the handler's
    response or exception.

    Off (the default), the X-Ray SDK is not even imported: Lambda's active tracing still records every
    invocation (its segment, duration, cold start and errors), at no import cost (docs/deploying.md "Logs
    and traces"). On, Powertools' Tracer adds a subsegment per invocation and, with botocore patched (no
    other library), one per AWS call; it is built on the first traced invocation.

    Powertools records a handler's response and exception as subsegment metadata by default. A response can
    be a history page or a ``lastMessage``, an exception can quote its input: message text would end up in
    X-Ray, kept there for 30 days for anyone who may read the account's traces. So this tracer never records
    them, and asking for it is an error (docs/security.md, trust boundaries)."""

    def capture_lambda_handler(self, lambda_handler: Handler | None = None, capture_response: bool | None = None,
                               capture_error: bool | None = None) -> Any:
        if capture_response or capture_error:
            raise ValueError("a Parley handler's response and exceptions may carry message text: never traced")
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler)
        handler = lambda_handler
        traced: list[Handler] = []  # the Powertools-wrapped handler, made on the first traced invocation

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            if not get_settings().xray_subsegments:
                return handler(event, context)
            if not traced:
                traced.append(sdk_tracer().capture_lambda_handler(handler, capture_response=False,
                                                                  capture_error=False))
            return traced[0](event, context)

        return run


@functools.cache
def sdk_tracer() -> Tracer:
    """Powertools' Tracer, patching botocore only (Powertools' default, ``patch_all``, patches 13 libraries)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=("botocore",))


logger = Logger(service=SERVICE)
tracer = ContentFreeTracer()


class _Metrics(Metrics):
    """Powertools' Metrics; on the local stack (``PARLEY_CONSOLE_METRICS=local``) each metric is also counted in
    memory, for the admin console's overview (``parley.figures``)."""

    def add_metric(self, name: str, unit: Any, value: float, resolution: Any = 60) -> None:
        super().add_metric(name=name, unit=unit, value=value, resolution=resolution)
        if get_settings().console_metrics == "local":
            from parley.figures import local_counters

            local_counters.add(name, value)


metrics = _Metrics(namespace="Parley", service=SERVICE)
if get_settings().deployment:  # dev and prod in one account: each its own series of every metric
    metrics.set_default_dimensions(deployment=get_settings().deployment)


def count_delivery(report: DeliveryReport | None) -> None:
    """The metrics of one delivery (``parley.delivery``), the same set whichever route stored the message
    (docs/deploying.md "Metrics"): ``Deliveries`` and ``StaleConnections``, and ``DeliveriesHandedOff`` only
    when the rest went to the delivery queue (rare: CloudWatch sums an absent line as none). Here, not in
    ``parley.delivery``, so that a handler counting one does not import the delivery's frames at cold start."""
    if report is None:
        return
    metrics.add_metric(name="Deliveries", unit="Count", value=report.delivered)
    metrics.add_metric(name="StaleConnections", unit="Count", value=report.stale)
    if report.handed_off:
        metrics.add_metric(name="DeliveriesHandedOff", unit="Count", value=1)
