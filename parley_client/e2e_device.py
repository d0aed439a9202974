"""This device's end-to-end encryption keys (docs/e2e.md, "Key lifecycle"), kept in a directory the app gives:
``device.json`` (the private keys: readable by the owner only) and ``trust.json`` (each other user's devices
and identity keys as first seen: trust on first use). Private keys never leave this directory.

The identity key (Ed25519) lives as long as the device id. The prekey (X25519, signed by the identity key)
is rotated every 7 days; a replaced prekey's private half is kept 30 days, so that messages sent to it late
still open, and then deleted: that is the forward-secrecy window."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from parley_client import e2e

DAY_MS = 86_400_000
PREKEY_ROTATION_MS = 7 * DAY_MS
PREKEY_RETENTION_MS = 30 * DAY_MS
DEVICE_FILE = "device.json"
TRUST_FILE = "trust.json"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Prekey:
    id: int
    secret: PrivateKey
    created_at: int
    retired_at: int | None = None  # when a newer prekey replaced it

    def public(self) -> str:
        return e2e.b64(bytes(self.secret.public_key))


class DeviceKeys:
    """The device's id, identity key and prekeys, loaded from ``state_dir`` or made there on first use."""

    def __init__(self, state_dir: str | Path, user_id: str, *, device_id: str | None = None,
                 clock: Callable[[], int] = now_ms) -> None:
        self.state_dir = Path(state_dir)
        self.user_id = user_id
        self._clock = clock
        saved = _read_json(self.state_dir / DEVICE_FILE)
        if saved is not None:
            if saved.get("userId") != user_id:
                raise ValueError(f"{self.state_dir} holds the keys of another user")
            self.device_id = str(saved["deviceId"])
            self.identity = SigningKey(e2e.unb64(saved["identitySeed"], e2e.KEY_BYTES))
            self.prekeys = [Prekey(int(p["id"]), PrivateKey(e2e.unb64(p["secret"], e2e.KEY_BYTES)),
                                   int(p["createdAt"]), p.get("retiredAt")) for p in saved["prekeys"]]
            return
        self.device_id = device_id or secrets.token_urlsafe(16)
        if not e2e.DEVICE_ID_PATTERN.fullmatch(self.device_id):
            raise ValueError("a device id is 8-64 of A-Z a-z 0-9 _ -")
        self.identity = SigningKey.generate()
        self.prekeys = [Prekey(1, PrivateKey.generate(), clock())]
        self.save()

    @property
    def identity_key(self) -> str:
        return e2e.b64(bytes(self.identity.verify_key))

    @property
    def current_prekey(self) -> Prekey:
        return max(self.prekeys, key=lambda p: p.id)

    def private_prekeys(self) -> dict[int, PrivateKey]:
        return {p.id: p.secret for p in self.prekeys}

    def publish_fields(self) -> dict[str, Any]:
        """The fields of ``publishKeys`` for this device's current prekey."""
        prekey = self.current_prekey
        return {"deviceId": self.device_id, "identityKey": self.identity_key,
                "prekey": {"id": prekey.id, "key": prekey.public(),
                           "sig": e2e.sign_prekey(self.identity, self.device_id, prekey.id, prekey.secret.public_key)}}

    def rotate_if_due(self) -> bool:
        """A new prekey when the current one is 7 days old; old private prekeys past their 30 days deleted.
        True when there is a new prekey to publish."""
        now = self._clock()
        kept = [p for p in self.prekeys if p.retired_at is None or now - p.retired_at < PREKEY_RETENTION_MS]
        rotated = now - self.current_prekey.created_at >= PREKEY_ROTATION_MS
        if rotated:
            self.rotate_prekey()
        elif len(kept) != len(self.prekeys):
            self.prekeys = kept
            self.save()
        return rotated

    def rotate_prekey(self) -> Prekey:
        now = self._clock()
        current = self.current_prekey
        current.retired_at = now
        fresh = Prekey(current.id + 1, PrivateKey.generate(), now)
        self.prekeys = [p for p in self.prekeys
                        if p.retired_at is None or now - p.retired_at < PREKEY_RETENTION_MS] + [fresh]
        self.save()
        return fresh

    def save(self) -> None:
        _write_private_json(self.state_dir / DEVICE_FILE, {
            "v": 1, "userId": self.user_id, "deviceId": self.device_id, "identitySeed": e2e.b64(bytes(self.identity)),
            "prekeys": [{"id": p.id, "secret": e2e.b64(bytes(p.secret)), "createdAt": p.created_at,
                         "retiredAt": p.retired_at} for p in self.prekeys]})


class TrustStore:
    """Each other user's devices as this device last saw them ({userId: {deviceId: identityKey}})."""

    def __init__(self, state_dir: str | Path) -> None:
        self._path = Path(state_dir) / TRUST_FILE
        saved = _read_json(self._path) or {}
        self._users: dict[str, dict[str, str]] = {u: dict(d) for u, d in saved.get("users", {}).items()}

    def known(self, user_id: str) -> dict[str, str] | None:
        return self._users.get(user_id)

    def remember(self, user_id: str, devices: dict[str, str]) -> None:
        self._users[user_id] = dict(devices)
        _write_private_json(self._path, {"v": 1, "users": self._users})


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return value if isinstance(value, dict) else None


def _write_private_json(path: Path, value: dict[str, Any]) -> None:
    """Written whole or not at all (a crash leaves the old file), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(value, out)
    os.replace(partial, path)
