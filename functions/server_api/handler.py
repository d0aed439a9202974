"""The server API (HTTP API, IAM-authorized): every route of ``/v1/...`` for the host app's backend. The
routing, the error mapping and the audit entry of each call are in ``parley.server_api.app``. The same function
is the worker of the jobs queue (erasure and export batches, ``parley.server_api.worker``): an SQS event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.server_api.app import handle
from parley.server_api.worker import handle_queue, is_queue_event


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_queue_event(event):
        return handle_queue(event, context)
    return handle(event, context)
