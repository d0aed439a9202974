"""The conversation, member and message events (docs/events.md) against in-memory fakes: each published once
by the core service, whoever acted, and never failing the action when the topic fails."""

from __future__ import annotations

import pytest

from parley.conversations import ConversationService
from parley.events import Events
from parley.groups import GroupService
from parley.messaging import MessagingService
from parley.models import MessageBody
from tests.fakes import FakeConversationStore, FakeGroupStore, FakeMessageStore, FakePublisher
from tests.unit.conftest import Clock


class BrokenPublisher(FakePublisher):
    def publish(self, event: dict[str, object], event_type: str) -> None:
        raise RuntimeError("SNS is down")


class App:
    def __init__(self, clock: Clock, *, message_created: bool = False,
                 publisher: FakePublisher | None = None) -> None:
        self.publisher = publisher or FakePublisher()
        events = Events(self.publisher, message_created=message_created)
        store = FakeConversationStore()
        self.messages = FakeMessageStore(store)
        self.conversations = ConversationService(store, 10, clock=clock, events=events)
        self.messaging = MessagingService(self.messages, self.conversations, max_text_bytes=100,
                                          idempotency_window=10, clock=clock, events=events)
        self.groups = GroupService(self.messages, FakeGroupStore(store, self.messages), self.conversations,
                                   max_members=10, clock=clock, events=events)

    def published(self, event_type: str) -> list[dict[str, object]]:
        return [e for t, e in self.publisher.published if t == event_type]


def test_a_new_direct_conversation_is_announced_once(clock: Clock) -> None:
    app = App(clock)
    direct = app.conversations.open_direct("alice", "bob")
    app.conversations.open_direct("bob", "alice")  # the same pair: found, not created
    assert app.published("conversation.created") == [{
        "type": "conversation.created", "version": 1, "conversationId": direct.conversation_id,
        "conversationKind": "direct", "members": ["alice", "bob"], "createdBy": "alice",
        "createdAt": direct.created_at}]


def test_a_group_is_announced_with_its_name_and_members(clock: Clock) -> None:
    app = App(clock)
    group = app.conversations.create_group("alice", ["bob", "carol"], "Book club")
    [event] = app.published("conversation.created")
    assert (event["conversationKind"], event["name"], event["members"]) == ("group", "Book club",
                                                                            ["alice", "bob", "carol"])
    assert event["conversationId"] == group.conversation_id


def test_members_added_removed_and_leaving_are_announced_with_their_change_seq(clock: Clock) -> None:
    app = App(clock)
    cid = app.conversations.create_group("alice", ["bob"], "g").conversation_id
    added = app.groups.add_members("alice", cid, ["carol", "dave", "bob"])
    app.groups.remove_member("alice", cid, "dave")
    app.groups.leave("carol", cid)
    app.groups.add_members("alice", cid, ["bob"])  # a member already: nothing changes, nothing announced
    assert added.sent is not None
    [joined] = app.published("member.added")
    assert joined == {"type": "member.added", "version": 1, "conversationId": cid, "userIds": ["carol", "dave"],
                      "by": "alice", "seq": added.sent.message.seq, "at": added.sent.message.sent_at}
    removed = app.published("member.removed")
    assert [(e["userId"], e["by"], e["reason"]) for e in removed] == [("dave", "alice", "removed"),
                                                                    ("carol", "carol", "left")]


def test_message_created_is_off_unless_asked_for(clock: Clock) -> None:
    app = App(clock)
    cid = app.conversations.open_direct("alice", "bob").conversation_id
    app.messaging.send("alice", cid, "m1", MessageBody(text="hi"))
    assert app.published("message.created") == []


def test_message_created_when_asked_for_is_one_event_per_message_not_per_resend(clock: Clock) -> None:
    app = App(clock, message_created=True)
    cid = app.conversations.open_direct("alice", "bob").conversation_id
    sent = app.messaging.send("alice", cid, "m1", MessageBody(text="hi"))
    app.messaging.send("alice", cid, "m1", MessageBody(text="hi"))  # a resend: recognised, not stored again
    assert app.published("message.created") == [{
        "type": "message.created", "version": 1, "conversationId": cid, "conversationKind": "direct",
        "seq": sent.message.seq, "messageId": sent.message.message_id, "senderId": "alice",
        "sentAt": sent.message.sent_at, "text": "hi"}]


def test_message_created_covers_the_apps_system_messages(clock: Clock) -> None:
    app = App(clock, message_created=True)
    cid = app.conversations.open_direct("alice", "bob").conversation_id
    posted = app.messaging.post_system("#system", cid, "order-42", MessageBody(text="Your order has shipped"))
    app.messaging.post_system("#system", cid, "order-42", MessageBody(text="Your order has shipped"))  # a retry
    assert [(e["senderId"], e["seq"]) for e in app.published("message.created")] == [("#system", posted.message.seq)]


def test_a_failing_topic_never_fails_the_action(clock: Clock) -> None:
    app = App(clock, message_created=True, publisher=BrokenPublisher())
    cid = app.conversations.create_group("alice", ["bob"], "g").conversation_id
    app.groups.add_members("alice", cid, ["carol"])
    sent = app.messaging.send("alice", cid, "m1", MessageBody(text="hi"))
    assert not sent.duplicate and app.messages.get(cid, sent.message.seq) is not None


@pytest.mark.parametrize("include_text", [True, False])
def test_message_created_leaves_out_the_text_in_the_content_free_mode(clock: Clock, include_text: bool) -> None:
    publisher = FakePublisher()
    app = App(clock)
    app.messaging._events = Events(publisher, message_created=True, include_text=include_text)
    cid = app.conversations.open_direct("alice", "bob").conversation_id
    app.messaging.send("alice", cid, "m1", MessageBody(text="hi"))
    [(_, event)] = publisher.published
    assert ("text" in event) is include_text
