from __future__ import annotations

import pytest

from parley.conversations import ConversationService
from parley.errors import (
    ConflictError,
    ConversationNotFoundError,
    InvalidSeqError,
    NotMemberError,
    StaleLastSeqError,
    TextTooLongError,
)
from parley.messaging import MessagingService
from parley.models import MessageBody
from tests.fakes import FakeMessageStore


def body(text: str = "hi") -> MessageBody:
    return MessageBody(text=text)


def test_sequence_numbers_start_at_one_and_strictly_increase(conversations: ConversationService,
                                                              messaging: MessagingService) -> None:
    conv = conversations.open_direct("alice", "bob")
    seqs = [messaging.send(sender, conv.conversation_id, f"m{i}", body()).message.seq
            for i, sender in enumerate(["alice", "bob", "alice", "alice"])]
    assert seqs == [1, 2, 3, 4]


def test_the_server_sets_sender_and_time(conversations: ConversationService, messaging: MessagingService) -> None:
    conv = conversations.open_direct("alice", "bob")
    first = messaging.send("alice", conv.conversation_id, "a", body()).message
    second = messaging.send("bob", conv.conversation_id, "b", body()).message
    assert (first.sender_id, second.sender_id) == ("alice", "bob")
    assert second.sent_at > first.sent_at
    assert first.message_id != second.message_id


def test_a_message_id_is_derived_from_the_conversation_and_the_seq(conversations: ConversationService,
                                                                   messaging: MessagingService) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    sent = messaging.send("alice", cid, "a", body()).message
    assert sent.message_id == f"{cid}.1"
    # the same id on every read of it, and on a resend
    assert messaging.history("bob", cid, before=None, after=None, limit=10).messages[0].message_id == f"{cid}.1"
    assert messaging.send("alice", cid, "a", body()).message.message_id == f"{cid}.1"


def test_a_resend_returns_the_original_and_stores_nothing(conversations: ConversationService,
                                                          messaging: MessagingService,
                                                          message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    original = messaging.send("alice", conv.conversation_id, "cmid-1", body("hello"))
    messaging.send("bob", conv.conversation_id, "cmid-2", body())
    again = messaging.send("alice", conv.conversation_id, "cmid-1", body("hello"))
    assert again.duplicate and not original.duplicate
    assert again.message == original.message
    assert len(message_store.messages[conv.conversation_id]) == 2


def test_the_same_client_msg_id_from_another_sender_is_a_new_message(conversations: ConversationService,
                                                                     messaging: MessagingService) -> None:
    conv = conversations.open_direct("alice", "bob")
    messaging.send("alice", conv.conversation_id, "same", body())
    other = messaging.send("bob", conv.conversation_id, "same", body())
    assert not other.duplicate and other.message.seq == 2


def test_a_lost_race_for_a_seq_takes_the_next_one(conversations: ConversationService, messaging: MessagingService,
                                                  message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    message_store.steal_next_seqs = 2
    outcome = messaging.send("alice", conv.conversation_id, "x", body())
    assert outcome.message.seq == 3
    assert sorted(message_store.messages[conv.conversation_id]) == [1, 2, 3]


def test_endless_races_end_in_a_conflict_error(conversations: ConversationService, messaging: MessagingService,
                                               message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    message_store.steal_next_seqs = 100
    with pytest.raises(ConflictError):
        messaging.send("alice", conv.conversation_id, "x", body())


def test_non_members_and_unknown_conversations_are_refused(conversations: ConversationService,
                                                           messaging: MessagingService,
                                                           message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    with pytest.raises(NotMemberError):
        messaging.send("mallory", conv.conversation_id, "x", body())
    with pytest.raises(NotMemberError):
        messaging.history("mallory", conv.conversation_id, before=None, after=None, limit=10)
    with pytest.raises(ConversationNotFoundError):
        messaging.send("alice", "d_unknown", "x", body())
    assert message_store.messages == {}


def test_text_over_the_byte_limit_is_refused(conversations: ConversationService, messaging: MessagingService,
                                             message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    messaging.send("alice", conv.conversation_id, "ok", body("x" * 16))
    with pytest.raises(TextTooLongError):
        messaging.send("alice", conv.conversation_id, "long", body("é" * 9))  # 18 bytes of UTF-8
    assert len(message_store.messages[conv.conversation_id]) == 1


def test_history_pages_in_sequence_order(conversations: ConversationService, messaging: MessagingService) -> None:
    conv = conversations.open_direct("alice", "bob")
    for i in range(7):
        messaging.send("alice", conv.conversation_id, f"m{i}", body())
    latest = messaging.history("bob", conv.conversation_id, before=None, after=None, limit=3)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.has_more
    older = messaging.history("bob", conv.conversation_id, before=5, after=None, limit=3)
    assert [m.seq for m in older.messages] == [2, 3, 4] and older.has_more
    catch_up = messaging.history("bob", conv.conversation_id, before=None, after=4, limit=10)
    assert [m.seq for m in catch_up.messages] == [5, 6, 7] and not catch_up.has_more


def test_a_resend_with_last_seq_is_recognised_however_many_messages_arrived_since(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    conv = conversations.open_direct("alice", "bob")
    cid = conv.conversation_id
    messaging.send("bob", cid, "b-0", body())
    # alice had seen seq 1 when she first sent; her ack was lost, and 50 messages arrive before she resends
    original = messaging.send("alice", cid, "queued-offline", body("hello"), last_seq=1)
    for i in range(50):
        messaging.send("bob", cid, f"b-{i + 1}", body())
    again = messaging.send("alice", cid, "queued-offline", body("hello"), last_seq=1)
    assert again.duplicate and again.message == original.message
    assert len(message_store.messages[cid]) == 52
    # without lastSeq only the newest 10 are looked at (the window of older clients): stored again
    assert not messaging.send("alice", cid, "queued-offline", body("hello")).duplicate


def test_last_seq_beyond_the_newest_message_is_refused_and_stores_nothing(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    messaging.send("bob", cid, "b-0", body())
    with pytest.raises(InvalidSeqError):
        messaging.send("alice", cid, "c", body(), last_seq=7)
    assert len(message_store.messages[cid]) == 1


def test_last_seq_too_far_behind_asks_the_client_to_catch_up(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("parley.messaging.RESEND_SCAN_MAX", 5)
    cid = conversations.open_direct("alice", "bob").conversation_id
    for i in range(6):
        messaging.send("bob", cid, f"b-{i}", body())
    with pytest.raises(StaleLastSeqError):
        messaging.send("alice", cid, "c", body(), last_seq=0)
    assert len(message_store.messages[cid]) == 6
    assert messaging.send("alice", cid, "c", body(), last_seq=1).message.seq == 7  # within reach: stored


def test_last_seq_zero_checks_a_whole_short_conversation(conversations: ConversationService,
                                                         messaging: MessagingService) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    first = messaging.send("alice", cid, "c", body(), last_seq=0)
    assert messaging.send("alice", cid, "c", body(), last_seq=0).message == first.message


def test_a_non_member_learns_nothing_from_last_seq(conversations: ConversationService,
                                                   messaging: MessagingService) -> None:
    # given a conversation with 3 messages that mallory is not in
    cid = conversations.open_direct("alice", "bob").conversation_id
    for i in range(3):
        messaging.send("bob", cid, f"b-{i}", body())
    # then whatever lastSeq she tries, the answer is not_member: it never reveals how far the conversation goes
    for last_seq in (0, 2, 3, 4, 10**6):
        with pytest.raises(NotMemberError):
            messaging.send("mallory", cid, "m", body(), last_seq=last_seq)
