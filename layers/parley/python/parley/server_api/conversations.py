"""``/v1/conversations`` and ``/v1/users/{userId}/conversations``: create a direct conversation or a group,
manage a group's members and roles, read a conversation's metadata, list a user's conversations."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field, StringConstraints

from parley.audit import audit_targets
from parley.errors import BlockedError, ConversationNotFoundError
from parley.groups import GroupOutcome
from parley.models import Conversation, ConversationKind, ConversationSummary, GroupRole, HistoryVisibility
from parley.server_api.base import ApiModel, checked_user_id, delivered
from parley.user_ids import SYSTEM_SENDER, UserId
from parley.wiring import services

router = APIGatewayHttpRouter()

ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="A conversation's id.")]
PathUserId = Annotated[str, Path(min_length=1, max_length=128, description="A user's id.")]
ACTING_AS = ("Who makes the change: a member, under the same rules as the member-facing action (their role must "
             "allow it); absent: the system, with the owner's rights (docs/server-api.md, \"Conversations\").")


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
    e2e: bool | None = Field(default=None, alias="e2e",
                             description="True: end-to-end encrypted (docs/e2e.md); its messages have no text here.")

    @classmethod
    def of(cls, c: Conversation, last_seq: int | None = None) -> ConversationMetadata:
        group = c.kind is ConversationKind.GROUP
        return cls(conversation_id=c.conversation_id, kind=c.kind,
                   members=[Member(user_id=u, role=c.role_of(u) if group else None) for u in c.members],
                   created_by=c.created_by, created_at=c.created_at, name=c.name,
                   history_visibility=c.history_visibility if group else None, last_seq=last_seq,
                   e2e=c.e2e or None)


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
    if app.blocks.has_blocked(first, second):  # (open_direct checks the other direction)
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


class LastMessage(ApiModel):
    seq: int
    sender_id: str = Field(description="A user id, or `#system` / `#bot:<name>` for a system message.")
    sent_at: int
    text: str | None = None
    deleted: bool = False


class UserConversation(ConversationMetadata):
    """A conversation as one member sees it in their list."""

    unread: int = Field(description="Messages from others after the user's read position.")
    last_read_seq: int
    last_message: LastMessage | None = Field(default=None, description="The newest message the user may see.")

    @classmethod
    def of_summary(cls, s: ConversationSummary) -> UserConversation:
        base = ConversationMetadata.of(s.conversation, last_seq=s.last_seq)
        m = s.last_message
        last = None if m is None else LastMessage(
            seq=m.seq, sender_id=m.sender_id, sent_at=m.sent_at, deleted=m.deleted_at is not None,
            text=m.body.text if m.body else None)
        return cls(**dict(base), unread=s.unread, last_read_seq=s.read_seq, last_message=last)


class UserConversationsPage(ApiModel):
    conversations: list[UserConversation] = Field(description="Newest activity first.")
    cursor: str | None = Field(default=None, description="Pass it back for the next page; absent: the last page.")


@router.get("/v1/users/<userId>/conversations", summary="List a user's conversations", tags=["conversations"])
def list_user_conversations(
    userId: PathUserId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> UserConversationsPage:
    audit_targets(user_ids=[userId])
    page = services().inbox.page(checked_user_id(userId, "userId"), limit, cursor)
    return UserConversationsPage(conversations=[UserConversation.of_summary(c) for c in page.conversations],
                                 cursor=page.cursor)


GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class GroupRequest(ApiModel):
    created_by: UserId = Field(description="The group's owner; the blocks of the member-facing `createGroup` "
                                           "hold for them (nobody who blocked them is added).")
    members: Annotated[list[UserId], Field(min_length=1, max_length=999,
                                           description="The other members (the owner is added anyway).")]
    name: GroupName | None = None
    history_visibility: HistoryVisibility = HistoryVisibility.JOINED


@router.post("/v1/conversations/groups", summary="Create a group", tags=["conversations"])
def create_group(request: GroupRequest) -> ConversationMetadata:
    """Not idempotent: each call creates a group."""
    audit_targets(user_ids=[request.created_by, *request.members])
    created = services().conversations.create_group(request.created_by, list(request.members), request.name,
                                                     request.history_visibility)
    audit_targets(conversation_id=created.conversation_id)
    return ConversationMetadata.of(created, last_seq=0)


class GroupChangeResponse(ApiModel):
    conversation: ConversationMetadata = Field(description="The group after the request.")
    seq: int | None = Field(default=None, description="The seq of the change entry stored; absent: the group "
                                                      "already was as asked, nothing changed.")


def _changed(outcome: GroupOutcome) -> GroupChangeResponse:
    delivered(outcome.sent, router.lambda_context)
    seq = outcome.sent.message.seq if outcome.sent else None
    return GroupChangeResponse(conversation=ConversationMetadata.of(outcome.conversation), seq=seq)


class AddMembersRequest(ApiModel):
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=98)]
    acting_as: UserId | None = Field(default=None, description=ACTING_AS)


@router.post("/v1/conversations/<conversationId>/members", summary="Add members to a group",
             tags=["conversations"])
def add_members(conversationId: ConversationId, request: AddMembersRequest) -> GroupChangeResponse:
    audit_targets(conversation_id=conversationId, user_ids=request.user_ids)
    return _changed(services().groups.add_members(request.acting_as or SYSTEM_SENDER, conversationId,
                                                  list(request.user_ids)))


@router.delete("/v1/conversations/<conversationId>/members/<userId>", summary="Remove a member from a group",
               tags=["conversations"])
def remove_member(conversationId: ConversationId, userId: PathUserId,
                  actingAs: Annotated[str | None, Query(min_length=1, max_length=128, description=ACTING_AS)] = None,
                  ) -> GroupChangeResponse:
    audit_targets(conversation_id=conversationId, user_ids=[userId])
    acting = checked_user_id(actingAs, "actingAs") if actingAs is not None else SYSTEM_SENDER
    return _changed(services().groups.remove_member(acting, conversationId, checked_user_id(userId, "userId")))


class SetRoleRequest(ApiModel):
    role: GroupRole
    acting_as: UserId | None = Field(default=None, description=ACTING_AS)


@router.put("/v1/conversations/<conversationId>/members/<userId>/role", summary="Set a member's role",
            tags=["conversations"])
def set_role(conversationId: ConversationId, userId: PathUserId, request: SetRoleRequest) -> GroupChangeResponse:
    """`owner` passes ownership on (the previous owner becomes an admin)."""
    audit_targets(conversation_id=conversationId, user_ids=[userId])
    return _changed(services().groups.set_role(request.acting_as or SYSTEM_SENDER, conversationId,
                                               checked_user_id(userId, "userId"), request.role))
