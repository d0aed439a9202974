"""``GET /v1/audit``: the audit log of the server API, by time range, by target or by caller, newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from parley.audit import PAGE_MAX, AuditEntry
from parley.clock import now_ms
from parley.server_api.base import ApiModel
from parley.wiring import audit_log

router = APIGatewayHttpRouter()

# Without ``from``: the last 7 days.
DEFAULT_RANGE_MS = 7 * 86_400_000


class AuditPageResponse(ApiModel):
    entries: list[AuditEntry]
    cursor: str | None = Field(default=None, description="Pass it back for the next page; absent: the last page.")


@router.get("/v1/audit", summary="Read the audit log", tags=["audit"])
def read_audit(
    start: Annotated[int | None, Query(alias="from", ge=0, description="Epoch ms (default: `to` - 7 days).")] = None,
    end: Annotated[int | None, Query(alias="to", ge=0, description="Epoch ms, included (default: now).")] = None,
    target: Annotated[str | None, Query(min_length=3, max_length=300,
                                        description="Only entries naming this target, `<kind>:<id>`, "
                                                    "e.g. `user:alice`, `conversation:g_x`.")] = None,
    caller: Annotated[str | None, Query(min_length=1, max_length=300,
                                        description="Only entries of this caller: an IAM principal's ARN, or "
                                                    "`console:<username>` for a console operator.")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> AuditPageResponse:
    """Entries newest first. Reading the log is itself a call, and is recorded too."""
    upper = now_ms() if end is None else end
    lower = max(0, upper - DEFAULT_RANGE_MS) if start is None else start
    log = audit_log()
    if target:
        page = log.by_target(target, start=lower, end=upper, limit=limit, cursor=cursor, caller=caller)
    elif caller:
        page = log.by_caller(caller, start=lower, end=upper, limit=limit, cursor=cursor)
    else:
        page = log.by_time(start=lower, end=upper, limit=limit, cursor=cursor)
    return AuditPageResponse(entries=list(page.entries), cursor=page.cursor)
