"""Logger, Tracer and Metrics singletons, created once for every handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "parley"


class ContentFreeTracer(Tracer):
    """Powertools' Tracer without the handler's response or exception in X-Ray.

    Powertools records both as subsegment metadata by default. A response can be a history page or a
    ``lastMessage``, an exception can quote its input: message text would end up in X-Ray, kept there for
    30 days for anyone who may read the account's traces. So ``@tracer.capture_lambda_handler`` never
    records them here, and asking for it is an error (docs/security.md, trust boundaries)."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[[Any, Any], Any] | Callable[[Any, Any, Any], Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        if capture_response or capture_error:
            raise ValueError("a Parley handler's response and exceptions may carry message text: never traced")
        return super().capture_lambda_handler(lambda_handler, capture_response=False, capture_error=False)


logger = Logger(service=SERVICE)
tracer = ContentFreeTracer(service=SERVICE)
metrics = Metrics(namespace="Parley", service=SERVICE)
