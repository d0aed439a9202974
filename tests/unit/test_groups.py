"""Groups people can manage: who may do what, what each change stores, and that leaving means leaving."""

from __future__ import annotations

import pytest

from parley.errors import (
    BlockedError,
    ConflictError,
    InvalidMembersError,
    NotAllowedError,
    NotGroupError,
    NotMemberError,
    ThrottledError,
)
from parley.groups import ADD_MEMBERS_MAX, GroupService, successor
from parley.models import ChangeKind, Conversation, GroupRole, HistoryVisibility, MessageBody
from tests.fakes import FakeGroupStore
from tests.unit.conftest import World


@pytest.fixture
def store(world: World) -> FakeGroupStore:
    return FakeGroupStore(world.conversation_store, world.message_store)


@pytest.fixture
def groups(world: World, store: FakeGroupStore) -> GroupService:
    return GroupService(world.message_store, store, world.conversations, max_members=10, blocks=world.blocks,
                        clock=world.clock)


def group(world: World, members: list[str], history: HistoryVisibility = HistoryVisibility.JOINED) -> str:
    return world.conversations.create_group("alice", members, "team", history).conversation_id


def say(world: World, me: str, cid: str, text: str) -> int:
    return world.messaging.send(me, cid, f"{me}-{text}", MessageBody(text=text)).message.seq


def stored(world: World, cid: str) -> Conversation:
    conversation = world.conversation_store.get(cid)
    assert conversation is not None
    return conversation


def test_the_owner_adds_members_who_get_a_membership_that_has_read_up_to_the_change(
        world: World, groups: GroupService) -> None:
    # given alice's group with bob, who said something
    cid = group(world, ["bob"])
    say(world, "bob", cid, "hello")
    # when alice adds carol and dave
    outcome = groups.add_members("alice", cid, ["carol", "dave", "carol"])
    # then they are members, in join order, and a membersAdded entry took the next seq
    assert outcome.conversation.members == ("alice", "bob", "carol", "dave")
    assert outcome.sent is not None
    entry = outcome.sent.message
    assert entry.seq == 2 and entry.change is not None and entry.change.kind is ChangeKind.MEMBERS_ADDED
    assert entry.change.users == ("carol", "dave") and entry.sender_id == "alice"
    # and every member old and new (alice's other devices included) gets it live
    assert set(outcome.sent.recipients) == {"alice", "bob", "carol", "dave"}
    # and carol's list shows the group with nothing unread, and nothing from before she joined
    [summary] = world.inbox.summaries("carol")
    assert summary.conversation.conversation_id == cid and summary.unread == 0 and summary.last_message is None
    # and a message after that is one unread for her: the change itself never is
    say(world, "bob", cid, "welcome")
    assert world.inbox.summaries("carol")[0].unread == 1
    assert world.inbox.summaries("bob")[0].unread == 0


def test_a_change_entry_as_the_first_entry_of_a_group_is_not_unread(world: World, groups: GroupService) -> None:
    # given a new group, renamed before anyone said anything
    cid = group(world, ["bob"])
    groups.rename("alice", cid, "new name")
    # then nobody has anything unread; the first message is one unread for bob
    assert world.inbox.summaries("bob")[0].unread == 0
    groups.add_members("alice", cid, ["carol"])
    say(world, "alice", cid, "hi")
    assert world.inbox.summaries("bob")[0].unread == 1
    assert world.inbox.summaries("carol")[0].unread == 1


def test_history_from_joining_by_default_or_all_of_it_as_the_group_says(world: World, groups: GroupService) -> None:
    # given two groups with an earlier message: one keeps history from joining (the default), one shows all
    joined, everything = group(world, ["bob"]), group(world, ["bob"], HistoryVisibility.ALL)
    for cid in (joined, everything):
        say(world, "bob", cid, "before")
        groups.add_members("alice", cid, ["carol"])
        say(world, "bob", cid, "after")
    # then carol sees, in the first, the change that added her and what followed; in the second all of it
    seen = [m.seq for m in world.messaging.history("carol", joined, before=None, after=None, limit=50).messages]
    assert seen == [2, 3]
    seen = [m.seq for m in world.messaging.history("carol", everything, before=None, after=None, limit=50).messages]
    assert seen == [1, 2, 3]


