"""``block``, ``unblock`` and ``listBlocks``: the caller's own block list."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.safety import BlockRequest, BlocksFrame, ListBlocksRequest
from parley.wiring import services


def blocks(caller: Caller, raw: dict[str, Any]) -> BlocksFrame:
    blocking = services().blocking
    if raw.get("action") == "listBlocks":
        listing = ListBlocksRequest.model_validate(raw)
        return BlocksFrame(user_ids=blocking.blocked(caller.user_id), ref=listing.request_id)
    request = BlockRequest.model_validate(raw)
    if request.action == "block":
        blocking.block(caller.user_id, request.user_id)
    else:
        blocking.unblock(caller.user_id, request.user_id)
    metrics.add_metric(name="Blocks" if request.action == "block" else "Unblocks", unit="Count", value=1)
    return BlocksFrame(user_ids=blocking.blocked(caller.user_id), ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, blocks, limit="block")
