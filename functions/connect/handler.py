"""``$connect``: runs after the authorizer accepted the token; records the connection (with the frame format
the authorizer passed on) and, for the user's first open connection, tells their contacts they are online
(unless invisible)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_lifecycle
from parley.observability import logger, metrics, tracer
from parley.wiring import services


def connect(caller: Caller) -> None:
    app = services()
    app.connections.connect(caller.user_id, caller.connection_id, caller.frame_format)
    app.presence.connected(caller.user_id, caller.connection_id)
    metrics.add_metric(name="Connections", unit="Count", value=1)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_lifecycle(event, connect)
