"""``$default``: every frame whose action matches no route gets an error frame saying why. (``ping`` never
comes here: API Gateway answers it itself, parley.routes.GATEWAY_ANSWERS.)"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.errors import InvalidFrameError, UnknownActionError
from parley.observability import logger, metrics, tracer


def default(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    metrics.add_metric(name="UnknownActions", unit="Count", value=1)
    action = raw.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidFrameError("action: a frame needs a string action")
    raise UnknownActionError("Unknown action; see docs/protocol.md for the actions this server knows.")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, default)
