"""The error frame (every route's answer to a refused frame), the refs it echoes, and ``pong``.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from parley.protocol.base import Outbound


class PongFrame(Outbound):
    """The answer to ``ping``, sent by API Gateway itself (``parley.routes.GATEWAY_ANSWERS``): no ``ref``."""

    type: Literal["pong"] = "pong"


class ErrorFrame(Outbound):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None
    client_msg_id: str | None = None  # on an error answering a `send`
    retry_after_ms: int | None = None


_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class FrameRefs:
    """What an error echoes of the request it answers, when well formed: its ``requestId`` as ``ref`` and,
    for a ``send``, its ``clientMsgId``."""

    ref: str | None = None
    client_msg_id: str | None = None

    @classmethod
    def of(cls, raw: Any) -> FrameRefs:
        if not isinstance(raw, dict):
            return cls()
        request_id, client_msg_id = raw.get("requestId"), raw.get("clientMsgId")
        return cls(ref=request_id if _is_identifier(request_id) else None,
                   client_msg_id=client_msg_id if raw.get("action") == "send" and _is_identifier(client_msg_id)
                   else None)


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None
