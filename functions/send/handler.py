"""``send``: store a message under the next sequence number, deliver it to every member's open
connections, publish one unread event for the members who are offline, and answer with an ack."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.attachments import DeclaredAttachment
from parley.clock import now_ms
from parley.edge import Caller, run_route
from parley.models import MessageBody
from parley.observability import logger, metrics, tracer
from parley.protocol import AckFrame, MessageFrame, SendRequest
from parley.wiring import services


def send(caller: Caller, raw: dict[str, Any]) -> AckFrame:
    request = SendRequest.model_validate(raw)
    app = services()
    attachments = app.attachments.verify(caller.user_id, request.conversation_id, [
        DeclaredAttachment(key=a.key, content_type=a.content_type, size=a.size, width=a.width, height=a.height)
        for a in request.body.attachments]) if request.body.attachments else None
    outcome = app.messaging.send(caller.user_id, request.conversation_id, request.client_msg_id,
                                 MessageBody(text=request.body.text, attachments=attachments))
    message = app.attachments.link(outcome.message) if attachments and not outcome.duplicate else outcome.message
    if not outcome.duplicate and app.fanout is not None:
        result = app.fanout.deliver(outcome.recipients, MessageFrame.of(message).to_json().encode(), now_ms(),
                                    exclude_connection=caller.connection_id)
        metrics.add_metric(name="Deliveries", unit="Count", value=result.delivered)
        metrics.add_metric(name="StaleConnections", unit="Count", value=result.stale)
        offline = [u for u in result.unreached if u != caller.user_id]
        if offline and app.unread_events is not None:  # one publish per message, never one per recipient
            app.unread_events.publish(message, outcome.conversation, offline)
    metrics.add_metric(name="DuplicateSends" if outcome.duplicate else "MessagesSent", unit="Count", value=1)
    return AckFrame(client_msg_id=message.client_msg_id, conversation_id=message.conversation_id,
                    seq=message.seq, message_id=message.message_id, sent_at=message.sent_at)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, send, limit="send")
