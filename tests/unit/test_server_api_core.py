"""The core behind the server API, with in-memory fakes: system senders, system messages, groups changed by the
system, and the audit log's targets and entries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley import audit
from parley.audit import AuditEntry, AuditLog, AuditPage, AuditStore
from parley.errors import BlockedError, ConversationNotFoundError, NotAllowedError, TextTooLongError
from parley.groups import GroupService
from parley.models import ChangeKind, GroupRole, MessageBody
from parley.user_ids import SYSTEM_SENDER, bot_sender, is_system_sender, is_user_id
from tests.fakes import FakeGroupStore
from tests.unit.conftest import World


@given(st.text(min_size=1, max_size=128))
def test_no_user_id_is_ever_a_system_sender(value: str) -> None:
    # whatever a user id is, it is never taken for the system or a bot
    if is_user_id(value):
        assert not is_system_sender(value)


def test_the_system_and_bots_are_recognised_and_are_not_user_ids() -> None:
    for sender in (SYSTEM_SENDER, bot_sender("shop")):
        assert is_system_sender(sender) and not is_user_id(sender)


def direct(world: World) -> str:
    return world.conversations.open_direct("alice", "bob").conversation_id


def test_a_system_message_goes_to_every_member_and_counts_unread_for_both(world: World) -> None:
    cid = direct(world)
    sent = world.messaging.post_system(bot_sender("shop"), cid, "order-1", MessageBody(text="Shipped"))
    assert (sent.message.seq, sent.message.sender_id, sent.duplicate) == (1, "#bot:shop", False)
    assert sorted(sent.recipients) == ["alice", "bob"]
    assert {s.unread for s in world.inbox.summaries("alice")} == {1}
    assert {s.unread for s in world.inbox.summaries("bob")} == {1}


def test_a_system_message_reaches_a_user_who_blocked_the_other_member(world: World) -> None:
    cid = direct(world)
    world.blocks.block("bob", "alice", 0)
    sent = world.messaging.post_system(SYSTEM_SENDER, cid, "notice", MessageBody(text="Terms changed"))
    assert sorted(sent.recipients) == ["alice", "bob"]


def test_a_resent_system_message_is_the_stored_one(world: World) -> None:
    cid = direct(world)
    first = world.messaging.post_system(SYSTEM_SENDER, cid, "x", MessageBody(text="hi"))
    again = world.messaging.post_system(SYSTEM_SENDER, cid, "x", MessageBody(text="hi"))
    assert (again.message.seq, again.duplicate) == (first.message.seq, True)


def test_the_same_client_id_from_another_bot_is_another_message(world: World) -> None:
    cid = direct(world)
    world.messaging.post_system(bot_sender("a"), cid, "x", MessageBody(text="hi"))
    other = world.messaging.post_system(bot_sender("b"), cid, "x", MessageBody(text="hi"))
    assert (other.message.seq, other.duplicate) == (2, False)


def test_a_system_message_is_refused_for_no_conversation_or_too_much_text(world: World) -> None:
    with pytest.raises(ConversationNotFoundError):
        world.messaging.post_system(SYSTEM_SENDER, "d_none", "x", MessageBody(text="hi"))
    with pytest.raises(TextTooLongError):
        world.messaging.post_system(SYSTEM_SENDER, direct(world), "x", MessageBody(text="x" * 101))


def test_only_the_system_or_a_bot_posts_system_messages(world: World) -> None:
    with pytest.raises(ValueError, match="system"):
        world.messaging.post_system("alice", direct(world), "x", MessageBody(text="hi"))


@pytest.fixture
def groups(world: World) -> GroupService:
    return GroupService(world.message_store, FakeGroupStore(world.conversation_store, world.message_store),
                        world.conversations, max_members=10, blocks=world.blocks, clock=world.clock)


def test_the_system_removes_the_owner_and_ownership_passes_on(world: World, groups: GroupService) -> None:
    cid = world.conversations.create_group("alice", ["bob", "carol"], "team").conversation_id
    groups.set_role(SYSTEM_SENDER, cid, "carol", GroupRole.ADMIN)
    outcome = groups.remove_member(SYSTEM_SENDER, cid, "alice")
    assert outcome.conversation.members == ("bob", "carol")
    assert outcome.conversation.role_of("carol") is GroupRole.OWNER  # the admin, before the earlier member
    assert outcome.sent is not None and outcome.sent.message.sender_id == SYSTEM_SENDER
    assert outcome.sent.message.change is not None
    assert outcome.sent.message.change.kind is ChangeKind.MEMBER_REMOVED


def test_the_system_passes_ownership_and_the_old_owner_stays_an_admin(world: World, groups: GroupService) -> None:
    cid = world.conversations.create_group("alice", ["bob"], "team").conversation_id
    outcome = groups.set_role(SYSTEM_SENDER, cid, "bob", GroupRole.OWNER)
    assert outcome.conversation.role_of("bob") is GroupRole.OWNER
    assert outcome.conversation.role_of("alice") is GroupRole.ADMIN


@pytest.mark.parametrize(("blocker", "blocked"), [("carol", "bob"), ("bob", "carol"), ("carol", "dave")])
def test_the_system_adds_nobody_with_a_block_either_way(world: World, groups: GroupService, blocker: str,
                                                         blocked: str) -> None:
    cid = world.conversations.create_group("alice", ["bob"], "team").conversation_id
    world.blocks.block(blocker, blocked, 0)
    with pytest.raises(BlockedError):
        groups.add_members(SYSTEM_SENDER, cid, ["carol", "dave"])
    assert world.conversation_store.get(cid).members == ("alice", "bob")  # type: ignore[union-attr]


def test_a_member_acting_through_the_api_keeps_the_member_rules(world: World, groups: GroupService) -> None:
    cid = world.conversations.create_group("alice", ["bob"], "team").conversation_id
    with pytest.raises(NotAllowedError):
        groups.add_members("bob", cid, ["carol"])


class RecordingStore(AuditStore):
    def __init__(self) -> None:
        self.entries: list[tuple[AuditEntry, int]] = []

    def put(self, entry: AuditEntry, *, expires_at: int) -> None:
        self.entries.append((entry, expires_at))

    def by_time(self, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        return AuditPage(entries=(), cursor=None)

    def by_target(self, target: str, start: int, end: int, limit: int, cursor: str | None,
                  caller: str | None = None) -> AuditPage:
        return AuditPage(entries=(), cursor=None)

    def by_caller(self, caller: str, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        return AuditPage(entries=(), cursor=None)


def test_targets_named_during_a_call_are_collected_once_in_order() -> None:
    audit.begin_call()
    audit.audit_targets(user_ids=["alice", "bob"])
    audit.audit_targets(conversation_id="g_x", user_ids=["alice"], report="g_x#3#bob", message=["g_x#3"])
    assert audit.collected_targets() == ("user:alice", "user:bob", "conversation:g_x", "report:g_x#3#bob",
                                         "message:g_x#3")


def test_an_entry_is_kept_for_the_retention_and_carries_who_what_and_targets() -> None:
    store = RecordingStore()
    log = AuditLog(store, retention_days=2, clock=lambda: 1_000_000)
    log.record(caller="arn:aws:iam::1:user/x", operation="GET /v1/audit", status=200, targets=["user:a", "user:a"])
    ((entry, expires_at),) = store.entries
    assert (entry.caller, entry.operation, entry.status, entry.targets) == (
        "arn:aws:iam::1:user/x", "GET /v1/audit", 200, ("user:a",))
    assert expires_at == 1_000 + 2 * 86_400
