"""``/v1/conversations`` and ``/v1/users/{userId}/conversations``: create a direct conversation or a group,
manage a group's members and roles, read a conversation's metadata, list a user's conversations."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from parley.audit import audit_targets
from parley.errors import ConversationNotFoundError
from parley.models import Conversation, ConversationKind, GroupRole, HistoryVisibility
from parley.server_api.base import ApiModel
from parley.user_ids import UserId
from parley.wiring import services

router = APIGatewayHttpRouter()

ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="A conversation's id.")]


class Member(ApiModel):
    user_id: str
    role: GroupRole | None = Field(default=None, description="Groups only: `owner`, `admin` or `member`.")


class ConversationMetadata(ApiModel):
    conversation_id: str
    kind: ConversationKind
    members: list[Member] = Field(description="In the order they joined.")
    created_by: str
    created_at: int = Field(description="Epoch milliseconds.")
    name: str | None = None
    history_visibility: HistoryVisibility | None = Field(
        default=None, description="Groups only: what members added later see of earlier history.")
    last_seq: int | None = Field(default=None, description="The newest entry's seq (0: none yet). Only where read.")

    @classmethod
    def of(cls, c: Conversation, last_seq: int | None = None) -> ConversationMetadata:
        group = c.kind is ConversationKind.GROUP
        return cls(conversation_id=c.conversation_id, kind=c.kind,
                   members=[Member(user_id=u, role=c.role_of(u) if group else None) for u in c.members],
                   created_by=c.created_by, created_at=c.created_at, name=c.name,
                   history_visibility=c.history_visibility if group else None, last_seq=last_seq)


class DirectRequest(ApiModel):
    user_ids: Annotated[list[UserId], Field(min_length=2, max_length=2,
                                            description="The two users; their one direct conversation.")]


@router.post("/v1/conversations/direct", summary="Find or create the direct conversation of two users",
             tags=["conversations"])
def create_direct(request: DirectRequest) -> ConversationMetadata:
    """The pair's one direct conversation: created on the first call, the same one on every later call
    (idempotent). Refused with `blocked` if either user blocked the other."""
    first, second = request.user_ids
    audit_targets(user_ids=request.user_ids)
    app = services()
    if app.blocks.has_blocked(first, second):
        from parley.errors import BlockedError

        raise BlockedError("One of the users blocked the other.")
    conversation = app.conversations.open_direct(first, second)
    audit_targets(conversation_id=conversation.conversation_id)
    return ConversationMetadata.of(conversation)


@router.get("/v1/conversations/<conversationId>", summary="Read a conversation's metadata",
            tags=["conversations"])
def get_conversation(conversationId: ConversationId) -> ConversationMetadata:
    audit_targets(conversation_id=conversationId)
    head = services().message_store.head(conversationId, 1)
    if head.conversation is None:
        raise ConversationNotFoundError()
    return ConversationMetadata.of(head.conversation, last_seq=head.last_seq)
