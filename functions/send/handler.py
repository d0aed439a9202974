"""``send``: store a message under the next sequence number (or recognise a resend), deliver it to every
member's open connections and the unread event to those it did not reach, handing what it cannot finish
in time to the delivery queue, and answer with an ack: once a message is stored, its sender gets one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.attachments import DeclaredAttachment
from parley.edge import Caller, run_route
from parley.models import MessageBody
from parley.observability import count_delivery, logger, metrics, tracer
from parley.protocol.messages import AckFrame, CompactAckFrame, SendRequest, ack_frame
from parley.wiring import services


def send(caller: Caller, raw: dict[str, Any]) -> AckFrame | CompactAckFrame:
    request = SendRequest.model_validate(raw)
    app = services()
    attachments = app.attachments.verify(caller.user_id, request.conversation_id, [
        DeclaredAttachment(key=a.key, content_type=a.content_type, size=a.size, width=a.width, height=a.height)
        for a in request.body.attachments]) if request.body.attachments else None
    body = MessageBody(text=request.body.text, attachments=attachments, e2e=request.body.e2e)
    sent = app.messaging.send(caller.user_id, request.conversation_id, request.client_msg_id, body,
                              last_seq=request.last_seq, reply_to=request.reply_to, mentions=request.mentions or ())
    report = app.delivery.deliver_sent(sent, caller.connection_id, caller.deadline_s)
    message = report.message if report else sent.message
    count_delivery(report)
    metrics.add_metric(name="DuplicateSends" if sent.duplicate else "MessagesSent", unit="Count", value=1)
    return ack_frame(message, caller.frame_format, ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, send, limit="send", context=context)
