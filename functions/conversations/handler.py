"""Conversation routes: ``openDirect``, ``createGroup`` and ``listConversations``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.errors import UnknownActionError
from parley.observability import logger, metrics, tracer
from parley.protocol.conversations import (
    ConversationFrame,
    ConversationInfo,
    ConversationsFrame,
    CreateGroupRequest,
    ListConversationsRequest,
    OpenDirectRequest,
)
from parley.wiring import services


def conversations(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    app = services().conversations
    action = raw.get("action")
    metrics.add_metric(name="ConversationRequests", unit="Count", value=1)
    if action == "openDirect":
        direct = OpenDirectRequest.model_validate(raw)
        opened = app.open_direct(caller.user_id, direct.user_id, direct.e2e)
        return ConversationFrame(conversation=ConversationInfo.of(opened), ref=direct.request_id)
    if action == "createGroup":
        group = CreateGroupRequest.model_validate(raw)
        created = app.create_group(caller.user_id, group.members, group.name, group.history_visibility,
                                   group.e2e)
        return ConversationFrame(conversation=ConversationInfo.of(created), ref=group.request_id)
    if action == "listConversations":
        listing = ListConversationsRequest.model_validate(raw)
        page = services().inbox.page(caller.user_id, listing.limit, listing.cursor)
        return ConversationsFrame(conversations=[ConversationInfo.summary(s, caller.frame_format)
                                                 for s in page.conversations],
                                  cursor=page.cursor, ref=listing.request_id)
    raise UnknownActionError()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, conversations, limit="conversations")
