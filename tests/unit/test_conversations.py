from __future__ import annotations

import pytest

from parley.conversations import ConversationService
from parley.errors import ConversationNotFoundError, InvalidMembersError, NotMemberError
from parley.models import ConversationKind


def test_a_pair_has_exactly_one_direct_conversation_whoever_opens_it(conversations: ConversationService) -> None:
    # given alice opened a direct conversation with bob
    first = conversations.open_direct("alice", "bob")
    # when bob opens one with alice, and alice opens it again
    second = conversations.open_direct("bob", "alice")
    third = conversations.open_direct("alice", "bob")
    # then all three are the same conversation, with exactly those two members
    assert first.conversation_id == second.conversation_id == third.conversation_id
    assert first.kind is ConversationKind.DIRECT
    assert sorted(first.members) == ["alice", "bob"]


def test_a_direct_conversation_with_yourself_is_refused(conversations: ConversationService) -> None:
    with pytest.raises(InvalidMembersError):
        conversations.open_direct("alice", "alice")


def test_a_group_includes_its_creator_once_and_drops_duplicates(conversations: ConversationService) -> None:
    group = conversations.create_group("alice", ["bob", "carol", "bob", "alice"], "book club")
    assert group.members == ("alice", "bob", "carol")
    assert group.created_by == "alice"
    assert group.name == "book club"
    assert group.kind is ConversationKind.GROUP


def test_a_group_over_the_configured_maximum_is_refused(conversations: ConversationService) -> None:
    # the fixture allows 5 members, the creator included
    conversations.create_group("alice", ["b", "c", "d", "e"], None)
    with pytest.raises(InvalidMembersError):
        conversations.create_group("alice", ["b", "c", "d", "e", "f"], None)


def test_a_group_of_only_yourself_is_refused(conversations: ConversationService) -> None:
    with pytest.raises(InvalidMembersError):
        conversations.create_group("alice", ["alice"], None)


def test_membership_is_checked(conversations: ConversationService) -> None:
    group = conversations.create_group("alice", ["bob"], None)
    assert conversations.require_member(group.conversation_id, "bob") == group
    with pytest.raises(NotMemberError):
        conversations.require_member(group.conversation_id, "mallory")
    with pytest.raises(ConversationNotFoundError):
        conversations.require_member("g_nope", "alice")
