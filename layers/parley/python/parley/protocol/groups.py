"""``addMembers``, ``removeMember``, ``leave``, ``renameGroup``, ``setRole`` and ``setGroupSettings``: their
requests. Each answers with the ``conversation`` frame of ``parley.protocol.conversations`` (the group after
the change, and the change entry's ``seq``).

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from parley.models import GroupRole, HistoryVisibility
from parley.protocol.base import GroupName, Identifier, Inbound
from parley.user_ids import UserId


class AddMembersRequest(Inbound):
    action: Literal["addMembers"]
    conversation_id: Identifier
    user_ids: Annotated[list[UserId], Field(max_length=999)]  # empty or over 98: invalid_members, from the service


class RemoveMemberRequest(Inbound):
    action: Literal["removeMember"]
    conversation_id: Identifier
    user_id: UserId


class LeaveRequest(Inbound):
    action: Literal["leave"]
    conversation_id: Identifier


class RenameGroupRequest(Inbound):
    action: Literal["renameGroup"]
    conversation_id: Identifier
    name: GroupName


class SetRoleRequest(Inbound):
    action: Literal["setRole"]
    conversation_id: Identifier
    user_id: UserId
    role: Annotated[GroupRole, Field(strict=False)]


class SetGroupSettingsRequest(Inbound):
    action: Literal["setGroupSettings"]
    conversation_id: Identifier
    history_visibility: Annotated[HistoryVisibility, Field(strict=False)]


GroupRequest = Annotated[AddMembersRequest | RemoveMemberRequest | LeaveRequest | RenameGroupRequest
                         | SetRoleRequest | SetGroupSettingsRequest, Field(discriminator="action")]
