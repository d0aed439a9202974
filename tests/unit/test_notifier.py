"""The notifier's rules against fakes: modes, ledger, disabled endpoints, failures, the badge and what it reads."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, cast

import pytest

from parley.devices import MAX_DEVICES_PER_USER, DeviceService
from parley.fanout import Fanout
from parley.inbox import InboxService
from parley.models import MessageBody, NotifyMode, Platform
from parley.notifier import LEDGER_MARGIN_S, Notifier, OutOfTimeError
from parley.unread_events import UnreadEvent, UnreadEventPublisher
from tests.fakes import FakeDeviceStore, FakePublisher, FakePushGateway, FakePushLedger, FakeRecipientStore
from tests.unit.conftest import Clock, World

APNS_APP = "arn:aws:sns:us-east-1:1:app/APNS/parley"
FCM_APP = "arn:aws:sns:us-east-1:1:app/GCM/parley"


class PushWorld:
    def __init__(self, world: World, wrap: Callable[[str, Any], Any] = lambda _name, store: store) -> None:
        """``wrap``: stands between the notifier and each store (to record what it asks of them)."""
        self.world = world
        self.devices, self.gateway, self.ledger = FakeDeviceStore(world.profiles), FakePushGateway(), FakePushLedger()
        self.registry = DeviceService(self.devices, self.gateway, {"apns": APNS_APP, "fcm": FCM_APP},
                                      clock=world.clock)
        self.publisher = FakePublisher()
        self.events = UnreadEventPublisher(self.publisher, include_text=True)
        inbox = InboxService(wrap("memberships", world.conversation_store), wrap("messages", world.message_store),
                             world.conversations, wrap("profiles", world.profiles), None,
                             blocks=wrap("blocks", world.blocks), clock=world.clock)
        self.notifier = Notifier(wrap("recipients", FakeRecipientStore(world.profiles, world.conversation_store)),
                                 wrap("messages", world.message_store), wrap("profiles", world.profiles),
                                 wrap("devices", self.devices), self.gateway, wrap("ledger", self.ledger), inbox,
                                 with_content=True, clock=world.clock)

    def send(self, sender: str, cid: str, text: str) -> UnreadEvent | None:
        outcome = self.world.messaging.send(sender, cid, f"c-{text}-{self.world.clock()}", MessageBody(text=text))
        result = self.world.fanout.deliver(outcome.recipients, b"{}", self.world.clock())
        offline = [u for u in result.unreached if u != sender]
        if not offline:
            return None
        return self.events.publish(outcome.message, outcome.conversation, offline)

    def pushed(self, index: int = -1) -> dict[str, Any]:
        """The payload of a push, decoded (the newest by default)."""
        _arn, message = self.gateway.published[index]
        platform = next(k for k in message if k != "default")
        payload: dict[str, Any] = json.loads(message[platform])
        return payload


@pytest.fixture
def push(world: World) -> PushWorld:
    return PushWorld(world)


def test_one_event_per_message_naming_only_the_offline_members(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol", "dave"], "g").conversation_id
    push.world.connect("carol", "c1")
    push.send("alice", gid, "hi")
    [(kind, event)] = push.publisher.published
    assert kind == "message.unread" and event["recipients"] == ["bob", "dave"]


def test_passive_users_get_nothing_and_disabled_endpoints_are_forgotten(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    phone = push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("bob", Platform.FCM, "f" * 64)
    push.gateway.disabled.add(phone.endpoint_arn)
    event = push.send("alice", cid, "hi")
    assert event is not None
    report = push.notifier.notify(event)
    assert (report.pushed, report.removed_endpoints) == (1, 1)
    assert [d.platform for d in push.devices.list_for_user("bob")] == [Platform.FCM]
    assert push.gateway.deleted == [phone.endpoint_arn]
    push.world.preferences.update("bob", visibility=None, hide_read_receipts=None, notify=NotifyMode.PASSIVE)
    assert push.notifier.notify(event.model_copy(update={"message_id": "other"})).skipped_passive == 1


def test_a_retry_after_a_failure_midway_pushes_only_the_rest(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    bobs = push.registry.register("bob", Platform.APNS, "a" * 64)
    carols = push.registry.register("carol", Platform.APNS, "c" * 64)
    event = push.send("alice", gid, "hi")
    assert event is not None
    push.gateway.failing.add(carols.endpoint_arn)
    with pytest.raises(RuntimeError):
        push.notifier.notify(event)  # bob's went out, carol's failed: the event will be retried
    push.gateway.failing.clear()
    retried = push.notifier.notify(event)
    assert (retried.pushed, retried.duplicates) == (1, 1)
    assert push.notifier.notify(event).duplicates == 2
    assert [arn for arn, _ in push.gateway.published] == [bobs.endpoint_arn, carols.endpoint_arn]
    assert push.pushed(0)["aps"]["badge"] == 1
    assert push.ledger.writes == 2  # one per notify that pushed something, not one per device


def test_fanout_reports_who_it_could_not_reach(world: World) -> None:
    world.connect("alice", "a1")
    world.connect("bob", "b-stale")
    world.gateway.stale.add("b-stale")
    result = Fanout(world.connection_store, world.gateway).deliver(["alice", "bob", "carol"], b"x", world.clock())
    assert result.unreached == ("bob", "carol")


def test_every_push_carries_the_message_id_as_its_collapse_id(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    event = push.send("alice", cid, "hi")
    assert event is not None
    push.notifier.notify(event)
    assert push.gateway.collapse_ids == [event.message_id]


def test_a_recipient_who_read_it_meanwhile_is_not_pushed(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    event = push.send("alice", cid, "hi")
    assert event is not None
    push.world.inbox.read("bob", "b-tablet", cid, event.seq)  # on another device, before the push went out
    assert push.notifier.notify(event).skipped_read == 1 and push.gateway.published == []


def test_a_recipient_who_replied_meanwhile_is_not_pushed(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    event = push.send("alice", cid, "hi")
    assert event is not None
    push.world.messaging.send("bob", cid, "reply", MessageBody(text="on my way"))  # his reply reads it
    assert push.notifier.notify(event).skipped_read == 1 and push.gateway.published == []


class FailingLedger(FakePushLedger):
    def record(self, message_id: str, token_hashes: set[str], expires_at: int) -> None:
        raise RuntimeError("DynamoDB is throttling")


def test_an_event_whose_pushes_all_went_out_does_not_fail_for_its_ledger(push: PushWorld) -> None:
    # given a ledger that cannot be written: failing the event would make Lambda retry it and push again
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("carol", Platform.FCM, "c" * 64)
    event = push.send("alice", gid, "hi")
    assert event is not None
    world = push.world
    notifier = Notifier(FakeRecipientStore(world.profiles, world.conversation_store), world.message_store,
                        world.profiles, push.devices, push.gateway, FailingLedger(), world.inbox, with_content=True,
                        clock=world.clock)
    assert notifier.notify(event).pushed == 2


def test_near_its_deadline_the_notifier_stops_and_records_what_went_out(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("carol", Platform.APNS, "c" * 64)
    event = push.send("alice", gid, "hi")
    assert event is not None
    # given an invocation that ends sooner than the ledger margin: nothing is pushed, the event is retried
    with pytest.raises(OutOfTimeError):
        push.notifier.notify(event, deadline_s=time.monotonic() + LEDGER_MARGIN_S / 2)
    assert push.gateway.published == []
    assert push.notifier.notify(event).pushed == 2


# --- what the notifier reads does not grow with the recipient's inbox ---

class Recorder:
    """Stands in for a store and records each call: the store, the method, and how many items it named."""

    def __init__(self, name: str, store: Any, log: list[tuple[str, str, int]]) -> None:
        self._name, self._store, self._log = name, store, log

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._store, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            named = sum(len(a) if isinstance(a, (list, tuple, set, frozenset)) else 1 for a in args)
            self._log.append((self._name, method, named))
            return real(*args, **kwargs)
        return call


def reads_for_a_recipient_in(conversations: int) -> list[tuple[str, str, int]]:
    """What the notifier asks of its stores to push alice's message to bob, who is in ``conversations``
    conversations, each with unread messages."""
    log: list[tuple[str, str, int]] = []
    push = PushWorld(World(Clock()), lambda name, store: cast(Any, Recorder(name, store, log)))
    push.registry.register("bob", Platform.APNS, "a" * 64)
    for i in range(conversations - 1):
        other = push.world.conversations.open_direct(f"user{i}", "bob").conversation_id
        push.world.messaging.send(f"user{i}", other, "c", MessageBody(text="hello"))
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    event = push.send("alice", cid, "hi")
    assert event is not None
    log.clear()
    assert push.notifier.notify(event).pushed == 1
    return log


def test_a_recipient_in_200_conversations_costs_the_same_reads_as_one_in_1() -> None:
    # given bob in 1 conversation, then in 200 (all with unread messages)
    one, many = reads_for_a_recipient_in(1), reads_for_a_recipient_in(200)
    # then pushing him a message asks the stores the same things, in the same amounts
    assert many == one
    # and that is: the ledger, the conversation's newest message, bob's profile and membership in one batch,
    # his badge counted up once (the message turned the conversation unread), the ledger written
    assert [(store, method) for store, method, _ in one] == [
        ("ledger", "pushed"), ("recipients", "get_many"), ("messages", "latest"), ("profiles", "count_unread"),
        ("ledger", "record")]


# --- the badge: conversations with unread messages ---

def test_the_badge_counts_conversations_and_each_push_carries_its_conversations_unread(push: PushWorld) -> None:
    first = push.world.conversations.open_direct("alice", "bob").conversation_id
    second = push.world.conversations.open_direct("carol", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    for sender, cid in (("alice", first), ("alice", first), ("carol", second), ("alice", first)):
        event = push.send(sender, cid, "hi")
        assert event is not None
        push.notifier.notify(event)
    # then the badge counts conversations (2), and `unread` the messages of the pushed conversation
    assert [(p["aps"]["badge"], p["parley"]["unread"]) for p in map(push.pushed, range(4))] == [
        (1, "1"), (1, "2"), (2, "1"), (2, "3")]
    # and the badge was written only when a conversation turned unread
    assert push.world.profiles.badge_writes == 2


def test_a_retried_event_does_not_count_its_conversation_twice(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    phone = push.registry.register("bob", Platform.APNS, "a" * 64)
    event = push.send("alice", cid, "hi")
    assert event is not None
    # given the push failed after the badge was counted: Lambda retries the event
    push.gateway.failing.add(phone.endpoint_arn)
    with pytest.raises(RuntimeError):
        push.notifier.notify(event)
    push.gateway.failing.clear()
    assert push.notifier.notify(event).pushed == 1
    # then the conversation is in the badge once
    assert push.pushed()["aps"]["badge"] == 1 and push.world.profiles.get("bob").badge == 1


def test_own_messages_and_blocked_users_messages_are_not_unread(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.world.messaging.send("bob", gid, "b1", MessageBody(text="mine"))
    push.world.blocks.block("bob", "carol", push.world.clock())
    push.world.profiles.update("bob", blocks_count=1)
    for _ in range(2):
        push.world.messaging.send("carol", gid, f"c-{push.world.clock()}", MessageBody(text="hidden from bob"))
    event = push.send("alice", gid, "hi")
    assert event is not None
    push.notifier.notify(event)
    # then alice's message is bob's only unread one: it turned the conversation unread
    assert (push.pushed()["parley"]["unread"], push.pushed()["aps"]["badge"]) == ("1", 1)


def test_the_last_disconnect_sets_the_badge_exactly(push: PushWorld) -> None:
    first = push.world.conversations.open_direct("alice", "bob").conversation_id
    second = push.world.conversations.open_direct("carol", "bob").conversation_id
    muted = push.world.conversations.open_direct("dave", "bob").conversation_id
    for sender, cid in (("alice", first), ("carol", second), ("dave", muted)):
        push.world.messaging.send(sender, cid, "c", MessageBody(text="hi"))
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.world.preferences.update_conversation("bob", muted, notify=None, muted_until=push.world.clock.now + 10**9,
                                               fields={"muted_until"})
    push.world.profiles.set_badge("bob", 7)  # drifted
    # when bob's phone connects, reads one conversation and closes its last connection
    push.world.connect("bob", "b1")
    push.world.connect("bob", "b2")
    push.world.inbox.read("bob", "b1", first, 1)
    push.world.disconnect("bob", "b1")
    assert push.world.profiles.get("bob").badge == 6  # the read took one off; b2 is still open
    push.world.disconnect("bob", "b2")
    # then his badge is the conversations he has not read, the muted one left out
    assert push.world.profiles.get("bob").badge == 1


def test_the_disconnect_walk_leaves_out_conversations_where_only_blocked_users_wrote(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    direct = push.world.conversations.open_direct("dave", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.world.blocks.block("bob", "carol", push.world.clock())
    push.world.profiles.update("bob", blocks_count=1)
    push.world.messaging.send("carol", gid, "c1", MessageBody(text="hidden from bob"))
    push.world.messaging.send("dave", direct, "d1", MessageBody(text="hi"))
    push.world.connect("bob", "b1")
    push.world.disconnect("bob", "b1")
    # then only dave's conversation is in his badge, as unreadCounts counts it too
    assert push.world.profiles.get("bob").badge == 1 == push.world.badges.unread_counts("bob").badge


def test_the_badge_of_a_user_the_notifier_never_pushes_is_left_alone_at_disconnect(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    push.world.messaging.send("alice", cid, "c", MessageBody(text="hi"))
    push.world.connect("bob", "b1")
    push.world.disconnect("bob", "b1")  # no device: no walk, nothing written
    push.registry.register("carol", Platform.APNS, "c" * 64)
    push.world.preferences.update("carol", visibility=None, hide_read_receipts=None, notify=NotifyMode.PASSIVE)
    push.world.connect("carol", "c1")
    push.world.disconnect("carol", "c1")  # passive: no push, no badge to keep
    assert push.world.profiles.badge_writes == 0


def test_reading_a_conversation_to_its_end_takes_it_off_the_badge_once(push: PushWorld) -> None:
    first = push.world.conversations.open_direct("alice", "bob").conversation_id
    second = push.world.conversations.open_direct("carol", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    for sender, cid in (("alice", first), ("alice", first), ("carol", second)):
        event = push.send(sender, cid, "hi")
        assert event is not None
        push.notifier.notify(event)
    assert push.world.profiles.get("bob").badge == 2
    push.world.inbox.read("bob", "b1", first, 1)
    assert push.world.profiles.get("bob").badge == 2  # one message left there
    push.world.inbox.read("bob", "b1", first, 2)
    push.world.inbox.read("bob", "b2", first, 2)  # another device, the same read: nothing more to take
    assert push.world.profiles.get("bob").badge == 1


def test_unread_counts_answers_the_badge_and_corrects_the_stored_one(push: PushWorld) -> None:
    first = push.world.conversations.open_direct("alice", "bob").conversation_id
    second = push.world.conversations.open_direct("carol", "bob").conversation_id
    for sender, cid in (("alice", first), ("alice", first), ("carol", second)):
        push.world.messaging.send(sender, cid, f"c-{push.world.clock()}", MessageBody(text="hi"))
    counts = push.world.badges.unread_counts("bob")
    assert (counts.total, counts.badge, len(counts.conversations)) == (3, 2, 2)
    assert push.world.profiles.get("bob").badge == 2
    writes = push.world.profiles.badge_writes
    push.world.badges.unread_counts("bob")
    assert push.world.profiles.badge_writes == writes  # unchanged: not written again


# --- devices ---

def test_a_token_moves_to_the_user_who_registers_it_last(push: PushWorld) -> None:
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("dave", Platform.APNS, "a" * 64)  # dave signs in on bob's old phone
    assert push.devices.list_for_user("bob") == []
    assert [d.user_id for d in push.devices.list_for_user("dave")] == ["dave"]
    assert push.registry.unregister("bob", "a" * 64) is False  # not his any more: dave's endpoint stays
    assert push.gateway.deleted == []


def test_a_user_keeps_the_newest_devices_up_to_the_limit(push: PushWorld) -> None:
    tokens = [f"{i:02d}" * 32 for i in range(MAX_DEVICES_PER_USER + 1)]
    devices = [push.registry.register("bob", Platform.APNS, token) for token in tokens]
    push.registry.register("bob", Platform.APNS, tokens[1])  # the second phone registers again: newest now
    push.registry.register("bob", Platform.APNS, "ff" * 32)
    kept = {d.token_hash for d in push.devices.list_for_user("bob")}
    assert len(kept) == MAX_DEVICES_PER_USER
    # then the oldest registrations were forgotten, and their endpoints deleted
    assert devices[0].token_hash not in kept and devices[2].token_hash not in kept
    assert devices[1].token_hash in kept
    assert push.gateway.deleted == [devices[0].endpoint_arn, devices[2].endpoint_arn]
