"""A device's end-to-end encryption session (parley_client.e2e_session): keys kept on disk, prekey rotation
and the forward-secrecy window, trust on first use, multi-device, and the typed errors of steps 1 and 6."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from parley_client import e2e
from parley_client.e2e_device import DAY_MS
from parley_client.e2e_session import E2ESession, KeyChange, without_metadata
from tests.support.images import GPS_TAG, jpeg_with_gps


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_633_600_000

    def __call__(self) -> int:
        return self.now


def _user(user_id: str, *sessions: E2ESession) -> dict[str, Any]:
    """The user as a ``keys`` frame lists them, with these devices published."""
    return {"userId": user_id, "devices": [{**s.device.publish_fields(), "publishedAt": 1} for s in sessions]}


def _session(tmp_path: Path, name: str, user: str, clock: Clock | None = None) -> E2ESession:
    return E2ESession(tmp_path / name, user, clock=clock or Clock())


def _send(sender: E2ESession, conversation: str, members: list[str], text: str, mid: str = "m1") -> dict[str, Any]:
    return sender.seal(conversation, sender.message_payload(mid, text), members)


def test_keys_survive_a_restart_and_only_the_owner_can_read_them(tmp_path: Path) -> None:
    # given a device that made its keys
    first = _session(tmp_path, "alice", "alice")
    # when the app starts again with the same directory
    again = _session(tmp_path, "alice", "alice")
    # then it is the same device with the same keys, in a file only its owner reads
    assert (again.device_id, again.device.identity_key) == (first.device_id, first.device.identity_key)
    assert e2e.DEVICE_ID_PATTERN.fullmatch(first.device_id)
    mode = stat.S_IMODE((tmp_path / "alice" / "device.json").stat().st_mode)
    assert mode == 0o600
    with pytest.raises(ValueError, match="another user"):
        _session(tmp_path, "alice", "mallory")


def test_a_message_reaches_every_device_of_every_member_and_the_senders_other_devices(tmp_path: Path) -> None:
    # given alice with a phone and a laptop, and bob with one device, all knowing the directory
    phone, laptop, bob = (_session(tmp_path, "phone", "alice"), _session(tmp_path, "laptop", "alice"),
                          _session(tmp_path, "bob", "bob"))
    users = [_user("alice", phone, laptop), _user("bob", bob)]
    for s in (phone, laptop, bob):
        s.learn(users)
    # when the phone sends
    envelope = _send(phone, "conv", ["alice", "bob"], "hi bob")
    # then bob and alice's laptop read it, and the phone its own copy
    for reader in (bob, laptop, phone):
        assert reader.open("conv", 1, "alice", envelope, kind="msg", client_msg_id="m1")["text"] == "hi bob"


def test_a_device_added_later_reads_what_is_sent_after_it_is_known_not_before(tmp_path: Path) -> None:
    alice, bob = _session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob")
    for s in (alice, bob):
        s.learn([_user("alice", alice), _user("bob", bob)])
    before = _send(alice, "conv", ["alice", "bob"], "before", "m1")
    # given bob adds a tablet, and alice learns of it (keysChanged -> getKeys): a notice names it
    tablet = _session(tmp_path, "tablet", "bob")
    tablet.learn([_user("alice", alice), _user("bob", bob, tablet)])
    notices = alice.learn([_user("bob", bob, tablet)])
    assert notices == [KeyChange.of("bob", {bob.device_id: bob.device.identity_key},
                                    {bob.device_id: bob.device.identity_key,
                                     tablet.device_id: tablet.device.identity_key})]
    assert notices[0].added == (tablet.device_id,) and notices[0].removed == ()
    after = _send(alice, "conv", ["alice", "bob"], "after", "m2")
    # then the tablet reads the later message; the earlier one has no key for it: a typed error, no text
    assert tablet.open("conv", 2, "alice", after, kind="msg", client_msg_id="m2")["text"] == "after"
    with pytest.raises(e2e.NoKeyError) as raised:
        tablet.open("conv", 1, "alice", before, kind="msg")
    assert (raised.value.code, raised.value.conversation_id, raised.value.seq, raised.value.sender_id) == (
        "e2e_no_key", "conv", 1, "alice")


def test_a_removed_device_is_unknown_and_its_messages_refused(tmp_path: Path) -> None:
    alice, old_phone, bob = (_session(tmp_path, "alice", "alice"), _session(tmp_path, "old", "alice"),
                             _session(tmp_path, "bob", "bob"))
    bob.learn([_user("alice", alice, old_phone), _user("bob", bob)])
    old_phone.learn([_user("alice", alice, old_phone), _user("bob", bob)])
    # given alice removed her old phone, and bob fetched her keys again
    notices = bob.learn([_user("alice", alice)])
    assert [n.removed for n in notices] == [(old_phone.device_id,)]
    # when the old phone still sends
    envelope = _send(old_phone, "conv", ["alice", "bob"], "from a stolen phone")
    # then bob refuses it as from an unknown device
    with pytest.raises(e2e.UnknownDeviceError) as raised:
        bob.open("conv", 3, "alice", envelope, kind="msg")
    assert raised.value.code == "e2e_unknown_device"


def test_replays_and_misplaced_envelopes_are_refused(tmp_path: Path) -> None:
    alice, bob = _session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob")
    for s in (alice, bob):
        s.learn([_user("alice", alice), _user("bob", bob)])
    envelope = _send(alice, "conv", ["alice", "bob"], "pay 10 euros", "m1")
    assert bob.open("conv", 5, "alice", envelope, kind="msg", client_msg_id="m1")["text"] == "pay 10 euros"
    # the same message delivered again at its own seq (a push and a catch-up) is fine
    assert bob.open("conv", 5, "alice", envelope, kind="msg")["text"] == "pay 10 euros"
    # stored again at another seq, under another clientMsgId, or presented as an edit: replayed
    replays: list[tuple[int, dict[str, Any]]] = [(9, {}), (5, {"client_msg_id": "m9"}),
                                                 (5, {"kind": "edit", "target": 5})]
    for seq, kwargs in replays:
        with pytest.raises(e2e.ReplayedMessageError):
            bob.open("conv", seq, "alice", envelope, **{"kind": "msg", **kwargs})
    # and claimed in another conversation: the associated data differs, so it is tampered
    with pytest.raises(e2e.TamperedMessageError):
        bob.open("other", 1, "alice", envelope, kind="msg")


def test_an_edit_opens_only_for_the_message_it_targets(tmp_path: Path) -> None:
    alice, bob = _session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob")
    for s in (alice, bob):
        s.learn([_user("alice", alice), _user("bob", bob)])
    envelope = alice.seal("conv", alice.edit_payload("e1", 4, "fixed"), ["alice", "bob"])
    assert bob.open("conv", 7, "alice", envelope, kind="edit", target=4)["text"] == "fixed"
    # history stores the edited message with its edit's envelope: it opens there, and only there
    assert bob.open("conv", 4, "alice", envelope, kind="msg", edited=True)["text"] == "fixed"
    cases: list[tuple[int, dict[str, Any]]] = [(4, {"kind": "msg"}), (5, {"kind": "msg", "edited": True}),
                                               (8, {"kind": "edit", "target": 5})]
    for seq, kwargs in cases:
        with pytest.raises(e2e.ReplayedMessageError):
            bob.open("conv", seq, "alice", envelope, **kwargs)


def test_prekeys_rotate_weekly_and_old_ones_open_for_30_days_then_never(tmp_path: Path) -> None:
    clock = Clock()
    alice, bob = _session(tmp_path, "alice", "alice", clock), _session(tmp_path, "bob", "bob", clock)
    alice.learn([_user("alice", alice), _user("bob", bob)])
    bob.learn([_user("alice", alice), _user("bob", bob)])
    late = _send(alice, "conv", ["bob"], "sent to prekey 1")
    # given six days: no rotation; seven: a new prekey 2, published
    clock.now += 6 * DAY_MS
    assert not bob.device.rotate_if_due()
    clock.now += DAY_MS
    assert bob.device.rotate_if_due() and bob.device.current_prekey.id == 2
    # then a message to prekey 1 still opens (also after a restart) for 30 days
    reopened = E2ESession(tmp_path / "bob", "bob", clock=clock)
    reopened.learn([_user("alice", alice)])
    assert reopened.open("conv", 1, "alice", late, kind="msg")["text"] == "sent to prekey 1"
    clock.now += 29 * DAY_MS
    reopened.device.rotate_if_due()
    assert 1 in reopened.device.private_prekeys()
    # and after them the private prekey is gone: the message no longer opens
    clock.now += 2 * DAY_MS
    reopened.device.rotate_if_due()
    assert 1 not in reopened.device.private_prekeys()
    fresh = E2ESession(tmp_path / "bob", "bob", clock=clock)
    fresh.learn([_user("alice", alice)])
    with pytest.raises(e2e.WrongKeyError):
        fresh.open("conv", 1, "alice", late, kind="msg")


def test_a_device_whose_prekey_signature_fails_is_neither_written_to_nor_believed(tmp_path: Path) -> None:
    alice, bob = _session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob")
    forged = _user("bob", bob)
    forged["devices"][0]["prekey"]["key"] = alice.device.publish_fields()["prekey"]["key"]
    alice.learn([forged, _user("alice", alice)])
    assert alice.devices("bob") == []
    envelope = _send(alice, "conv", ["alice", "bob"], "hello")
    assert {k["u"] for k in envelope["k"]} == {"alice"}


def test_safety_numbers_match_on_both_sides_and_change_with_a_device(tmp_path: Path) -> None:
    alice, bob = _session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob")
    users = [_user("alice", alice), _user("bob", bob)]
    alice.learn(users)
    bob.learn(users)
    assert alice.safety_number("bob") == bob.safety_number("alice")
    assert alice.safety_qr_payload("bob") == bob.safety_qr_payload("alice")
    assert alice.safety_qr_payload("bob").startswith("parley-sn:1:")
    before = alice.safety_number("bob")
    alice.learn([_user("bob", bob, _session(tmp_path, "tablet", "bob"))])
    assert alice.safety_number("bob") != before


def test_trust_on_first_use_is_remembered_across_restarts(tmp_path: Path) -> None:
    alice, bob, tablet = (_session(tmp_path, "alice", "alice"), _session(tmp_path, "bob", "bob"),
                          _session(tmp_path, "tablet", "bob"))
    assert alice.learn([_user("bob", bob)]) == []  # first sight: no notice
    restarted = _session(tmp_path, "alice", "alice")
    notices = restarted.learn([_user("bob", tablet)])
    assert [(n.user_id, n.added, n.removed) for n in notices] == [("bob", (tablet.device_id,), (bob.device_id,))]


def test_the_client_made_preview_of_a_photo_is_a_tiny_jpeg_and_other_files_have_none() -> None:
    import io

    from PIL import Image

    from parley_client.e2e_session import image_preview

    photo = io.BytesIO()
    Image.new("RGB", (1200, 800), (10, 120, 200)).save(photo, format="PNG")
    preview = image_preview(photo.getvalue(), "image/png")
    assert preview is not None and preview.startswith("data:image/jpeg;base64,")
    assert len(preview) < 1500  # it travels inside the sealed payload (at most 12 KiB)
    with Image.open(io.BytesIO(e2e.unb64(preview.split(",", 1)[1]))) as small:
        assert max(small.size) == 32
    assert image_preview(b"%PDF-1.7", "application/pdf") is None
    assert image_preview(b"not an image", "image/jpeg") is None


def test_a_jpeg_loses_its_exif_and_xmp_before_encryption_and_keeps_its_pixels() -> None:
    # given a photo with its GPS position in EXIF (what a phone camera writes)
    photo = jpeg_with_gps(64, 48)
    with Image.open(io.BytesIO(photo)) as original:
        assert GPS_TAG in original.getexif()
        pixels = original.tobytes()
    # when the client prepares it for an encrypted conversation
    stripped = without_metadata(photo, "image/jpeg")
    # then no EXIF is left, the image decodes to the same pixels (not re-encoded), and it is smaller
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {} and image.tobytes() == pixels
    assert b"Exif\x00\x00" not in stripped and len(stripped) < len(photo)


@pytest.mark.parametrize(("data", "content_type"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),  # not a JPEG: as it is
    (b"\xff\xd8\xff\xe1\x7f\xffExif\x00\x00", "image/jpeg"),  # a segment longer than the file: left alone
    (b"not a jpeg at all", "image/jpeg"),
])
def test_anything_it_cannot_walk_is_sent_as_it_is(data: bytes, content_type: str) -> None:
    assert without_metadata(data, content_type) == data
