"""``getPreferences``, ``setPreferences`` (visibility, read receipts, notification mode) and
``setConversationPreferences`` (a per-conversation notification override and mute)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.errors import UnknownActionError
from parley.observability import logger, metrics, tracer
from parley.protocol.preferences import (
    ConversationPreferencesFrame,
    GetPreferencesRequest,
    PreferencesFrame,
    SetConversationPreferencesRequest,
    SetPreferencesRequest,
)
from parley.wiring import services


def preferences(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    app = services().preferences
    action = raw.get("action")
    metrics.add_metric(name="PreferenceRequests", unit="Count", value=1)
    if action == "getPreferences":
        get = GetPreferencesRequest.model_validate(raw)
        return PreferencesFrame.of(app.get(caller.user_id), ref=get.request_id)
    if action == "setPreferences":
        update = SetPreferencesRequest.model_validate(raw)
        profile = app.update(caller.user_id, visibility=update.visibility,
                             hide_read_receipts=update.hide_read_receipts, notify=update.notify)
        return PreferencesFrame.of(profile, ref=update.request_id)
    if action == "setConversationPreferences":
        conv = SetConversationPreferencesRequest.model_validate(raw)
        fields = conv.model_fields_set & {"notify", "muted_until"}
        membership = app.update_conversation(caller.user_id, conv.conversation_id, notify=conv.notify,
                                             muted_until=conv.muted_until, fields=fields)
        return ConversationPreferencesFrame.of(membership, ref=conv.request_id)
    raise UnknownActionError()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, preferences, limit="preferences")
