from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.integration.conftest import Chat, all_items


def test_open_direct_finds_or_creates_exactly_one_per_pair(aws_env: Any) -> None:
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    first = alice.open_direct("bob")
    assert bob.open_direct("alice") == first
    assert alice.open_direct("bob") == first
    metas = [i for i in all_items(aws_env) if i["sk"]["S"] == "~META" and i["pk"]["S"].startswith("CONV#")]
    assert len(metas) == 1


def test_create_group_and_list_my_conversations_page_by_page(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    direct = alice.open_direct("bob")
    group = alice.call("conversations", {"action": "createGroup", "members": ["bob", "carol"], "name": "Team",
                                         "requestId": "r1"})
    assert group["ref"] == "r1"
    assert group["conversation"]["members"] == ["alice", "bob", "carol"]
    assert group["conversation"]["kind"] == "group" and group["conversation"]["createdBy"] == "alice"
    page1 = alice.call("conversations", {"action": "listConversations", "limit": 1})
    page2 = alice.call("conversations", {"action": "listConversations", "limit": 1, "cursor": page1["cursor"]})
    ids = {c["conversationId"] for c in page1["conversations"] + page2["conversations"]}
    assert ids == {direct, group["conversation"]["conversationId"]}
    carol = Chat("carol", "c1").call("conversations", {"action": "listConversations"})
    assert [c["conversationId"] for c in carol["conversations"]] == [group["conversation"]["conversationId"]]


def test_groups_over_the_limit_and_bad_cursors_are_refused_without_writes(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    too_many = alice.call("conversations", {"action": "createGroup", "members": ["b", "c", "d", "e", "f"]})
    assert too_many["code"] == "invalid_members"
    forged = alice.call("conversations", {"action": "listConversations", "cursor": "eyJwayI6IlVTRVIjYm9iIn0="})
    assert forged["code"] == "invalid_frame"
    assert all_items(aws_env) == []


@pytest.mark.parametrize("members", [[], ["alice"]])
def test_an_empty_group_is_invalid_members_as_documented(aws_env: Any, members: list[str]) -> None:
    # docs/protocol.md's error table: invalid_members for "an empty group"
    answer = Chat("alice", "a1").call("conversations", {"action": "createGroup", "members": members})
    assert answer["code"] == "invalid_members"
    assert all_items(aws_env) == []


def test_a_cursor_is_a_position_in_my_own_list_only(aws_env: Any) -> None:
    bobs = Chat("bob", "b1").open_direct("carol")
    forged = base64.urlsafe_b64encode(json.dumps([-(2**62), bobs]).encode()).decode()
    listed = Chat("mallory", "m1").call("conversations", {"action": "listConversations", "cursor": forged})
    assert listed == {"type": "conversations", "conversations": []}
    garbage = Chat("mallory", "m1").call("conversations", {"action": "listConversations", "cursor": "bm9wZQ=="})
    assert garbage["code"] == "invalid_frame"
