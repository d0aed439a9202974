"""Domain errors and the one place that maps them to the protocol's stable error codes."""

from __future__ import annotations

from typing import ClassVar


class ParleyError(Exception):
    """Base of every error a client may be told about. ``code`` is part of the public protocol."""

    code = "internal_error"
    # The HTTP status the server API answers with (docs/server-api.md, "Errors"); the socket ignores it.
    http_status = 400
    # Whether an error frame on the socket can carry this code (docs/protocol.md, docs/asyncapi.yaml); False for
    # the server API's own (docs/server-api.md, docs/openapi.json lists every code).
    socket: ClassVar[bool] = True
    retry_after_ms: int | None = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()


class InvalidJsonError(ParleyError):
    """The frame is not valid JSON."""

    code = "invalid_json"


class InvalidFrameError(ParleyError):
    """The frame is not a JSON object, or a field is missing, ill-typed or out of range."""

    code = "invalid_frame"


class FrameTooLargeError(ParleyError):
    """The frame is larger than the server accepts."""

    code = "frame_too_large"


class TextTooLongError(ParleyError):
    """The message text is longer than the configured limit."""

    code = "text_too_long"


class UnknownActionError(ParleyError):
    """The frame's action is not one the server knows."""

    code = "unknown_action"


class UnauthorizedError(ParleyError):
    """The connection carries no verified identity."""

    code = "unauthorized"
    http_status = 401


class ForbiddenError(ParleyError):
    """The caller may not use this route: a console operator outside the admins group, or a request whose
    authorization does not fit its path (docs/admin.md, "Signing in")."""

    code = "forbidden"
    socket = False
    http_status = 403


class ConversationNotFoundError(ParleyError):
    """No such conversation."""

    code = "conversation_not_found"
    http_status = 404


class NotMemberError(ParleyError):
    """You are not a member of this conversation."""

    code = "not_member"
    http_status = 403


class InvalidMembersError(ParleyError):
    """The member list is empty, too long, or names yourself only."""

    code = "invalid_members"


class InvalidSeqError(ParleyError):
    """The sequence number is beyond the conversation's newest message."""

    code = "invalid_seq"


class StaleLastSeqError(ParleyError):
    """``lastSeq`` is too far behind the conversation to check for an earlier copy of this message: read
    history after it; if your clientMsgId is there the message was stored, else send it with a newer lastSeq."""

    code = "stale_last_seq"


class ConflictError(ParleyError):
    """The write lost a race too many times; retry the request."""

    code = "conflict"
    http_status = 409


class ThrottledError(ParleyError):
    """The data store is throttling requests; retry later."""

    code = "throttled"
    http_status = 503


class RateLimitedError(ParleyError):
    """Too many requests: wait ``retryAfterMs`` before the next one. Nothing was stored or delivered."""

    code = "rate_limited"

    http_status = 429

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__()
        self.retry_after_ms = max(1, retry_after_ms)


class BlockedError(ParleyError):
    """This user has blocked you: you cannot open or write to a direct conversation with them, or put
    them in a group."""

    code = "blocked"
    http_status = 403


class NotGroupError(ParleyError):
    """This action is for groups; a direct conversation has no members to add, remove or promote."""

    code = "not_group"


class NotAllowedError(ParleyError):
    """Your role in this group does not allow this; or the message is not yours to change (only the sender may
    edit a message; only the sender, or in groups the owner and admins, may delete it)."""

    code = "not_allowed"
    http_status = 403


class MessageRejectedError(ParleyError):
    """The message was refused by moderation."""

    code = "message_rejected"


class ModerationUnavailableError(ParleyError):
    """Moderation could not review the message in time and this deployment fails closed; retry later."""

    code = "moderation_unavailable"
    http_status = 503


class MessageNotFoundError(ParleyError):
    """No message with that sequence number in this conversation."""

    code = "message_not_found"
    http_status = 404


class InvalidReplyError(ParleyError):
    """replyTo names no message of this conversation that you can see."""

    code = "invalid_reply"


class InvalidMentionsError(ParleyError):
    """Only current members of the conversation can be mentioned."""

    code = "invalid_mentions"


class MessageDeletedError(ParleyError):
    """That message was deleted for everyone: it cannot be edited or reacted to."""

    code = "message_deleted"


