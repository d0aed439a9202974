"""The key directory and the envelope's shape (docs/e2e.md), with in-memory fakes: what the server accepts of a
device's keys and of a message in an end-to-end encrypted conversation, and whom it tells of a device change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from parley.envelopes import MAX_CIPHERTEXT_CHARS, MAX_KEY_ENTRIES, Envelope
from parley.errors import (
    DeviceKeyConflictError,
    E2ENotEnabledError,
    E2ERequiredError,
    InvalidKeySignatureError,
    NotMemberError,
    TooManyKeyDevicesError,
)
from parley.key_directory import MAX_KEY_DEVICES, KeyDirectoryService, prekey_signature_valid
from parley.messaging import check_e2e_body
from parley.models import Conversation, ConversationKind, MessageBody
from tests.fakes import FakeKeyDirectoryStore
from tests.support.e2e import Device, envelope, random_b64
from tests.unit.conftest import World


def directory(world: World) -> tuple[KeyDirectoryService, FakeKeyDirectoryStore]:
    store = FakeKeyDirectoryStore()
    return KeyDirectoryService(store, world.conversations, world.conversation_store, world.fanout,
                               clock=world.clock), store


def publish(service: KeyDirectoryService, user: str, device: Device) -> Any:
    return service.publish(user, device.device_id, device.identity_key, device.prekey_id, device.prekey,
                           device.prekey_sig())


def test_a_prekey_signature_verifies_only_over_the_exact_text() -> None:
    phone = Device("dev-alice-01")
    sig = phone.prekey_sig()
    assert prekey_signature_valid(phone.identity_key, "dev-alice-01", 1, phone.prekey, sig)
    assert not prekey_signature_valid(phone.identity_key, "dev-alice-02", 1, phone.prekey, sig)  # another device
    assert not prekey_signature_valid(phone.identity_key, "dev-alice-01", 2, phone.prekey, sig)  # another id
    assert not prekey_signature_valid(Device("x" * 8).identity_key, "dev-alice-01", 1, phone.prekey, sig)


def test_publishing_rotating_and_conflicting(world: World) -> None:
    service, store = directory(world)
    phone = Device("dev-alice-01")
    first = publish(service, "alice", phone)
    # a rotation keeps the device's place; another identity key under its id is a conflict; a bad sig is refused
    publish(service, "alice", phone.rotated())
    [kept] = store.devices(["alice"])["alice"]
    assert (kept.prekey_id, kept.first_published_at) == (2, first.first_published_at)
    with pytest.raises(DeviceKeyConflictError):
        publish(service, "alice", Device("dev-alice-01"))
    with pytest.raises(InvalidKeySignatureError):
        service.publish("alice", "dev-alice-02", phone.identity_key, 1, random_b64(32), phone.prekey_sig())
    assert [d.device_id for d in store.devices(["alice"])["alice"]] == ["dev-alice-01"]


def test_a_user_has_at_most_ten_devices(world: World) -> None:
    service, _store = directory(world)
    for n in range(MAX_KEY_DEVICES):
        publish(service, "alice", Device(f"dev-alice-{n:02d}"))
    with pytest.raises(TooManyKeyDevicesError):
        publish(service, "alice", Device("dev-alice-99"))


def test_keys_changed_reaches_the_members_of_encrypted_conversations_only(world: World) -> None:
    # given bob in an encrypted group with alice and a plain direct conversation with carol, all online
    for user, connection in (("alice", "a1"), ("bob", "b1"), ("carol", "c1")):
        world.connect(user, connection)
    world.conversations.create_group("bob", ["alice"], None, e2e=True)
    world.conversations.open_direct("bob", "carol")
    service, _store = directory(world)
    # when bob publishes a new device, rotates it, and removes it
    phone = Device("dev-bob-0001")
    publish(service, "bob", phone)
    publish(service, "bob", phone.rotated())
    service.remove("bob", "dev-bob-0001")
    # then alice and bob hear twice (not of the rotation), carol never
    assert len(world.frames("a1", "keysChanged")) == 2 and len(world.frames("b1", "keysChanged")) == 2
    assert world.frames("c1", "keysChanged") == []


def test_keys_of_a_conversation_need_an_encrypted_one_you_are_in(world: World) -> None:
    service, _store = directory(world)
    plain = world.conversations.open_direct("alice", "bob")
    encrypted = world.conversations.open_direct("alice", "bob", e2e=True)
    assert encrypted.conversation_id != plain.conversation_id and encrypted.e2e
    assert list(service.keys_of_conversation("bob", encrypted.conversation_id)) == ["alice", "bob"]
    with pytest.raises(E2ENotEnabledError):
        service.keys_of_conversation("alice", plain.conversation_id)
    with pytest.raises(NotMemberError):
        service.keys_of_conversation("mallory", encrypted.conversation_id)


def _conversation(e2e: bool) -> Conversation:
    return Conversation(conversation_id="d_x", kind=ConversationKind.DIRECT, members=("alice", "bob"),
                        created_by="alice", created_at=1, e2e=e2e)


@pytest.mark.parametrize(("e2e", "body", "error"), [
    (True, {"text": "hi"}, E2ERequiredError),
    (True, {"attachments": [{"key": "u/x", "contentType": "application/octet-stream", "size": 3}]}, E2ERequiredError),
    (False, {"e2e": envelope("dev-alice-01", [("bob", "dev-bob-0001")])}, E2ENotEnabledError),
    (True, {"e2e": envelope("dev-alice-01", [("bob", "dev-bob-0001")])}, None),
    (False, {"text": "hi"}, None),
])
def test_an_encrypted_conversation_takes_envelopes_only_and_a_plain_one_none(e2e: bool, body: dict[str, Any],
                                                                             error: type[Exception] | None) -> None:
    message = MessageBody.model_validate(body)
    if error is None:
        check_e2e_body(_conversation(e2e), message)
    else:
        with pytest.raises(error):
            check_e2e_body(_conversation(e2e), message)


def test_an_envelope_is_bounded_in_entries_and_ciphertext() -> None:
    entries = [("bob", f"dev-bob-{n:04d}") for n in range(MAX_KEY_ENTRIES)]
    Envelope.model_validate(envelope("dev-alice-01", entries))
    with pytest.raises(ValidationError):
        Envelope.model_validate(envelope("dev-alice-01", [*entries, ("carol", "dev-carol-1")]))
    too_long = envelope("dev-alice-01", entries[:1], ciphertext_bytes=MAX_CIPHERTEXT_CHARS // 4 * 3 + 3)
    with pytest.raises(ValidationError):
        Envelope.model_validate(too_long)


def test_an_envelope_survives_storage_and_the_wire_unchanged() -> None:
    sent = envelope("dev-alice-01", [("bob", "dev-bob-0001")])
    body = MessageBody.model_validate({"e2e": sent})
    assert json.loads(body.model_dump_json(by_alias=True, exclude_none=True)) == {"e2e": sent}
