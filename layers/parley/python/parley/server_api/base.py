"""What every server API model shares: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from parley.observability import count_delivery

if TYPE_CHECKING:
    from parley.messaging import SendOutcome


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              defer_build=True)


def invocation_deadline(context: Any) -> float | None:
    """When this invocation's time is up (``time.monotonic()`` seconds), if the Lambda context says."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return time.monotonic() + remaining() / 1000 if callable(remaining) else None


def delivered(sent: SendOutcome | None, context: Any) -> None:
    """Deliver what a route stored (a system message, a group change) like a member's send does: live to
    members' connections within the time budget, the rest to the delivery queue, the unread event (push) to
    those not reached."""
    if sent is None:
        return
    from parley.wiring import services

    count_delivery(services().delivery.deliver_sent(sent, None, invocation_deadline(context)))


def checked_user_id(value: str, where: str) -> str:
    """A user id from a path or query (a body's are checked by their model's ``UserId``)."""
    from parley.errors import InvalidRequestError
    from parley.user_ids import RULE, is_user_id

    if not is_user_id(value):
        raise InvalidRequestError(f"{where}: {RULE}")
    return value
