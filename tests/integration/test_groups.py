"""Group changes through the real handlers on moto: one transaction each, live change frames, catch-up, and
leaving means leaving."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley import errors, table, wiring
from parley.groups import GroupService
from parley.models import Change, ChangeKind, Conversation
from parley.ports import GroupChangedError, SeqTakenError
from parley.stores.groups import DynamoGroupStore
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, kind


def create(chat: Chat, members: list[str], **extra: Any) -> str:
    answer = chat.call("conversations", {"action": "createGroup", "members": members, "name": "team", **extra})
    assert answer["type"] == "conversation", answer
    cid: str = answer["conversation"]["conversationId"]
    return cid


def group_call(chat: Chat, action: str, cid: str, **fields: Any) -> dict[str, Any]:
    return chat.call("groups", {"action": action, "conversationId": cid, **fields})


def changes(api: FakeConnectionsApi, connection_id: str) -> list[dict[str, Any]]:
    return [f for f in api.frames_for(connection_id) if kind(f) == "chg"]


def listed(chat: Chat) -> list[str]:
    return [c["conversationId"] for c in chat.call("conversations", {"action": "listConversations"})["conversations"]]


def test_adding_members_answers_the_group_and_tells_every_member_live(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given alice's group with bob, both online
    alice, bob, carol = Chat("alice", "a1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    cid = create(alice, ["bob"])
    # when alice adds carol
    answer = group_call(alice, "addMembers", cid, userIds=["carol"], requestId="r1")
    # then the answer is the group after the change, with roles and the history setting, and the entry's seq
    assert answer["ref"] == "r1" and answer["seq"] == 1
    info = answer["conversation"]
    assert info["members"] == ["alice", "bob", "carol"]
    assert info["roles"] == {"alice": "owner"} and info["historyVisibility"] == "joined"
    # and bob and carol got the change frame live; alice's own connection got the answer instead
    expected = {"t": "chg", "c": cid, "s": 1, "k": "membersAdded", "f": "alice", "users": ["carol"]}
    for connection in ("b1", "c1"):
        [frame] = changes(connections_api, connection)
        assert {k: v for k, v in frame.items() if k != "at"} == expected
    assert changes(connections_api, "a1") == []
    # and carol's list has the group, and she can send to it
    assert listed(carol) == [cid]
    assert kind(carol.send(cid, "hi all", "c-1")) == "ack"
    assert [m["s"] for m in bob.history(cid, after=0)["messages"]] == [1, 2]


def test_a_removed_member_gets_the_frame_then_nothing_and_can_read_nothing_more(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, bob, carol = Chat("alice", "a1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    cid = create(alice, ["bob", "carol"])
    alice.send(cid, "before", "a-1")
    # when alice removes carol
    answer = group_call(alice, "removeMember", cid, userId="carol")
    assert answer["conversation"]["members"] == ["alice", "bob"]
    # then carol got the memberRemoved frame live
    [frame] = changes(connections_api, "c1")
    assert frame["k"] == "memberRemoved" and frame["users"] == ["carol"]
    # and nothing after it: a later message goes to bob only
    alice.send(cid, "after", "a-2")
    assert [f.get("b", {}).get("text") for f in connections_api.frames_for("c1") if kind(f) == "msg"] == ["before"]
    # and the server gives her nothing more: no list entry, no history, no send, no read, no typing
    assert listed(carol) == []
    for function, body in (("history", {"action": "history", "conversationId": cid, "after": 0}),
                           ("send", {"action": "send", "conversationId": cid, "clientMsgId": "c-1",
                                     "body": {"text": "let me in"}}),
                           ("unread", {"action": "read", "conversationId": cid, "seq": 1}),
                           ("typing", {"action": "typing", "conversationId": cid})):
        assert carol.call(function, body).get("code") == "not_member", function
    assert carol.call("unread", {"action": "unreadCounts"})["conversations"] == []
    # and bob's history has the change in order with the messages
    seen = [(m["s"], m.get("k")) for m in bob.history(cid, after=0)["messages"]]
    assert seen == [(1, None), (2, "memberRemoved"), (3, None)]


def test_the_change_is_one_transaction_of_the_group_its_entry_and_the_memberships(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    cid = create(alice, ["bob"])
    group_call(alice, "addMembers", cid, userIds=["carol"])
    group_call(alice, "leave", cid)
    items = {(i["pk"]["S"], i["sk"]["S"]): i for i in all_items(aws_env)}
    meta = items[(table.conversation_pk(cid), table.META_SK)]
    assert [m["S"] for m in meta["members"]["L"]] == ["bob", "carol"]
    assert meta["roles"]["M"] == {"bob": {"S": "owner"}} and meta["v"]["N"] == "2"
    assert (table.user_pk("alice"), table.member_sk(cid)) not in items
    carol = items[(table.user_pk("carol"), table.member_sk(cid))]
    assert carol["lr"]["N"] == "1" and carol["ln"]["N"] == "0"  # read up to the entry that added her
    left = items[(table.conversation_pk(cid), table.message_sk(2))]
    assert left[table.ATTR_CHANGE]["M"]["owner"]["S"] == "bob"


def test_refusals_store_nothing_and_answer_stable_codes(aws_env: Any) -> None:
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    cid = create(alice, ["bob"])
    direct = alice.open_direct("dave")
    before = all_items(aws_env)
    assert group_call(bob, "renameGroup", cid, name="mine")["code"] == "not_allowed"
    assert group_call(bob, "addMembers", cid, userIds=["x"])["code"] == "not_allowed"
    assert group_call(alice, "addMembers", direct, userIds=["x"])["code"] == "not_group"
    assert group_call(Chat("mallory", "m1"), "leave", cid)["code"] == "not_member"
    assert group_call(alice, "addMembers", cid, userIds=["c", "d", "e", "f"])["code"] == "invalid_members"  # > 5
    assert group_call(alice, "setRole", cid, userId="bob", role="king")["code"] == "invalid_frame"
    assert group_call(alice, "setGroupSettings", "g_nope", historyVisibility="all")["code"] == \
        "conversation_not_found"
    assert all_items(aws_env) == before


def test_adding_someone_who_blocked_you_is_refused_without_saying_who(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    cid = create(alice, ["bob"])
    Chat("carol", "c1").call("blocks", {"action": "block", "userId": "alice"})
    before = all_items(aws_env)
    answer = group_call(alice, "addMembers", cid, userIds=["dave", "carol"])
    assert answer["code"] == "blocked" and "carol" not in answer["message"]
    assert all_items(aws_env) == before


def test_create_group_with_all_history_shows_a_new_member_everything(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    shown, kept = create(alice, ["bob"], historyVisibility="all"), create(alice, ["bob"])
    for cid in (shown, kept):
        alice.send(cid, "before", f"{cid}-1")
        group_call(alice, "addMembers", cid, userIds=["carol"])
    carol = Chat("carol", "c1")
    assert [m["s"] for m in carol.history(shown)["messages"]] == [1, 2]
    assert [m["s"] for m in carol.history(kept)["messages"]] == [2]
    # and the list never shows her a message from before she joined
    last = {c["conversationId"]: c.get("lastMessage")
            for c in carol.call("conversations", {"action": "listConversations"})["conversations"]}
    assert last[kept] is None and last[shown] is not None


def test_a_stale_version_or_a_taken_seq_stores_nothing(aws_env: Any) -> None:
    # given a group, and a change decided on it
    alice = Chat("alice", "a1")
    cid = create(alice, ["bob"])
    services = wiring.services()
    head = services.message_store.head(cid, 1)
    group = head.conversation
    assert group is not None
    store = DynamoGroupStore(services.settings.table_name)
    planner = GroupService(services.message_store, store, services.conversations, max_members=5)
    renamed = group.model_copy(update={"name": "x", "version": 1})
    entry = planner._entry("alice", cid, Change(kind=ChangeKind.RENAMED, name="x"), None, 1, "~one")
    # when another change moved the group's version first
    group_call(alice, "renameGroup", cid, name="other")
    before = all_items(aws_env)
    with pytest.raises(SeqTakenError) as taken:  # that change holds seq 1 too
        store.apply(group, renamed, entry, ["zed"], [])
    assert taken.value.winner.change is not None and taken.value.winner.change.name == "other"
    # and with a free seq, the stale version alone refuses it
    later = entry.model_copy(update={"seq": 2})
    with pytest.raises(GroupChangedError):
        store.apply(group, renamed, later, ["zed"], [])
    assert all_items(aws_env) == before
    current = services.conversation_store.get(cid)
    assert isinstance(current, Conversation) and current.name == "other"


def test_a_change_that_loses_its_seq_to_a_message_on_moto_takes_the_next(aws_env: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    cid = create(alice, ["bob"])
    services = wiring.services()
    real_head = services.message_store.head
    raced = []

    def head_then_a_message(conversation_id: str, window: int) -> Any:
        head = real_head(conversation_id, window)
        if not raced:  # bob's message lands between the change's read and its write
            raced.append(True)
            assert kind(bob.send(cid, "meanwhile", "b-1")) == "ack"
        return head

    monkeypatch.setattr(services.message_store, "head", head_then_a_message)
    answer = group_call(alice, "renameGroup", cid, name="renamed")
    assert answer["seq"] == 2
    assert [(m["s"], m.get("k")) for m in bob.history(cid, after=0)["messages"]] == [(1, None), (2, "renamed")]


GROUP_TEMPLATES: dict[str, dict[str, Any]] = {
    "addMembers": {"action": "addMembers", "conversationId": "CID", "userIds": ["dave"]},
    "removeMember": {"action": "removeMember", "conversationId": "CID", "userId": "carol"},
    "leave": {"action": "leave", "conversationId": "CID"},
    "renameGroup": {"action": "renameGroup", "conversationId": "CID", "name": "renamed"},
    "setRole": {"action": "setRole", "conversationId": "CID", "userId": "carol", "role": "admin"},
    "setGroupSettings": {"action": "setGroupSettings", "conversationId": "CID", "historyVisibility": "all"},
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
KNOWN_CODES = {cls.code for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.ParleyError)} - {"internal_error"}


@st.composite
def group_requests(draw: st.DrawFn) -> dict[str, Any]:
    action = draw(st.sampled_from(sorted(GROUP_TEMPLATES)))
    frame = dict(GROUP_TEMPLATES[action])
    frame["conversationId"] = draw(st.sampled_from(["GROUP", "DIRECT", "g_unknown"]))
    for name in draw(st.lists(st.sampled_from(sorted(k for k in frame if k != "action")), max_size=2)):
        how = draw(st.sampled_from(["drop", "replace", "user"]))
        if how == "drop":
            frame.pop(name, None)
        elif how == "user" and name in ("userId", "userIds"):
            users = draw(st.lists(st.sampled_from(["alice", "bob", "carol", "eve", "mallory", ""]), max_size=4))
            frame[name] = users if name == "userIds" else (users[0] if users else "")
        else:
            frame[name] = draw(json_values)
    return frame


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=group_requests(), caller=st.sampled_from(["alice", "bob", "carol", "mallory"]))
def test_any_refused_group_request_changes_nothing(aws_env: Any, configure: Any, request: dict[str, Any],
                                                   caller: str) -> None:
    configure(PARLEY_RATE_LIMITS="")  # many requests of one user here: the rate limits have tests of their own
    # given a fresh group: alice owns it, bob is an admin, carol a member; eve blocked alice; a direct conversation
    alice = Chat("alice", "a1")
    if not all_items(aws_env):
        Chat("eve", "e1").call("blocks", {"action": "block", "userId": "alice"})
    cid = create(alice, ["bob", "carol"])
    assert "seq" in group_call(alice, "setRole", cid, userId="bob", role="admin")
    direct = alice.open_direct("bob")
    ids = {"GROUP": cid, "DIRECT": direct}
    named = request.get("conversationId")
    body = {**request, "conversationId": ids[named]} if isinstance(named, str) and named in ids else request
    before = all_items(aws_env)
    # when anyone asks anything of it
    answer = Chat(caller, f"{caller}-1").call("groups", body)
    # then a refusal has a documented code and left every item as it was
    if answer["type"] == "error":
        assert answer["code"] in KNOWN_CODES, answer
        assert all_items(aws_env) == before
    else:
        assert answer["type"] == "conversation"
