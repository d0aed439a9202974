"""``edit``, ``delete`` and ``react``: change a message in place, store the change as an entry of the
conversation's stream, deliver it live to the members, and answer with ``changed``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.errors import UnknownActionError
from parley.message_changes import ChangeOutcome
from parley.observability import count_delivery, logger, metrics, tracer
from parley.protocol.changes import ChangedFrame, DeleteRequest, EditRequest, ReactRequest
from parley.wiring import services


def changes(caller: Caller, raw: dict[str, Any]) -> ChangedFrame:
    app = services()
    action = raw.get("action")
    if action == "edit":
        edit = EditRequest.model_validate(raw)
        outcome = app.message_changes.edit(caller.user_id, edit.conversation_id, edit.seq, edit.text, edit.e2e)
        ref = edit.request_id
    elif action == "delete":
        delete = DeleteRequest.model_validate(raw)
        outcome = app.message_changes.delete(caller.user_id, delete.conversation_id, delete.seq)
        ref = delete.request_id
    elif action == "react":
        react = ReactRequest.model_validate(raw)
        outcome = app.message_changes.react(caller.user_id, react.conversation_id, react.seq, react.emoji,
                                            remove=react.remove)
        ref = react.request_id
    else:
        raise UnknownActionError()
    _deliver(outcome, caller)
    recorded = outcome.recorded.message.change if outcome.recorded else None
    return ChangedFrame(conversation_id=outcome.conversation_id, kind=outcome.kind.value, target=outcome.target,
                        seq=outcome.entry_seq, count=recorded.count if recorded else None, ref=ref)


def _deliver(outcome: ChangeOutcome, caller: Caller) -> None:
    if outcome.recorded is None or outcome.recorded.duplicate:
        metrics.add_metric(name="ChangesRepeated", unit="Count", value=1)
    else:
        metrics.add_metric(name="MessageChanges", unit="Count", value=1)
    if outcome.recorded is None:
        return
    count_delivery(services().delivery.deliver_sent(outcome.recorded, caller.connection_id, caller.deadline_s))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, changes, limit="changes", context=context)
