"""End-to-end encrypted conversations: the shape and limits of what the server accepts in them (docs/e2e.md).

The server never decrypts anything. It checks that an envelope, a device id or a published key has the
documented shape -- base64 fields that decode to the right lengths, bounded counts and sizes -- and stores and
relays it untouched. Signatures of envelopes are the clients' to check; the one signature the server verifies
is a published prekey's (``parley.key_directory``)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from parley.user_ids import UserId

ENVELOPE_VERSION = 1
MAX_KEY_ENTRIES = 256  # device keys in one envelope (every device of every member, the sender's own included)
MAX_CIPHERTEXT_CHARS = 16 * 1024  # base64 characters of ``c``: 12 KiB of ciphertext (text, file keys, previews)
MIN_CIPHERTEXT_BYTES = 16  # an AEAD ciphertext is at least its 16-byte tag
MAX_PREKEY_ID = 2**31 - 1

_B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")

# A device's id, chosen by its client, stable for the device's life.
DeviceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


def _b64_bytes(value: str) -> bytes:
    if not _B64.fullmatch(value):
        raise ValueError("not standard base64 with padding")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("not standard base64 with padding") from None


def b64_of(length: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(_b64_bytes(value)) != length:
            raise ValueError(f"must decode to {length} bytes")
        return value
    return AfterValidator(check)


def _ciphertext(value: str) -> str:
    if len(_b64_bytes(value)) < MIN_CIPHERTEXT_BYTES:
        raise ValueError(f"must decode to at least {MIN_CIPHERTEXT_BYTES} bytes")
    return value


def decoded(value: str) -> bytes:
    """The bytes of a base64 field already validated."""
    return base64.b64decode(value)


# Lengths in characters bound the work of decoding before the length is checked.
Key32 = Annotated[str, StringConstraints(min_length=44, max_length=44), b64_of(32)]  # X25519 / Ed25519 public
Nonce24 = Annotated[str, StringConstraints(min_length=32, max_length=32), b64_of(24)]
Wrapped48 = Annotated[str, StringConstraints(min_length=64, max_length=64), b64_of(48)]  # 32-byte key + 16-byte tag
Signature64 = Annotated[str, StringConstraints(min_length=88, max_length=88), b64_of(64)]
Ciphertext = Annotated[str, StringConstraints(min_length=24, max_length=MAX_CIPHERTEXT_CHARS),
                       AfterValidator(_ciphertext)]
PrekeyId = Annotated[int, Field(ge=1, le=MAX_PREKEY_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class KeyEntry(_Strict):
    """The message key wrapped for one device: ``crypto_box_easy(K, n, prekey p of device d, e_sk)``."""

    u: UserId
    d: DeviceId
    p: PrekeyId
    n: Nonce24
    w: Wrapped48


class Envelope(_Strict):
    """A message (or an edit) of an end-to-end encrypted conversation, as its sender's device wrote it."""

    v: Literal[1]
    sd: DeviceId  # the sending device
    e: Key32  # the message's ephemeral X25519 public key
    n: Nonce24  # the payload's nonce
    c: Ciphertext  # the payload, XChaCha20-Poly1305
    sig: Signature64  # Ed25519, by the sending device's identity key, over everything but ``k``
    k: Annotated[list[KeyEntry], Field(min_length=1, max_length=MAX_KEY_ENTRIES)]
