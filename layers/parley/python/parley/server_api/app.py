"""The server API's application: the resolver, its routers, the mapping of errors to HTTP answers, and the
audit entry every call leaves.

Every answer that is not a success is ``{"error": {"code": ..., "message": ...}}`` with the error's HTTP status
(``parley.errors``); a refused request changes nothing. Every call, answered or refused, is recorded in the
audit log after it is answered (``handle``).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import audit
from parley.errors import (
    ForbiddenError,
    InvalidRequestError,
    ParleyError,
    RouteNotFoundError,
    UnauthorizedError,
    error_code,
    error_message,
    http_status,
)
from parley.observability import logger, metrics
from parley.server_api import audit as audit_routes
from parley.server_api import callers, console, conversations, messages, moderation, users

TITLE = "Parley server API"
VERSION = "1"
# A path in an audit entry of a call that matched no route is cut to this many characters.
UNMATCHED_PATH_MAX = 200

# ``/console/v1/...`` is ``/v1/...`` called by an operator of the admin console: the same routes, no copy.
app = APIGatewayHttpResolver(enable_validation=True, strip_prefixes=[callers.CONSOLE_PREFIX])
for module in (conversations, messages, audit_routes, moderation, users, console):
    app.include_router(module.router)


def error_body(exc: BaseException) -> str:
    return json.dumps({"error": {"code": error_code(exc), "message": error_message(exc)}})


def error_response(exc: BaseException) -> Response[str]:
    return Response(status_code=http_status(exc), content_type=content_types.APPLICATION_JSON, body=error_body(exc))


def _note_route() -> None:
    """The matched route's method and path pattern (``POST /v1/conversations/direct``): the audit entry's
    operation. Read while the resolver still holds it."""
    route = app.context.get("_route")
    if route is not None:
        audit.note_operation(f"{route.method} {route.path.replace('<', '{').replace('>', '}')}")


def _route_noted(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    _note_route()
    return next_middleware(app)


app.use(middlewares=[_route_noted])


@app.exception_handler(ParleyError)
def _refused(exc: ParleyError) -> Response[str]:
    _note_route()
    logger.info("server API request refused", extra={"code": exc.code})
    return error_response(exc)


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError) -> Response[str]:
    _note_route()
    return error_response(InvalidRequestError(validation_message(exc.errors())))


@app.not_found
def _no_route(exc: Exception) -> Response[str]:
    return error_response(RouteNotFoundError())


@app.exception_handler(Exception)
def _failed(exc: Exception) -> Response[str]:
    _note_route()
    logger.exception("server API request failed")
    return error_response(exc)


def validation_message(errors: Any) -> str:
    """Where and what, never the offending value (it may be a message's text)."""
    parts = []
    for err in list(errors)[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def _refusal(exc: ParleyError) -> dict[str, Any]:
    """A refusal before the resolver runs, as the Lambda proxy answer; the body is ``error_response``'s."""
    return {"statusCode": http_status(exc), "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": error_body(exc)}


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one API Gateway HTTP API (v2) event, then record the call in the audit log.

    The caller is checked first, on every call: an IAM principal under ``/v1``, a console operator under
    ``/console`` who must be in the admins group (docs/admin.md, "Signing in"). A caller without an identity fit
    for the path is refused unrecorded (as API Gateway's authorizers refuse it); a console operator outside the
    group is refused with ``forbidden``, nothing runs, and the refusal is recorded."""
    from parley.config import get_settings

    audit.begin_call()
    http = (event.get("requestContext") or {}).get("http") or {}
    audit.note_operation(f"{http.get('method', '?')} {str(http.get('path', '?'))[:UNMATCHED_PATH_MAX]} (no route)")
    try:
        caller = callers.identify(event, admin_group=get_settings().console_admin_group)
    except UnauthorizedError as exc:
        return _refusal(exc)
    logger.append_keys(caller=caller.name)
    audit.note_caller(caller.name)
    request_id = (event.get("requestContext") or {}).get("requestId")
    if not caller.admin:
        logger.info("console request refused: not in the admins group")
        _record(caller.name, ForbiddenError.http_status, request_id)
        return _refusal(ForbiddenError("The console is for members of the admins group only."))
    answer = app.resolve(event, context)
    status = int(answer.get("statusCode", 500))
    metrics.add_metric(name="ServerApiCalls", unit="Count", value=1)
    _record(caller.name, status, request_id)
    return answer


def _record(caller: str, status: int, request_id: str | None) -> None:
    """A failed audit write does not undo the call it records (that is done); it is logged and counted
    (metric ``AuditWriteFailures``, docs/server-api.md "Audit")."""
    from parley.wiring import audit_log

    try:
        audit_log().record(caller=caller, operation=audit.current_operation(), status=status,
                           targets=audit.collected_targets(), request_id=request_id)
    except Exception:
        logger.exception("the audit entry of a server API call could not be written")
        metrics.add_metric(name="AuditWriteFailures", unit="Count", value=1)
