"""Writes tests/fixtures/e2e_vectors.json: Parley E2E v1 (docs/e2e.md, "Construction") computed from fixed keys
and nonces, so that every client can check its implementation byte for byte (the JS SDK's tests read the same
file). Every secret is SHA-256 of a label, so the file can be regenerated exactly:

    .venv/bin/python -m tools.e2e_vectors          # rewrite the file
    .venv/bin/python -m tools.e2e_vectors --check  # exit 1 if the file differs from what the code computes
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from parley_client import e2e

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "e2e_vectors.json"


def _fixed(label: str) -> bytes:
    return hashlib.sha256(f"parley-e2e-v1 test vector: {label}".encode()).digest()


def _device(user_id: str, device_id: str, prekey_id: int) -> dict[str, Any]:
    identity = SigningKey(_fixed(f"{device_id} identity seed"))
    prekey = PrivateKey(_fixed(f"{device_id} prekey {prekey_id}"))
    prekey_pk = e2e.b64(bytes(prekey.public_key))
    return {"userId": user_id, "deviceId": device_id,
            "identitySeed": e2e.b64(bytes(identity)), "identityKey": e2e.b64(bytes(identity.verify_key)),
            "prekeyId": prekey_id, "prekeySecret": e2e.b64(bytes(prekey)), "prekey": prekey_pk,
            "prekeySignatureInput": e2e.prekey_signature_input(device_id, prekey_id, prekey_pk).decode(),
            "prekeySig": e2e.sign_prekey(identity, device_id, prekey_id, prekey.public_key)}


def _public(device: dict[str, Any]) -> e2e.DeviceKey:
    return e2e.DeviceKey(user_id=device["userId"], device_id=device["deviceId"], identity_key=device["identityKey"],
                         prekey_id=device["prekeyId"], prekey=device["prekey"], prekey_sig=device["prekeySig"])


def _message(label: str, conversation_id: str, sender: dict[str, Any], payload: str,
             recipients: list[dict[str, Any]]) -> dict[str, Any]:
    key, ephemeral, nonce = _fixed(f"{label} K"), PrivateKey(_fixed(f"{label} ephemeral")), _fixed(f"{label} n")[:24]
    wrap_nonces = {(r["userId"], r["deviceId"]): _fixed(f"{label} wrap {r['deviceId']}")[:24] for r in recipients}
    envelope = e2e.seal(payload.encode(), conversation_id=conversation_id, sender_user_id=sender["userId"],
                        sender_device_id=sender["deviceId"],
                        identity=SigningKey(e2e.unb64(sender["identitySeed"])),
                        recipients=[_public(r) for r in recipients], message_key=key, ephemeral=ephemeral,
                        nonce=nonce, wrap_nonces=wrap_nonces)
    return {"label": label, "conversationId": conversation_id, "senderUserId": sender["userId"],
            "senderDeviceId": sender["deviceId"], "payload": payload, "messageKey": e2e.b64(key),
            "ephemeralSecret": e2e.b64(bytes(ephemeral)), "ephemeralKey": envelope["e"], "nonce": envelope["n"],
            "wrapNonces": {d: e2e.b64(n) for (_, d), n in wrap_nonces.items()},
            "ad": e2e.associated_data(conversation_id, sender["userId"], sender["deviceId"]).decode(),
            "c": envelope["c"],
            "signatureInput": e2e.envelope_signature_input(conversation_id, sender["userId"], sender["deviceId"],
                                                           envelope["e"], envelope["n"], envelope["c"]).decode(),
            "sig": envelope["sig"], "envelope": envelope}


def _flip_last_byte(text: str) -> str:
    data = bytearray(e2e.unb64(text))
    data[-1] ^= 0x01
    return e2e.b64(bytes(data))


def _rejections(message: dict[str, Any], receiver: dict[str, Any]) -> list[dict[str, Any]]:
    """Envelopes a receiver must refuse, with the code it must raise (steps 2 to 5)."""
    def changed(description: str, code: str, change: Any) -> dict[str, Any]:
        envelope = copy.deepcopy(message["envelope"])
        change(envelope)
        return {"description": description, "message": message["label"], "receiverDeviceId": receiver["deviceId"],
                "envelope": envelope, "code": code}

    def own_entry(envelope: dict[str, Any]) -> dict[str, Any]:
        return next(k for k in envelope["k"] if k["d"] == receiver["deviceId"])

    return [
        changed("one bit of c flipped (the signature no longer verifies)", "e2e_tampered",
                lambda env: env.update(c=_flip_last_byte(env["c"]))),
        changed("the signature of another message", "e2e_tampered",
                lambda env: env.update(sig=_flip_last_byte(env["sig"]))),
        changed("the receiver's entry left out", "e2e_no_key",
                lambda env: env.update(k=[k for k in env["k"] if k["d"] != receiver["deviceId"]])),
        changed("the receiver's wrapped key changed", "e2e_wrong_key",
                lambda env: own_entry(env).update(w=_flip_last_byte(own_entry(env)["w"]))),
        changed("the receiver's entry names a prekey it does not have", "e2e_wrong_key",
                lambda env: own_entry(env).update(p=99)),
    ]


def vectors() -> dict[str, Any]:
    alice_phone = _device("alice", "alice-phone-0001", 1)
    alice_laptop = _device("alice", "alice-laptop-0002", 3)
    bob_phone = _device("bob", "bob-phone-00000001", 2)
    carol_tablet = _device("carol", "carol_tablet-42", 1)
    devices = [alice_phone, alice_laptop, bob_phone, carol_tablet]
    direct = _message("direct", "e2e-vector-direct", alice_phone,
                      '{"t":"msg","mid":"c0ffee01","ts":1764633600000,"text":"Hello Bob, caf\u00e9 \U0001f44b"}',
                      [bob_phone, alice_phone, alice_laptop])
    group = _message("group", "e2e-vector-group", bob_phone,
                     '{"t":"msg","mid":"b0b00002","ts":1764633601000,"text":"to all of you","files":'
                     '[{"key":"uploads/e2e-vector-group/f1","fk":"' + e2e.b64(_fixed("group file key"))
                     + '","type":"image/jpeg","size":5,"w":2,"h":1,"preview":"data:image/jpeg;base64,AAAA"}]}',
                     [alice_phone, alice_laptop, bob_phone, carol_tablet])
    edit = _message("edit", "e2e-vector-direct", alice_laptop,
                    '{"t":"edit","mid":"c0ffee01","ts":1764633602000,"text":"Hello again","target":1}',
                    [bob_phone, alice_phone, alice_laptop])
    blob, fk = e2e.encrypt_file(b"hello", _fixed("group file key"), _fixed("group file nonce")[:24])
    keys = {u: [d["identityKey"] for d in devices if d["userId"] == u] for u in ("alice", "bob", "carol")}
    safety = [{"userA": a, "keysA": keys[a], "userB": b, "keysB": keys[b],
               "fingerprintA": e2e.b64(e2e.fingerprint(a, keys[a])),
               "fingerprintB": e2e.b64(e2e.fingerprint(b, keys[b])),
               "safetyNumber": e2e.safety_number(a, keys[a], b, keys[b]),
               "qr": e2e.safety_qr_payload(a, keys[a], b, keys[b])}
              for a, b in (("alice", "bob"), ("carol", "alice"))]
    return {
        "construction": "Parley E2E v1 (docs/e2e.md)",
        "about": "Every secret is SHA-256 of a label (tools/e2e_vectors.py). Base64: standard alphabet with padding. "
                 "Strings (payload, ad, signatureInput, prekeySignatureInput) are UTF-8 encoded before use. "
                 "identitySeed is the 32-byte Ed25519 seed (crypto_sign_seed_keypair); prekeySecret and "
                 "ephemeralSecret are X25519 secret keys. Each message's envelope.k has one entry per recipient "
                 "device, w = crypto_box_easy(K, wrapNonces[deviceId], prekey, ephemeralSecret). "
                 "safetyNumbers order the two users by userId themselves.",
        "devices": devices,
        "messages": [direct, group, edit],
        "rejections": _rejections(direct, bob_phone) + _rejections(group, carol_tablet)[:1],
        "files": [{"fileKey": e2e.b64(fk), "nonce": e2e.b64(blob[:24]), "plaintext": e2e.b64(b"hello"),
                   "ad": e2e.FILE_AD.decode(), "blob": e2e.b64(blob)}],
        "safetyNumbers": safety,
    }


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the code's output")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        same = VECTORS.exists() and VECTORS.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{VECTORS} differs: run python -m tools.e2e_vectors")
        return 0 if same else 1
    VECTORS.parent.mkdir(parents=True, exist_ok=True)
    VECTORS.write_text(text, encoding="utf-8")
    print(f"wrote {VECTORS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
