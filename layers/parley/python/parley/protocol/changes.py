"""``edit``, ``delete`` and ``react``: their requests and the ``changed`` frame that answers them. The change
entries they store reach members as ``change`` frames (``parley.protocol.messages``).

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from parley.envelopes import Envelope
from parley.protocol.base import Identifier, Inbound, Outbound


class EditRequest(Inbound):
    """``text`` in a plain conversation; ``e2e`` (the new envelope) in an end-to-end encrypted one."""

    action: Literal["edit"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=1)]
    text: Annotated[str, StringConstraints(min_length=1)] | None = None
    e2e: Annotated[Envelope | None, Field(alias="e2e")] = None

    @model_validator(mode="after")
    def _one_of(self) -> EditRequest:
        if (self.text is None) == (self.e2e is None):
            raise ValueError("give exactly one of text and e2e")
        return self


class DeleteRequest(Inbound):
    action: Literal["delete"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=1)]


class ReactRequest(Inbound):
    action: Literal["react"]
    conversation_id: Identifier
    seq: Annotated[int, Field(ge=1)]
    emoji: Annotated[str, StringConstraints(min_length=1, max_length=32)]  # one emoji: parley.reactions
    remove: bool = False  # True: take the caller's emoji off


class ChangedFrame(Outbound):
    """The answer to ``edit``, ``delete`` and ``react``: ``seq`` is the change entry's (the one stored now, or by
    an earlier attempt of the same request); absent when nothing changed (a reaction the caller already had,
    a deleted message deleted again past the entries a retry looks at)."""

    type: Literal["changed"] = "changed"
    conversation_id: str
    kind: str
    target: int  # the message changed
    seq: int | None = None
    count: int | None = None  # react: how many users have the emoji on the message now
    ref: str | None = None