class EditWindowClosedError(ParleyError):
    """A message can be edited only for a while after it was sent (``PARLEY_EDIT_WINDOW_SECONDS``)."""

    code = "edit_window_closed"


class InvalidEmojiError(ParleyError):
    """A reaction is one emoji (see docs/protocol.md, "react", for exactly what passes)."""

    code = "invalid_emoji"


class TooManyReactionsError(ParleyError):
    """The message already carries the most distinct emoji a message may have."""

    code = "too_many_reactions"


class TooManyConnectionsError(ParleyError):
    """The user has too many open connections, or opened new ones too fast."""

    code = "too_many_connections"


class BannedError(ParleyError):
    """You are banned from this service (until the ban ends, or for good)."""

    code = "banned"
    http_status = 403


class ReportNotFoundError(ParleyError):
    """No such report."""

    code = "report_not_found"
    socket = False
    http_status = 404


class ReportResolvedError(ParleyError):
    """This report was resolved already."""

    code = "report_resolved"
    socket = False
    http_status = 409


class InvalidCursorError(ParleyError):
    """The page cursor is not one this list returned."""

    code = "invalid_cursor"
    socket = False


class PushUnavailableError(ParleyError):
    """Push notifications are not configured for this platform on this deployment."""

    code = "push_unavailable"
    http_status = 501


class InvalidRequestError(ParleyError):
    """Server API: the request's body, path or query is not valid JSON or does not match the operation's schema."""

    code = "invalid_request"
    socket = False


class RouteNotFoundError(ParleyError):
    """Server API: no operation has this method and path."""

    code = "route_not_found"
    socket = False
    http_status = 404


class JobNotFoundError(ParleyError):
    """Server API: this user has no erasure (or export) job: none was started, or it finished over 30 days ago."""

    code = "job_not_found"
    socket = False
    http_status = 404


class EndpointDisabledError(Exception):
    """SNS reports the device's endpoint as disabled (an expired or uninstalled token)."""


class UploadsUnavailableError(ParleyError):
    """File uploads are not configured on this deployment."""

    code = "uploads_unavailable"
    http_status = 501


class UnsupportedMediaError(ParleyError):
    """This content type is not accepted (see docs/attachments.md for the allowlist)."""

    code = "unsupported_media"


class FileTooLargeError(ParleyError):
    """The file is larger than this deployment accepts."""

    code = "file_too_large"


class AttachmentNotFoundError(ParleyError):
    """An attachment refers to no uploaded file."""

    code = "attachment_not_found"


class InvalidAttachmentError(ParleyError):
    """An attachment was not uploaded by you for this conversation, or does not match its declared type and size."""

    code = "invalid_attachment"


class AttachmentDeletedError(ParleyError):
    """An attachment belongs to a message that was deleted: its files are gone."""

    code = "attachment_deleted"


class DeliveryHandOffError(Exception):
    """A stored message could neither be delivered nor queued for delivery (two AWS services failing at
    once). Not a client error: the sending invocation fails, so the sender gets no ack and resends, and the
    resend redoes the delivery."""


class OutcomeUnknownError(Exception):
    """Whether a message was stored cannot be known right now (its write failed ambiguously and reading it
    back failed too). Not a client error: no frame may say it was or was not stored, so the invocation
    fails, and the client resends with the same clientMsgId."""


class DeliveryIncompleteError(Exception):
    """A redelivery left work undone: its queue record is offered again."""


class StaleConnectionError(Exception):
    """The connection is gone (API Gateway answered 410); it is pruned, never reported to a client."""


class TokenError(Exception):
    """A chat token failed verification. Never carries the token itself."""


def error_code(exc: BaseException) -> str:
    """The stable code for any exception: domain errors keep theirs, anything else is internal."""
    return exc.code if isinstance(exc, ParleyError) else ParleyError.code


def http_status(exc: BaseException) -> int:
    """The server API's HTTP status for any exception: 500 for anything not a domain error."""
    if not isinstance(exc, ParleyError) or exc.code == ParleyError.code:
        return 500
    return exc.http_status


def error_message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ParleyError) else "Internal error; nothing was changed."


def error_classes() -> list[type[ParleyError]]:
    """``ParleyError`` and every subclass of it: each stable code's class."""
    found: list[type[ParleyError]] = [ParleyError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found
