"""The notifier's rules against fakes: modes, ledger, disabled endpoints, failures."""

from __future__ import annotations

import json
import time

import pytest

from parley.devices import DeviceService
from parley.fanout import Fanout
from parley.models import MessageBody, NotifyMode, Platform
from parley.notifier import LEDGER_MARGIN_S, Notifier, OutOfTimeError
from parley.unread_events import UnreadEvent, UnreadEventPublisher
from tests.fakes import FakeDeviceStore, FakePublisher, FakePushGateway, FakePushLedger
from tests.unit.conftest import World

APNS_APP = "arn:aws:sns:us-east-1:1:app/APNS/parley"
FCM_APP = "arn:aws:sns:us-east-1:1:app/GCM/parley"


class PushWorld:
    def __init__(self, world: World) -> None:
        self.world = world
        self.devices, self.gateway, self.ledger = FakeDeviceStore(), FakePushGateway(), FakePushLedger()
        self.registry = DeviceService(self.devices, self.gateway, {"apns": APNS_APP, "fcm": FCM_APP},
                                      clock=world.clock)
        self.publisher = FakePublisher()
        self.events = UnreadEventPublisher(self.publisher, include_text=True)
        self.notifier = Notifier(world.profiles, world.conversation_store, self.devices, self.gateway, self.ledger,
                                 world.inbox, with_content=True, clock=world.clock)

    def send(self, sender: str, cid: str, text: str) -> None:
        outcome = self.world.messaging.send(sender, cid, f"c-{text}", MessageBody(text=text))
        result = self.world.fanout.deliver(outcome.recipients, b"{}", self.world.clock())
        offline = [u for u in result.unreached if u != sender]
        if offline:
            self.events.publish(outcome.message, outcome.conversation, offline)


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
    push.send("alice", cid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
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
    push.send("alice", gid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
    push.gateway.failing.add(carols.endpoint_arn)
    with pytest.raises(RuntimeError):
        push.notifier.notify(event)  # bob's went out, carol's failed: the event will be retried
    push.gateway.failing.clear()
    retried = push.notifier.notify(event)
    assert (retried.pushed, retried.duplicates) == (1, 1)
    assert push.notifier.notify(event).duplicates == 2
    assert [arn for arn, _ in push.gateway.published] == [bobs.endpoint_arn, carols.endpoint_arn]
    assert json.loads(push.gateway.published[0][1]["APNS"])["aps"]["badge"] == 1
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
    push.send("alice", cid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
    push.notifier.notify(event)
    assert push.gateway.collapse_ids == [event.message_id]


def test_a_recipient_who_read_it_meanwhile_is_not_pushed(push: PushWorld) -> None:
    cid = push.world.conversations.open_direct("alice", "bob").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.send("alice", cid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
    push.world.inbox.read("bob", "b-tablet", cid, event.seq)  # on another device, before the push went out
    assert push.notifier.notify(event).skipped_read == 1 and push.gateway.published == []


class FailingLedger(FakePushLedger):
    def record(self, message_id: str, token_hashes: set[str], expires_at: int) -> None:
        raise RuntimeError("DynamoDB is throttling")


def test_an_event_whose_pushes_all_went_out_does_not_fail_for_its_ledger(push: PushWorld) -> None:
    # given a ledger that cannot be written: failing the event would make Lambda retry it and push again
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("carol", Platform.FCM, "c" * 64)
    push.send("alice", gid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
    notifier = Notifier(push.world.profiles, push.world.conversation_store, push.devices, push.gateway,
                        FailingLedger(), push.world.inbox, with_content=True, clock=push.world.clock)
    assert notifier.notify(event).pushed == 2


def test_near_its_deadline_the_notifier_stops_and_records_what_went_out(push: PushWorld) -> None:
    gid = push.world.conversations.create_group("alice", ["bob", "carol"], "g").conversation_id
    push.registry.register("bob", Platform.APNS, "a" * 64)
    push.registry.register("carol", Platform.APNS, "c" * 64)
    push.send("alice", gid, "hi")
    event = UnreadEvent.model_validate(push.publisher.published[-1][1])
    # given an invocation that ends sooner than the ledger margin: nothing is pushed, the event is retried
    with pytest.raises(OutOfTimeError):
        push.notifier.notify(event, deadline_s=time.monotonic() + LEDGER_MARGIN_S / 2)
    assert push.gateway.published == []
    assert push.notifier.notify(event).pushed == 2
