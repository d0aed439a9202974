"""``history``: a page of a conversation's messages in sequence order; ``after`` is the catch-up call."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.messages import HistoryFrame, HistoryRequest, entry_frame
from parley.wiring import services


def history(caller: Caller, raw: dict[str, Any]) -> HistoryFrame:
    request = HistoryRequest.model_validate(raw)
    page = services().messaging.history(caller.user_id, request.conversation_id, before=request.before,
                                        after=request.after, limit=request.limit)
    metrics.add_metric(name="HistoryPages", unit="Count", value=1)
    return HistoryFrame(conversation_id=request.conversation_id, has_more=page.has_more, next_seq=page.next_seq,
                        messages=[entry_frame(m, caller.frame_format, reader=caller.user_id, quoted=page.quotes)
                                  for m in page.messages],
                        ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, history, limit="history")
