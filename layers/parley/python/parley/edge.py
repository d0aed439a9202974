"""The handlers' edge: turns an API Gateway WebSocket event into a call on the core and the result
(or a domain error) into a route response. Nothing below this module knows about API Gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from parley.authorizer_context import FRAME_FORMAT_KEY, USER_ID_KEY
from parley.errors import (
    BannedError,
    DeliveryHandOffError,
    FrameTooLargeError,
    InvalidFrameError,
    InvalidJsonError,
    OutcomeUnknownError,
    ParleyError,
    TooManyConnectionsError,
    UnauthorizedError,
    error_code,
    error_message,
)
from parley.figures import ERROR_FRAME_METRIC_PREFIX
from parley.models import FrameFormat
from parley.observability import logger, metrics
from parley.protocol.base import MAX_FRAME_BYTES
from parley.protocol.errors import ErrorFrame, FrameRefs
from parley.wiring import services


@dataclass(frozen=True)
class Caller:
    """Who is calling, as API Gateway and the authorizer established it. Never taken from the body."""

    user_id: str
    connection_id: str
    frame_format: FrameFormat = FrameFormat.COMPACT  # how this connection's ack and message frames are written
    # When this invocation's time is up (``time.monotonic()`` seconds), if the Lambda context says.
    deadline_s: float | None = None


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def caller_of(event: dict[str, Any], context: HasRemainingTime | None = None) -> Caller:
    """The caller of an API Gateway WebSocket event: ``requestContext.connectionId`` and what the authorizer
    put in ``requestContext.authorizer`` (plain dict reads: Powertools' event class costs a cold start)."""
    request_context = event.get("requestContext")
    if not isinstance(request_context, dict):
        raise UnauthorizedError()
    authorizer = request_context.get("authorizer") or {}
    user_id = authorizer.get(USER_ID_KEY) if isinstance(authorizer, dict) else None
    connection_id = request_context.get("connectionId")
    if not isinstance(user_id, str) or not user_id or not isinstance(connection_id, str) or not connection_id:
        raise UnauthorizedError()
    logger.append_keys(connection_id=connection_id, user_id=user_id)
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 if context is not None else None
    return Caller(user_id=user_id, connection_id=connection_id, frame_format=_frame_format(authorizer),
                  deadline_s=deadline)


def _frame_format(authorizer: Any) -> FrameFormat:
    """The format the authorizer passed. A connection authorized before formats existed has none: its client
    expects every field."""
    chosen = authorizer.get(FRAME_FORMAT_KEY) if isinstance(authorizer, dict) else None
    return FrameFormat(chosen) if chosen in tuple(FrameFormat) else FrameFormat.FULL


def parse_frame(body: str | None) -> dict[str, Any]:
    if not body:
        raise InvalidFrameError("The frame is empty.")
    if len(body.encode()) > MAX_FRAME_BYTES:
        raise FrameTooLargeError(f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidJsonError() from None
    except ValueError:  # valid JSON, but a number of more digits than Python converts (4300): out of any range
        raise InvalidFrameError("A number in the frame has too many digits.") from None
    if not isinstance(raw, dict):
        raise InvalidFrameError("A frame must be a JSON object.")
    return raw


def validation_message(exc: ValidationError) -> str:
    """Where and what, never the offending value (it may be a message body)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "frame"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def response(frame: BaseModel) -> dict[str, Any]:
    body = frame.to_json() if hasattr(frame, "to_json") else frame.model_dump_json(by_alias=True)
    return {"statusCode": 200, "body": body}


def error_response(exc: BaseException, refs: FrameRefs) -> dict[str, Any]:
    metrics.add_metric(name="ErrorFrames", unit="Count", value=1)
    metrics.add_metric(name=f"{ERROR_FRAME_METRIC_PREFIX}{error_code(exc)}", unit="Count", value=1)  # by code
    retry_after = exc.retry_after_ms if isinstance(exc, ParleyError) else None
    return response(ErrorFrame(code=error_code(exc), message=error_message(exc), ref=refs.ref,
                               client_msg_id=refs.client_msg_id, retry_after_ms=retry_after))


# The handshake status of a banned user (docs/protocol.md, "Connecting"): 423 Locked, apart from a bad token's 403.
BANNED_STATUS = 423
# Routes a banned user's socket cannot use, if it is still open (its close failed): whatever reaches others.
# Each costs one read of the user's ban (0.5 read unit) per frame, so only these routes pay it.
BAN_CHECKED_ROUTES = frozenset({"send", "changes", "groups", "conversations"})

RouteFn = Callable[[Caller, dict[str, Any]], BaseModel | None]  # None: nothing to answer


def run_route(event: dict[str, Any], route: RouteFn, limit: str | None = None,
              context: HasRemainingTime | None = None) -> dict[str, Any]:
    """Run one message route: every failure becomes an error frame, never an unhandled exception -- except
    two that fail the invocation on purpose, because no frame would be true: ``DeliveryHandOffError`` (the
    message is stored but neither delivered nor queued) and ``OutcomeUnknownError`` (whether it is stored
    cannot be read). Either way the client gets no ack, resends, and the resend finds and delivers it.

    ``limit`` names the caller's rate-limit bucket. It is charged before the frame is validated, so a
    flood of malformed frames is limited like any other."""
    refs = FrameRefs()
    try:
        caller = caller_of(event, context)
        try:
            raw, unparsable = parse_frame(event.get("body")), None
            refs = FrameRefs.of(raw)
        except ParleyError as exc:
            raw, unparsable = {}, exc
        if limit is not None:
            services().limits.check(limit, caller.user_id)
        if limit in BAN_CHECKED_ROUTES:
            services().bans.require_not_banned(caller.user_id)
        if unparsable is not None:
            raise unparsable
        answer = route(caller, raw)
        return {"statusCode": 200} if answer is None else response(answer)
    except ValidationError as exc:
        return error_response(InvalidFrameError(validation_message(exc)), refs)
    except ParleyError as exc:
        logger.info("request refused", extra={"code": exc.code})
        return error_response(exc, refs)
    except (DeliveryHandOffError, OutcomeUnknownError):
        logger.exception("the outcome of a send cannot be told to the client: no answer, the client resends")
        raise
    except Exception as exc:
        logger.exception("unhandled error in route")
        return error_response(exc, refs)


def run_lifecycle(event: dict[str, Any], action: Callable[[Caller], None]) -> dict[str, Any]:
    """Run ``$connect`` / ``$disconnect``: 200 on success, 401 without an identity, 500 otherwise
    (a failed ``$connect`` refuses the handshake, so no connection exists without its record)."""
    try:
        action(caller_of(event))
    except UnauthorizedError:
        return {"statusCode": 401}
    except TooManyConnectionsError as exc:
        logger.info("connection refused", extra={"code": exc.code})
        return {"statusCode": 429}
    except BannedError as exc:
        logger.info("connection refused", extra={"code": exc.code})
        return {"statusCode": BANNED_STATUS}
    except Exception:
        logger.exception("connection lifecycle failed")
        return {"statusCode": 500}
    return {"statusCode": 200}
