"""``requestUpload`` (a presigned S3 POST scoped to a key under the conversation) and ``attachmentUrls``
(short-lived download URLs, for members only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.attachments import (
    AttachmentUrl,
    AttachmentUrlsFrame,
    AttachmentUrlsRequest,
    RequestUploadRequest,
    UploadFrame,
)
from parley.wiring import services


def uploads(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    attachments = services().attachments
    if raw.get("action") == "attachmentUrls":
        request = AttachmentUrlsRequest.model_validate(raw)
        links, expires_at = attachments.links(caller.user_id, request.conversation_id, request.keys)
        return AttachmentUrlsFrame(conversation_id=request.conversation_id, expires_at=expires_at,
                                   ref=request.request_id, attachments=[
            AttachmentUrl(key=link.key, url=link.url, thumbnail_url=link.thumbnail_url,
                          preview=link.record.preview if link.record else None,
                          width=link.record.width if link.record else None,
                          height=link.record.height if link.record else None) for link in links])
    upload = RequestUploadRequest.model_validate(raw)
    ticket = attachments.request_upload(caller.user_id, upload.conversation_id, upload.content_type, upload.size)
    metrics.add_metric(name="UploadsRequested", unit="Count", value=1)
    return UploadFrame(conversation_id=upload.conversation_id, key=ticket.key, url=ticket.url, fields=ticket.fields,
                       expires_at=ticket.expires_at, ref=upload.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, uploads, limit="uploads")
