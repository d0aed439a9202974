"""``$disconnect``: removes the connection record (best effort in API Gateway; the TTL covers misses) and,
if it was the user's last, tells their contacts they went offline (unless invisible) and sets their badge
exactly, the count the next push starts from (``parley.badges``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_lifecycle
from parley.observability import logger, metrics, tracer
from parley.wiring import services


def disconnect(caller: Caller) -> None:
    app = services()
    app.connections.disconnect(caller.user_id, caller.connection_id)
    for profile in app.presence.disconnected([caller.user_id]):
        app.badges.recompute(profile)
    metrics.add_metric(name="Disconnections", unit="Count", value=1)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_lifecycle(event, disconnect)