def test_admins_add_rename_and_change_settings_but_members_do_not(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob", "carol"])
    groups.set_role("alice", cid, "bob", GroupRole.ADMIN)
    # an admin manages the group
    groups.add_members("bob", cid, ["dave"])
    groups.rename("bob", cid, "bob's")
    groups.set_settings("bob", cid, HistoryVisibility.ALL)
    # a member does not, and a refusal changes nothing
    before = stored(world, cid)
    entries = dict(world.message_store.messages[cid])
    for attempt in (lambda: groups.add_members("carol", cid, ["erin"]),
                    lambda: groups.remove_member("carol", cid, "dave"),
                    lambda: groups.rename("carol", cid, "mine"),
                    lambda: groups.set_settings("carol", cid, HistoryVisibility.JOINED),
                    lambda: groups.set_role("carol", cid, "dave", GroupRole.ADMIN),
                    lambda: groups.set_role("bob", cid, "dave", GroupRole.ADMIN)):
        with pytest.raises(NotAllowedError):
            attempt()
    assert stored(world, cid) == before and world.message_store.messages[cid] == entries


def test_admins_remove_members_only_and_the_owner_removes_anyone(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob", "carol", "dave"])
    groups.set_role("alice", cid, "bob", GroupRole.ADMIN)
    groups.set_role("alice", cid, "carol", GroupRole.ADMIN)
    with pytest.raises(NotAllowedError):
        groups.remove_member("bob", cid, "carol")  # another admin
    with pytest.raises(NotAllowedError):
        groups.remove_member("bob", cid, "alice")  # the owner
    groups.remove_member("bob", cid, "dave")
    outcome = groups.remove_member("alice", cid, "carol")
    assert outcome.conversation.members == ("alice", "bob")
    assert outcome.conversation.roles == {"alice": GroupRole.OWNER, "bob": GroupRole.ADMIN}
    assert outcome.sent is not None and "carol" in outcome.sent.recipients  # the removed member is told, once


def test_the_owner_passes_ownership_on_and_stays_an_admin(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    outcome = groups.set_role("alice", cid, "bob", GroupRole.OWNER)
    assert outcome.conversation.roles == {"alice": GroupRole.ADMIN, "bob": GroupRole.OWNER}
    assert outcome.sent is not None and outcome.sent.message.change is not None
    assert outcome.sent.message.change.role is GroupRole.OWNER
    with pytest.raises(NotAllowedError):
        groups.set_role("alice", cid, "bob", GroupRole.MEMBER)  # no longer the owner
    groups.set_role("bob", cid, "alice", GroupRole.MEMBER)
    assert stored(world, cid).role_of("alice") is GroupRole.MEMBER


@pytest.mark.parametrize(("admins", "owner_after"), [([], "bob"), (["dave"], "dave"), (["carol", "dave"], "carol")])
def test_an_owner_who_leaves_passes_ownership_to_the_first_admin_else_the_first_member(
        world: World, groups: GroupService, admins: list[str], owner_after: str) -> None:
    cid = group(world, ["bob", "carol", "dave"])
    for admin in reversed(admins):
        groups.set_role("alice", cid, admin, GroupRole.ADMIN)
    outcome = groups.leave("alice", cid)
    assert outcome.conversation.role_of(owner_after) is GroupRole.OWNER
    assert outcome.sent is not None and outcome.sent.message.change is not None
    assert outcome.sent.message.change.kind is ChangeKind.MEMBER_LEFT
    assert outcome.sent.message.change.owner == owner_after


def test_the_successor_rule_in_a_group_stored_before_roles(world: World) -> None:
    old = Conversation(conversation_id="g_old", kind="group", members=("alice", "bob", "carol"), created_by="alice",
                       created_at=1)
    assert old.role_of("alice") is GroupRole.OWNER
    assert successor(old, "alice") == "bob"
    assert successor(old.model_copy(update={"members": ("alice",)}), "alice") is None


def test_the_last_member_to_leave_leaves_a_group_without_members(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    groups.leave("bob", cid)
    outcome = groups.leave("alice", cid)
    assert outcome.conversation.members == () and outcome.conversation.roles == {}
    with pytest.raises(NotMemberError):
        groups.add_members("alice", cid, ["bob"])


def test_leaving_means_leaving(world: World, groups: GroupService) -> None:
    # given bob left alice's group
    cid = group(world, ["bob", "carol"])
    say(world, "bob", cid, "bye")
    groups.leave("bob", cid)
    # then the group is gone from his list, and he can neither send, read history, type nor mark read
    assert world.inbox.summaries("bob") == []
    with pytest.raises(NotMemberError):
        world.messaging.send("bob", cid, "b2", MessageBody(text="still here?"))
    with pytest.raises(NotMemberError):
        world.messaging.history("bob", cid, before=None, after=0, limit=50)
    with pytest.raises(NotMemberError):
        world.typing.typing("bob", cid)
    # and a message after he left is delivered to the members only
    sent = world.messaging.send("alice", cid, "a1", MessageBody(text="he left"))
    assert "bob" not in sent.recipients


def test_a_direct_conversation_is_not_a_group(world: World, groups: GroupService) -> None:
    cid = world.conversations.open_direct("alice", "bob").conversation_id
    for attempt in (lambda: groups.add_members("alice", cid, ["carol"]), lambda: groups.leave("alice", cid),
                    lambda: groups.rename("alice", cid, "x"), lambda: groups.remove_member("alice", cid, "bob"),
                    lambda: groups.set_role("alice", cid, "bob", GroupRole.ADMIN),
                    lambda: groups.set_settings("alice", cid, HistoryVisibility.ALL)):
        with pytest.raises(NotGroupError):
            attempt()
    assert cid not in world.message_store.messages


def test_the_member_limit_counts_everyone_and_users_per_request_are_bounded(world: World,
                                                                          groups: GroupService) -> None:
    cid = group(world, ["b", "c", "d", "e", "f", "g", "h"])  # 8 of 10
    with pytest.raises(InvalidMembersError):
        groups.add_members("alice", cid, ["i", "j", "k"])
    with pytest.raises(InvalidMembersError):
        groups.add_members("alice", cid, [f"u{i}" for i in range(ADD_MEMBERS_MAX + 1)])
    with pytest.raises(InvalidMembersError):
        groups.add_members("alice", cid, [])
    assert len(groups.add_members("alice", cid, ["i", "j"]).conversation.members) == 10


def test_nobody_is_added_by_someone_they_blocked(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    world.blocks.block("carol", "alice", 1)
    with pytest.raises(BlockedError) as refused:
        groups.add_members("alice", cid, ["dave", "carol"])
    assert "carol" not in refused.value.message  # which user it is stays unsaid
    assert stored(world, cid).members == ("alice", "bob")


def test_a_member_who_blocked_the_author_is_not_sent_the_change_live(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob", "carol"])
    world.blocks.block("bob", "alice", 1)
    outcome = groups.rename("alice", cid, "renamed")
    assert outcome.sent is not None and "bob" not in outcome.sent.recipients


def test_asking_for_what_already_is_stores_nothing(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    for outcome in (groups.add_members("alice", cid, ["bob"]), groups.remove_member("alice", cid, "zed"),
                    groups.rename("alice", cid, "team"), groups.set_role("alice", cid, "bob", GroupRole.MEMBER),
                    groups.set_settings("alice", cid, HistoryVisibility.JOINED)):
        assert outcome.sent is None
    assert cid not in world.message_store.messages


def test_refusals_for_bad_targets(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    with pytest.raises(InvalidMembersError):
        groups.remove_member("alice", cid, "alice")  # leave is for that
    with pytest.raises(InvalidMembersError):
        groups.set_role("alice", cid, "zed", GroupRole.ADMIN)
    with pytest.raises(NotAllowedError):
        groups.set_role("alice", cid, "alice", GroupRole.ADMIN)
    with pytest.raises(NotMemberError):
        groups.leave("mallory", cid)


def test_a_change_that_loses_its_seq_to_a_message_takes_the_next(world: World, groups: GroupService) -> None:
    cid = group(world, ["bob"])
    say(world, "bob", cid, "one")
    world.message_store.steal_next_seqs = 2
    outcome = groups.rename("alice", cid, "renamed")
    assert outcome.sent is not None and outcome.sent.message.seq == 4 and outcome.sent.lost_races == 2
    # and its read state is carried from the message that won: bob's message is still his own, not unread
    assert world.inbox.summaries("alice")[0].unread == 3


def test_a_change_that_loses_to_another_change_of_the_group_is_decided_again(
        world: World, groups: GroupService, store: FakeGroupStore) -> None:
    cid = group(world, ["bob"])
    store.faults = ["race"]
    outcome = groups.add_members("alice", cid, ["carol"])
    assert outcome.conversation.members == ("alice", "bob", "carol")
    assert store.applies == 2 and len(world.message_store.messages[cid]) == 1


def test_endless_races_end_in_conflict_and_store_nothing(world: World, groups: GroupService,
                                                         store: FakeGroupStore) -> None:
    cid = group(world, ["bob"])
    store.faults = ["race"] * 20
    with pytest.raises(ConflictError):
        groups.rename("alice", cid, "x")
    assert cid not in world.message_store.messages or not world.message_store.messages[cid]


def test_a_lost_answer_is_written_again_and_stored_once(world: World, groups: GroupService,
                                                         store: FakeGroupStore) -> None:
    cid = group(world, ["bob"])
    store.faults = ["lost", "error"]
    outcome = groups.add_members("alice", cid, ["carol"])
    assert outcome.sent is not None and outcome.sent.message.seq == 1
    assert list(world.message_store.messages[cid]) == [1]
    assert stored(world, cid).members == ("alice", "bob", "carol") and stored(world, cid).version == 1


def test_a_throttled_change_stores_nothing_and_says_so(world: World, groups: GroupService,
                                                       store: FakeGroupStore) -> None:
    cid = group(world, ["bob"])
    store.faults = ["throttle"]
    with pytest.raises(ThrottledError):
        groups.rename("alice", cid, "x")
    assert stored(world, cid).name == "team" and not world.message_store.messages.get(cid)
