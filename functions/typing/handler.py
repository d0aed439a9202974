"""``typing``: relays a typing indicator to the other members; nothing is stored or answered."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.presence import TypingRequest
from parley.wiring import services


def typing(caller: Caller, raw: dict[str, Any]) -> None:
    request = TypingRequest.model_validate(raw)
    relayed = services().typing.typing(caller.user_id, request.conversation_id)
    metrics.add_metric(name="TypingRelayed" if relayed else "TypingDropped", unit="Count", value=1)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, typing, limit="typing")
