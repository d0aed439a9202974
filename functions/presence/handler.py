"""``presence``: the status of users who share a conversation with the caller (invisible users look offline)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.presence import PresenceEntry, PresenceFrame, PresenceRequest
from parley.wiring import services


def presence(caller: Caller, raw: dict[str, Any]) -> PresenceFrame:
    request = PresenceRequest.model_validate(raw)
    found = services().presence.query(caller.user_id, request.user_ids)
    metrics.add_metric(name="PresenceQueries", unit="Count", value=1)
    return PresenceFrame(users=[PresenceEntry.of(p) for p in found], ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, presence, limit="presence")
