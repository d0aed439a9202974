"""Parley E2E v1 (docs/e2e.md, "Construction"): the construction itself, as pure functions over libsodium's
primitives (PyNaCl), and the typed errors a receiving client raises.

Each message has its own random key ``K``; the payload is sealed with XChaCha20-Poly1305 under ``K`` and
associated data naming the conversation, the sender and the sending device; ``K`` is wrapped with
``crypto_box`` from a per-message ephemeral X25519 key to the current signed prekey of every device of every
member (the sender's own devices included); the sending device signs the envelope with its Ed25519 identity
key. Nothing here reads a clock or a socket: ``parley_client.e2e_session`` holds the keys and the directory.

Every byte of this module is fixed by the construction: the JavaScript SDK implements the same, and
``tests/fixtures/e2e_vectors.json`` pins it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions
from nacl.public import Box, PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from parley_client.errors import ClientError

VERSION = 1
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEY_BYTES = 32  # K, file keys, X25519 and Ed25519 public keys
NONCE_BYTES = 24  # XChaCha20-Poly1305 and crypto_box nonces
SIGNATURE_BYTES = 64
WRAPPED_KEY_BYTES = 48  # K (32) + the Poly1305 tag (16)
TAG_BYTES = 16
FINGERPRINT_BYTES = 30
FILE_AD = b"parley-e2e-v1/file"
QR_PREFIX = "parley-sn:1:"


# -- errors: each a stable code, the same in the JS SDK -------------------------------------------------


class E2EError(ClientError):
    """A message of an end-to-end encrypted conversation that this device cannot accept. Never shown as text:
    the client yields it instead of the message. ``code`` is stable (docs/e2e.md, "Construction")."""

    code = "e2e_error"

    def __init__(self, message: str, *, conversation_id: str | None = None, seq: int | None = None,
                 sender_id: str | None = None) -> None:
        super().__init__(f"{self.code}: {message}")
        self.message = message
        self.conversation_id = conversation_id
        self.seq = seq
        self.sender_id = sender_id


class UnknownDeviceError(E2EError):
    """The sending device is not a current device of the sender (never published, or removed)."""

    code = "e2e_unknown_device"


class TamperedMessageError(E2EError):
    """The signature does not verify, the payload does not decrypt, or the envelope is malformed."""

    code = "e2e_tampered"


class NoKeyError(E2EError):
    """The envelope holds no key for this device (sent before it was published, or left out)."""

    code = "e2e_no_key"


class WrongKeyError(E2EError):
    """This device's entry does not open with its private prekey (unknown or expired prekey, wrong key)."""

    code = "e2e_wrong_key"


class ReplayedMessageError(E2EError):
    """A valid envelope in the wrong place: another message id or kind, or seen before at another seq."""

    code = "e2e_replayed"


# -- encodings and the byte strings that get signed ----------------------------------------------------


def b64(data: bytes) -> str:
    """Standard base64 with padding (libsodium's ``base64_variants.ORIGINAL``)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, length: int | None = None) -> bytes:
    """Strict standard base64; ``length`` checks the decoded size. Raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not base64") from exc
    if length is not None and len(data) != length:
        raise ValueError(f"{len(data)} bytes, not {length}")
    return data


def prekey_signature_input(device_id: str, prekey_id: int, prekey: str) -> bytes:
    return f"parley-e2e-v1/prekey\n{device_id}\n{prekey_id}\n{prekey}".encode()


def associated_data(conversation_id: str, sender_user_id: str, sender_device_id: str) -> bytes:
    return f"parley-e2e-v1\n{conversation_id}\n{sender_user_id}\n{sender_device_id}".encode()


def envelope_signature_input(conversation_id: str, sender_user_id: str, sender_device_id: str,
                             e: str, n: str, c: str) -> bytes:
    """What the sender device signs; ``e``, ``n``, ``c`` as their base64 strings. ``k`` is not covered."""
    return f"parley-e2e-v1\n{conversation_id}\n{sender_user_id}\n{sender_device_id}\n{e}\n{n}\n{c}".encode()


def sign_prekey(identity: SigningKey, device_id: str, prekey_id: int, prekey: PublicKey) -> str:
    message = prekey_signature_input(device_id, prekey_id, b64(bytes(prekey)))
    return b64(identity.sign(message).signature)


