"""``read`` (mark a conversation read up to a seq; receipts and counts go out) and ``unreadCounts``
(every unread count, their total and the badge, right after connecting)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.errors import UnknownActionError
from parley.observability import logger, metrics, tracer
from parley.protocol.unread import ReadRequest, UnreadCountsFrame, UnreadCountsRequest, UnreadEntry, UnreadFrame
from parley.wiring import services


def unread(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    app = services()
    if raw.get("action") == "read":
        request = ReadRequest.model_validate(raw)
        summary = app.inbox.read(caller.user_id, caller.connection_id, request.conversation_id, request.seq)
        metrics.add_metric(name="Reads", unit="Count", value=1)
        return UnreadFrame(conversation_id=request.conversation_id, unread=summary.unread,
                           last_read_seq=summary.read_seq, mentions=summary.mentions or None,
                           ref=request.request_id)
    if raw.get("action") == "unreadCounts":
        asked = UnreadCountsRequest.model_validate(raw)
        counts = app.badges.unread_counts(caller.user_id)
        metrics.add_metric(name="UnreadCountQueries", unit="Count", value=1)
        return UnreadCountsFrame(total=counts.total, badge=counts.badge, ref=asked.request_id, conversations=[
            UnreadEntry(conversation_id=s.conversation.conversation_id, unread=s.unread,
                        last_read_seq=s.read_seq, last_seq=s.last_seq, mentions=s.mentions)
            for s in counts.conversations])
    raise UnknownActionError()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, unread, limit="read")
