"""Parley E2E v1, the construction (docs/e2e.md): the test vectors every client checks itself against, and
properties of sealing and opening under arbitrary inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from parley_client import e2e
from tools import e2e_vectors

VECTORS: dict[str, Any] = json.loads(Path(e2e_vectors.VECTORS).read_text(encoding="utf-8"))
DEVICES = {d["deviceId"]: d for d in VECTORS["devices"]}
MESSAGES = {m["label"]: m for m in VECTORS["messages"]}


def _public(device: dict[str, Any]) -> e2e.DeviceKey:
    return e2e.DeviceKey(user_id=device["userId"], device_id=device["deviceId"], identity_key=device["identityKey"],
                         prekey_id=device["prekeyId"], prekey=device["prekey"], prekey_sig=device["prekeySig"])


def _open(message: dict[str, Any], envelope: dict[str, Any], receiver: dict[str, Any]) -> dict[str, Any]:
    return e2e.open_envelope(e2e.Envelope.parse(envelope), conversation_id=message["conversationId"],
                             sender_user_id=message["senderUserId"],
                             sender_identity_key=DEVICES[message["senderDeviceId"]]["identityKey"],
                             own_user_id=receiver["userId"], own_device_id=receiver["deviceId"],
                             prekeys={receiver["prekeyId"]: PrivateKey(e2e.unb64(receiver["prekeySecret"]))})


# -- the vectors --------------------------------------------------------------------------------------------


def test_the_committed_vectors_are_what_the_code_computes() -> None:
    # given the committed file, when the generator runs again, then it writes the same bytes
    assert Path(e2e_vectors.VECTORS).read_text(encoding="utf-8") == e2e_vectors.render()


@pytest.mark.parametrize("device", VECTORS["devices"], ids=lambda d: d["deviceId"])
def test_device_vectors_follow_libsodium_directly(device: dict[str, Any]) -> None:
    # given the seed, when libsodium derives the keys and signs the prekey, then the vector holds exactly that
    public, secret = sodium.crypto_sign_seed_keypair(e2e.unb64(device["identitySeed"]))
    assert e2e.b64(public) == device["identityKey"]
    assert e2e.b64(sodium.crypto_scalarmult_base(e2e.unb64(device["prekeySecret"]))) == device["prekey"]
    expected_input = f"parley-e2e-v1/prekey\n{device['deviceId']}\n{device['prekeyId']}\n{device['prekey']}"
    assert device["prekeySignatureInput"] == expected_input
    signed = sodium.crypto_sign(expected_input.encode(), secret)[:64]
    assert e2e.b64(signed) == device["prekeySig"]
    assert _public(device).prekey_verifies()


@pytest.mark.parametrize("message", VECTORS["messages"], ids=lambda m: m["label"])
def test_message_vectors_follow_libsodium_directly(message: dict[str, Any]) -> None:
    # given the fixed key, nonces and ephemeral key, when libsodium seals by hand, then c, every w and sig match
    key, nonce = e2e.unb64(message["messageKey"]), e2e.unb64(message["nonce"])
    ad = f"parley-e2e-v1\n{message['conversationId']}\n{message['senderUserId']}\n{message['senderDeviceId']}"
    assert message["ad"] == ad
    c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message["payload"].encode(), ad.encode(), nonce, key)
    assert e2e.b64(c) == message["c"] == message["envelope"]["c"]
    ephemeral = e2e.unb64(message["ephemeralSecret"])
    assert e2e.b64(sodium.crypto_scalarmult_base(ephemeral)) == message["envelope"]["e"]
    for entry in message["envelope"]["k"]:
        device = DEVICES[entry["d"]]
        assert (entry["u"], entry["p"], entry["n"]) == (device["userId"], device["prekeyId"],
                                                         message["wrapNonces"][entry["d"]])
        w = sodium.crypto_box(key, e2e.unb64(entry["n"]), e2e.unb64(device["prekey"]), ephemeral)
        assert e2e.b64(w) == entry["w"] and len(w) == 48
    signed = "\n".join(["parley-e2e-v1", message["conversationId"], message["senderUserId"],
                        message["senderDeviceId"], message["envelope"]["e"], message["nonce"], message["c"]])
    assert message["signatureInput"] == signed
    _, secret = sodium.crypto_sign_seed_keypair(e2e.unb64(DEVICES[message["senderDeviceId"]]["identitySeed"]))
    assert e2e.b64(sodium.crypto_sign(signed.encode(), secret)[:64]) == message["sig"] == message["envelope"]["sig"]


@pytest.mark.parametrize("message", VECTORS["messages"], ids=lambda m: m["label"])
def test_every_recipient_device_opens_the_vector_messages(message: dict[str, Any]) -> None:
    for entry in message["envelope"]["k"]:
        assert _open(message, message["envelope"], DEVICES[entry["d"]]) == json.loads(message["payload"])


@pytest.mark.parametrize("case", VECTORS["rejections"], ids=lambda r: r["description"])
def test_rejection_vectors_raise_their_typed_error(case: dict[str, Any]) -> None:
    # given a changed envelope, when the receiver opens it, then it gets the stated code and never a payload
    with pytest.raises(e2e.E2EError) as raised:
        _open(MESSAGES[case["message"]], case["envelope"], DEVICES[case["receiverDeviceId"]])
    assert raised.value.code == case["code"]


def test_file_vector_and_a_changed_blob() -> None:
    vector = VECTORS["files"][0]
    blob, fk = e2e.unb64(vector["blob"]), e2e.unb64(vector["fileKey"])
    assert blob[:24] == e2e.unb64(vector["nonce"])
    expected = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(e2e.unb64(vector["plaintext"]), b"parley-e2e-v1/file",
                                                                 blob[:24], fk)
    assert blob[24:] == expected
    assert e2e.decrypt_file(blob, fk) == b"hello"
    with pytest.raises(e2e.TamperedMessageError):
        e2e.decrypt_file(blob[:-1] + bytes([blob[-1] ^ 1]), fk)


@pytest.mark.parametrize("case", VECTORS["safetyNumbers"], ids=lambda s: f"{s['userA']}-{s['userB']}")
def test_safety_number_vectors(case: dict[str, Any]) -> None:
    def fp(user: str, keys: list[str]) -> bytes:
        text = "parley-e2e-v1/fingerprint\n" + user + "\n" + "\n".join(sorted(keys))
        return hashlib.sha512(text.encode()).digest()[:30]

    first, second = sorted([(case["userA"], case["keysA"]), (case["userB"], case["keysB"])])
    data = fp(*first) + fp(*second)
    digits = " ".join(str(int.from_bytes(data[i:i + 5], "big") % 100000).zfill(5) for i in range(0, 60, 5))
    assert case["safetyNumber"] == digits
    assert e2e.safety_number(case["userA"], case["keysA"], case["userB"], case["keysB"]) == digits
    assert case["qr"].startswith("parley-sn:1:") and "=" not in case["qr"]
    assert e2e.unb64(case["qr"].removeprefix("parley-sn:1:").replace("-", "+").replace("_", "/") + "====="[
        : (4 - len(case["qr"].removeprefix("parley-sn:1:")) % 4) % 4]) == data


# -- properties -----------------------------------------------------------------------------------------------

_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=8, max_size=20)
_KEYS = [(SigningKey.generate(), PrivateKey.generate()) for _ in range(2)]


def _pair(user: str, device: str, which: int) -> tuple[e2e.DeviceKey, SigningKey, PrivateKey]:
    identity, prekey = _KEYS[which]
    public = e2e.DeviceKey(user_id=user, device_id=device, identity_key=e2e.b64(bytes(identity.verify_key)),
                           prekey_id=1, prekey=e2e.b64(bytes(prekey.public_key)),
                           prekey_sig=e2e.sign_prekey(identity, device, 1, prekey.public_key))
    return public, identity, prekey


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300), conversation=_ids, sender=_ids, receiver=_ids)
def test_any_text_round_trips_and_only_the_recipient_opens_it(text: str, conversation: str, sender: str,
                                                               receiver: str) -> None:
    # given a sender device and a receiver device
    sender_key, sender_identity, _ = _pair(sender, "sender-device", 0)
    receiver_key, _, receiver_prekey = _pair(receiver, "receiver-device", 1)
    marked = f"\u00ab{text}\u00bb"  # no base64 string or id can hold it
    payload = {"t": "msg", "mid": "m1", "ts": 1, "text": marked}
    # when the sender seals for the receiver only
    envelope = e2e.seal(e2e.encode_payload(payload), conversation_id=conversation, sender_user_id=sender,
                        sender_device_id="sender-device", identity=sender_identity, recipients=[receiver_key])
    # then the receiver reads the text, and nothing of it is in the envelope
    opened = e2e.open_envelope(e2e.Envelope.parse(envelope), conversation_id=conversation, sender_user_id=sender,
                               sender_identity_key=sender_key.identity_key, own_user_id=receiver,
                               own_device_id="receiver-device", prekeys={1: receiver_prekey})
    assert opened == payload
    assert marked not in json.dumps(envelope, ensure_ascii=False)
    # and the same envelope claimed in another conversation, or by another user, is refused
    for conv, user in ((conversation + "x", sender), (conversation, sender + "x")):
        with pytest.raises(e2e.TamperedMessageError):
            e2e.open_envelope(e2e.Envelope.parse(envelope), conversation_id=conv, sender_user_id=user,
                              sender_identity_key=sender_key.identity_key, own_user_id=receiver,
                              own_device_id="receiver-device", prekeys={1: receiver_prekey})


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(["e", "n", "c", "sig", "w", "wn"]), position=st.integers(min_value=0),
       bit=st.integers(0, 7))
def test_any_flipped_bit_is_a_typed_error_never_a_payload(field: str, position: int, bit: int) -> None:
    sender_key, sender_identity, _ = _pair("alice", "alice-device", 0)
    receiver_key, _, receiver_prekey = _pair("bob", "bob-device-1", 1)
    envelope = e2e.seal(b'{"t":"msg","mid":"m","ts":1,"text":"secret"}', conversation_id="conv",
                        sender_user_id="alice", sender_device_id="alice-device", identity=sender_identity,
                        recipients=[receiver_key])
    # w and wn: the receiver's entry (its wrapped key, its nonce); the others: the envelope's own fields
    holder, name = (envelope["k"][0], {"w": "w", "wn": "n"}[field]) if field in ("w", "wn") else (envelope, field)
    data = bytearray(e2e.unb64(holder[name]))
    data[position % len(data)] ^= 1 << bit
    holder[name] = e2e.b64(bytes(data))
    with pytest.raises(e2e.E2EError) as raised:
        e2e.open_envelope(e2e.Envelope.parse(envelope), conversation_id="conv", sender_user_id="alice",
                          sender_identity_key=sender_key.identity_key, own_user_id="bob", own_device_id="bob-device-1",
                          prekeys={1: receiver_prekey})
    # e, n, c and sig are signed: tampered; the (unsigned) entry no longer opens: wrong key
    assert raised.value.code == ("e2e_wrong_key" if field in ("w", "wn") else "e2e_tampered")


@settings(max_examples=40, deadline=None)
@given(a=_ids, b=_ids, keys_a=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=3),
       keys_b=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=3))
def test_safety_numbers_are_the_same_on_both_sides_and_change_with_a_key(a: str, b: str, keys_a: list[bytes],
                                                                         keys_b: list[bytes]) -> None:
    assume(a != b)
    ka, kb = [e2e.b64(k) for k in keys_a], [e2e.b64(k) for k in keys_b]
    number = e2e.safety_number(a, ka, b, kb)
    assert number == e2e.safety_number(b, kb, a, ka)
    assert e2e.safety_qr_payload(a, ka, b, kb) == e2e.safety_qr_payload(b, kb, a, list(reversed(ka)))
    groups = number.split(" ")
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert e2e.safety_number(a, [*ka, e2e.b64(b"\x01" * 32)], b, kb) != number


@pytest.mark.parametrize("envelope", [
    None, {"v": 2}, {"v": 1, "sd": "d", "e": "AAAA", "n": "x", "c": "", "sig": ""},
    {"v": 1, "sd": 5, "e": e2e.b64(bytes(32)), "n": e2e.b64(bytes(24)), "c": e2e.b64(bytes(16)),
     "sig": e2e.b64(bytes(64)), "k": []},
])
def test_a_malformed_envelope_is_tampered(envelope: Any) -> None:
    with pytest.raises(e2e.TamperedMessageError):
        e2e.Envelope.parse(envelope)
