"""Group routes: ``addMembers``, ``removeMember``, ``leave``, ``renameGroup``, ``setRole`` and
``setGroupSettings``. Each stores its change (the group, a change entry in its stream, the memberships) in one
transaction, delivers the change entry live like a message, and answers with the group after the change."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from parley.edge import Caller, run_route
from parley.groups import GroupOutcome
from parley.observability import count_delivery, logger, metrics, tracer
from parley.protocol.conversations import ConversationFrame, ConversationInfo
from parley.protocol.groups import (
    AddMembersRequest,
    GroupRequest,
    LeaveRequest,
    RemoveMemberRequest,
    RenameGroupRequest,
    SetRoleRequest,
)
from parley.wiring import services


@cache
def _requests() -> TypeAdapter[GroupRequest]:
    return TypeAdapter(GroupRequest)  # built at the first request, not at import (a cold start's cost)


def groups(caller: Caller, raw: dict[str, Any]) -> ConversationFrame:
    request = _requests().validate_python(raw)
    app = services()
    me, cid = caller.user_id, request.conversation_id
    outcome: GroupOutcome
    if isinstance(request, AddMembersRequest):
        outcome = app.groups.add_members(me, cid, request.user_ids)
    elif isinstance(request, RemoveMemberRequest):
        outcome = app.groups.remove_member(me, cid, request.user_id)
    elif isinstance(request, LeaveRequest):
        outcome = app.groups.leave(me, cid)
    elif isinstance(request, RenameGroupRequest):
        outcome = app.groups.rename(me, cid, request.name)
    elif isinstance(request, SetRoleRequest):
        outcome = app.groups.set_role(me, cid, request.user_id, request.role)
    else:
        outcome = app.groups.set_settings(me, cid, request.history_visibility)
    if outcome.sent is not None:
        count_delivery(app.delivery.deliver_sent(outcome.sent, caller.connection_id, caller.deadline_s))
        metrics.add_metric(name="GroupChanges", unit="Count", value=1)
    return ConversationFrame(conversation=ConversationInfo.of(outcome.conversation),
                             seq=outcome.sent.message.seq if outcome.sent else None, ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, groups, limit="groups", context=context)
