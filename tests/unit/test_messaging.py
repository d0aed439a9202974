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
    ThrottledError,
)
from parley.messaging import FAILED_PUTS, SEQ_RACE_PUTS, MessagingService
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
    message_store.steal_next_seqs = SEQ_RACE_PUTS
    with pytest.raises(ConflictError):
        messaging.send("alice", conv.conversation_id, "x", body())
    assert "x" not in {m.client_msg_id for m in message_store.messages[conv.conversation_id].values()}


def test_in_a_busy_conversation_a_send_walks_past_the_messages_that_won_without_reading_it_again(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    # given a group so busy that another member's message lands between every read of its head and the put after it
    cid = conversations.create_group("alice", ["bob", "carol"], "busy").conversation_id
    message_store.busy = True
    # when alice sends five messages
    outcomes = [messaging.send("alice", cid, f"a-{i}", body()) for i in range(5)]
    # then none of them ends in a conflict: each lost one race and was stored at the seq after the winner
    assert [o.message.seq for o in outcomes] == [2, 4, 6, 8, 10]
    assert [o.lost_races for o in outcomes] == [1] * 5
    assert message_store.head_reads == 5 and message_store.puts == 10  # one read per send, one put per race


def test_a_send_walks_past_up_to_its_limit_of_lost_races(conversations: ConversationService,
                                                         messaging: MessagingService,
                                                         message_store: FakeMessageStore) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    message_store.steal_next_seqs = SEQ_RACE_PUTS - 1
    outcome = messaging.send("alice", cid, "x", body())
    assert outcome.message.seq == SEQ_RACE_PUTS and outcome.lost_races == SEQ_RACE_PUTS - 1
    assert sorted(message_store.messages[cid]) == list(range(1, SEQ_RACE_PUTS + 1))


def test_the_read_state_is_carried_forward_from_the_message_that_won(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    # given a group where alice and carol have written
    cid = conversations.create_group("alice", ["bob", "carol"], "trio").conversation_id
    messaging.send("alice", cid, "a-1", body())
    messaging.send("carol", cid, "c-1", body())
    # when bob's message takes seq 3 between alice's read and her put
    message_store.rivals = [("bob", "b-1")]
    outcome = messaging.send("alice", cid, "a-2", body())
    # then hers is stored at 4, knowing every sender's newest own message, bob's included
    assert outcome.message.seq == 4
    assert outcome.message.recent_senders == {"alice": (4, 4), "bob": (3, 3), "carol": (2, 2)}


def test_a_resend_racing_its_original_gets_the_original_and_nothing_is_stored_twice(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    # given alice's app resent a message whose first attempt is still running
    cid = conversations.open_direct("alice", "bob").conversation_id
    messaging.send("bob", cid, "b-1", body())
    # when the first attempt stores it between the resend's read and its put
    message_store.rivals = [("alice", "a-1")]
    outcome = messaging.send("alice", cid, "a-1", body())
    # then the resend answers with the stored message, and it is there once
    assert outcome.duplicate and outcome.message.seq == 2
    assert [m.client_msg_id for m in message_store.messages[cid].values()] == ["b-1", "a-1"]


@pytest.mark.parametrize("after", [[], ["throttle"], ["error"], ["throttle", "throttle"], ["error", "error"]])
def test_a_put_whose_answer_was_lost_is_acked_once_whatever_the_next_puts_meet(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore,
        after: list[str]) -> None:
    # given a put that stored the message but whose answer was lost, then the given faults on the puts after it
    cid = conversations.open_direct("alice", "bob").conversation_id
    message_store.put_faults = ["lost", *after]
    # when alice sends
    outcome = messaging.send("alice", cid, "a-1", body())
    # then she gets the stored message (as sent by this send, not a resend), stored once
    assert outcome.message.seq == 1 and not outcome.duplicate
    assert list(message_store.messages[cid]) == [1]
    assert outcome.message == message_store.messages[cid][1]


def test_a_put_that_keeps_failing_stores_nothing_and_raises(conversations: ConversationService,
                                                            messaging: MessagingService,
                                                            message_store: FakeMessageStore) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    message_store.put_faults = ["error"] * FAILED_PUTS
    with pytest.raises(ConnectionError):
        messaging.send("alice", cid, "a-1", body())
    assert message_store.messages[cid] == {}
    assert message_store.puts == FAILED_PUTS


def test_a_throttled_first_put_stores_nothing_and_says_so(conversations: ConversationService,
                                                          messaging: MessagingService,
                                                          message_store: FakeMessageStore) -> None:
    cid = conversations.open_direct("alice", "bob").conversation_id
    message_store.put_faults = ["throttle"]
    with pytest.raises(ThrottledError):
        messaging.send("alice", cid, "a-1", body())
    assert message_store.messages[cid] == {} and message_store.puts == 1


def test_a_failed_put_after_lost_races_is_put_again_at_the_same_seq(
        conversations: ConversationService, messaging: MessagingService, message_store: FakeMessageStore) -> None:
    # given alice's put loses a race, then the put after it fails with a 5xx (nothing stored)
    cid = conversations.open_direct("alice", "bob").conversation_id
    message_store.rivals = [("bob", "b-1")]
    message_store.put_faults = ["", "error"]
    # when she sends, then the message is stored once, right after bob's
    outcome = messaging.send("alice", cid, "a-1", body())
    assert outcome.message.seq == 2 and outcome.lost_races == 1 and not outcome.duplicate
    assert [m.client_msg_id for m in message_store.messages[cid].values()] == ["b-1", "a-1"]


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