def verify(identity_key: str, message: bytes, signature: str) -> bool:
    try:
        VerifyKey(unb64(identity_key, KEY_BYTES)).verify(message, unb64(signature, SIGNATURE_BYTES))
    except (ValueError, nacl.exceptions.BadSignatureError):
        return False
    return True


@dataclass(frozen=True)
class DeviceKey:
    """One device's public keys, as the key directory hands them out (``getKeys``)."""

    user_id: str
    device_id: str
    identity_key: str  # b64 Ed25519 public key
    prekey_id: int
    prekey: str  # b64 X25519 public key
    prekey_sig: str
    published_at: int | None = None

    @classmethod
    def from_frame(cls, user_id: str, item: dict[str, Any]) -> DeviceKey:
        prekey = item["prekey"]
        return cls(user_id=user_id, device_id=str(item["deviceId"]), identity_key=str(item["identityKey"]),
                   prekey_id=int(prekey["id"]), prekey=str(prekey["key"]), prekey_sig=str(prekey["sig"]),
                   published_at=item.get("publishedAt"))

    def prekey_verifies(self) -> bool:
        """The prekey is signed by the device's identity key (checked before anything is wrapped to it)."""
        return verify(self.identity_key, prekey_signature_input(self.device_id, self.prekey_id, self.prekey),
                      self.prekey_sig)


# -- sending -----------------------------------------------------------------------------------------------


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def seal(payload: bytes, *, conversation_id: str, sender_user_id: str, sender_device_id: str,
         identity: SigningKey, recipients: Iterable[DeviceKey], message_key: bytes | None = None,
         ephemeral: PrivateKey | None = None, nonce: bytes | None = None,
         wrap_nonces: Mapping[tuple[str, str], bytes] | None = None) -> dict[str, Any]:
    """The envelope of one message. The keyword arguments after ``recipients`` exist for the test vectors:
    left out, each is fresh randomness, as it must be for every real message."""
    key = message_key if message_key is not None else secrets.token_bytes(KEY_BYTES)
    e_sk = ephemeral if ephemeral is not None else PrivateKey.generate()
    n = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    ad = associated_data(conversation_id, sender_user_id, sender_device_id)
    c = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(payload, ad, n, key)
    entries = []
    for device in recipients:
        wrap_nonce = (wrap_nonces or {}).get((device.user_id, device.device_id)) or secrets.token_bytes(NONCE_BYTES)
        wrapped = Box(e_sk, PublicKey(unb64(device.prekey, KEY_BYTES))).encrypt(key, wrap_nonce).ciphertext
        entries.append({"u": device.user_id, "d": device.device_id, "p": device.prekey_id, "n": b64(wrap_nonce),
                        "w": b64(wrapped)})
    e_b64, n_b64, c_b64 = b64(bytes(e_sk.public_key)), b64(n), b64(c)
    sig = identity.sign(envelope_signature_input(conversation_id, sender_user_id, sender_device_id,
                                                 e_b64, n_b64, c_b64)).signature
    return {"v": VERSION, "sd": sender_device_id, "e": e_b64, "n": n_b64, "c": c_b64, "sig": b64(sig), "k": entries}


# -- receiving (steps 2 to 5 of docs/e2e.md; the session does 1 and 6) ---------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A checked envelope: every field present and of its size (else :class:`TamperedMessageError`)."""

    sender_device_id: str
    e: str
    n: str
    c: str
    sig: str
    keys: tuple[dict[str, Any], ...]

    @classmethod
    def parse(cls, envelope: Any) -> Envelope:
        try:
            if not isinstance(envelope, dict) or envelope.get("v") != VERSION:
                raise ValueError("not a v1 envelope")
            sd, keys = envelope["sd"], envelope.get("k", [])
            if not isinstance(sd, str) or not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
                raise ValueError("malformed sd or k")
            unb64(envelope["e"], KEY_BYTES)
            unb64(envelope["n"], NONCE_BYTES)
            unb64(envelope["sig"], SIGNATURE_BYTES)
            if len(unb64(envelope["c"])) < TAG_BYTES:
                raise ValueError("c is shorter than its tag")
        except (KeyError, ValueError) as exc:
            raise TamperedMessageError(f"malformed envelope: {exc}") from None
        return cls(sender_device_id=sd, e=envelope["e"], n=envelope["n"], c=envelope["c"], sig=envelope["sig"],
                   keys=tuple(keys))


