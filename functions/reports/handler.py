"""``report``: a member reports a message; it is stored and published for the host app's moderators."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.safety import ReportedFrame, ReportRequest
from parley.wiring import services


def report(caller: Caller, raw: dict[str, Any]) -> ReportedFrame:
    request = ReportRequest.model_validate(raw)
    services().reports.report(caller.user_id, request.conversation_id, request.seq, request.reason)
    metrics.add_metric(name="Reports", unit="Count", value=1)
    return ReportedFrame(conversation_id=request.conversation_id, seq=request.seq, ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, report, limit="report")
