"""Keys and envelopes of end-to-end encrypted conversations, for the server's tests (docs/e2e.md).

The server checks shapes and the prekey's signature only, so a device here has a real Ed25519 identity key (its
prekey signature must verify) and the rest is random bytes of the documented lengths: the clients' own tests
encrypt for real."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def random_b64(length: int) -> str:
    return b64(os.urandom(length))


@dataclass
class Device:
    device_id: str
    identity: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    prekey_id: int = 1
    prekey: str = field(default_factory=lambda: random_b64(32))

    @property
    def identity_key(self) -> str:
        return b64(self.identity.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def prekey_sig(self, *, prekey_id: int | None = None, prekey: str | None = None) -> str:
        text = f"parley-e2e-v1/prekey\n{self.device_id}\n{prekey_id or self.prekey_id}\n{prekey or self.prekey}"
        return b64(self.identity.sign(text.encode()))

    def publish_frame(self, **overrides: Any) -> dict[str, Any]:
        return {"action": "publishKeys", "deviceId": self.device_id, "identityKey": self.identity_key,
                "prekey": {"id": self.prekey_id, "key": self.prekey, "sig": self.prekey_sig()}, **overrides}

    def rotated(self) -> Device:
        return Device(self.device_id, self.identity, self.prekey_id + 1)


def envelope(sender_device: str, recipients: list[tuple[str, str]], ciphertext_bytes: int = 64) -> dict[str, Any]:
    """A well-shaped envelope: one key entry per (user, device) of ``recipients``."""
    return {"v": 1, "sd": sender_device, "e": random_b64(32), "n": random_b64(24),
            "c": random_b64(ciphertext_bytes), "sig": random_b64(64),
            "k": [{"u": u, "d": d, "p": 1, "n": random_b64(24), "w": random_b64(48)} for u, d in recipients]}