def open_envelope(envelope: Envelope, *, conversation_id: str, sender_user_id: str, sender_identity_key: str,
                  own_user_id: str, own_device_id: str, prekeys: Mapping[int, PrivateKey]) -> dict[str, Any]:
    """The payload of an envelope whose sending device is known (step 1 is the caller's): the signature (2),
    this device's entry (3), unwrapping ``K`` (4), the payload (5). Raises the typed errors."""
    signed = envelope_signature_input(conversation_id, sender_user_id, envelope.sender_device_id,
                                      envelope.e, envelope.n, envelope.c)
    if not verify(sender_identity_key, signed, envelope.sig):
        raise TamperedMessageError("the signature does not verify")
    entry = next((k for k in envelope.keys if k.get("u") == own_user_id and k.get("d") == own_device_id), None)
    if entry is None:
        raise NoKeyError("no key for this device")
    prekey_id = entry.get("p")
    prekey = prekeys.get(prekey_id) if isinstance(prekey_id, int) else None
    try:
        if prekey is None:
            raise ValueError(f"no private prekey {prekey_id!r}")
        wrapped = unb64(entry.get("w"), WRAPPED_KEY_BYTES)
        key = Box(prekey, PublicKey(unb64(envelope.e, KEY_BYTES))).decrypt(wrapped, unb64(entry.get("n"), NONCE_BYTES))
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise WrongKeyError(f"the message key does not open: {exc}") from None
    ad = associated_data(conversation_id, sender_user_id, envelope.sender_device_id)
    try:
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(unb64(envelope.c), ad, unb64(envelope.n),
                                                                         key)
        payload = json.loads(plain.decode())
    except (ValueError, nacl.exceptions.CryptoError):
        raise TamperedMessageError("the payload does not decrypt") from None
    if not isinstance(payload, dict):
        raise TamperedMessageError("the payload is not an object")
    return payload


# -- attachments -----------------------------------------------------------------------------------------


def encrypt_file(data: bytes, file_key: bytes | None = None, nonce: bytes | None = None) -> tuple[bytes, bytes]:
    """The blob to upload (``nonce || ciphertext``) and its file key (goes into the signed payload)."""
    fk = file_key if file_key is not None else secrets.token_bytes(KEY_BYTES)
    n = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    return n + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(data, FILE_AD, n, fk), fk


def decrypt_file(blob: bytes, file_key: bytes) -> bytes:
    """The file of a downloaded blob; :class:`TamperedMessageError` if it was changed."""
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[NONCE_BYTES:], FILE_AD,
                                                                        blob[:NONCE_BYTES], file_key)
    except (ValueError, nacl.exceptions.CryptoError):
        raise TamperedMessageError("the attachment does not decrypt") from None


# -- safety numbers --------------------------------------------------------------------------------------


def fingerprint(user_id: str, identity_keys: Iterable[str]) -> bytes:
    """30 bytes naming a user's current set of device identity keys (base64 strings)."""
    text = "parley-e2e-v1/fingerprint\n" + user_id + "\n" + "\n".join(sorted(identity_keys))
    return hashlib.sha512(text.encode()).digest()[:FINGERPRINT_BYTES]


def _safety_data(user_a: str, keys_a: Iterable[str], user_b: str, keys_b: Iterable[str]) -> bytes:
    (first, first_keys), (second, second_keys) = sorted([(user_a, list(keys_a)), (user_b, list(keys_b))],
                                                        key=lambda pair: pair[0])
    return fingerprint(first, first_keys) + fingerprint(second, second_keys)


def safety_number(user_a: str, keys_a: Iterable[str], user_b: str, keys_b: Iterable[str]) -> str:
    """Twelve groups of five digits, the same on both sides (the users are put in code-point order)."""
    data = _safety_data(user_a, keys_a, user_b, keys_b)
    return " ".join(str(int.from_bytes(data[i:i + 5], "big") % 100000).zfill(5) for i in range(0, len(data), 5))


def safety_qr_payload(user_a: str, keys_a: Iterable[str], user_b: str, keys_b: Iterable[str]) -> str:
    data = _safety_data(user_a, keys_a, user_b, keys_b)
    return QR_PREFIX + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
