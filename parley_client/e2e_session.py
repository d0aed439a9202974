"""One device's end-to-end encryption, between the construction (``parley_client.e2e``) and the socket
(``ParleyClient``): its keys, what it knows of the key directory, trust on first use and its key-change
notices, replay detection, and sealing and opening the messages and edits of e2e conversations.

An app makes one per device and gives it to the client::

    session = E2ESession("/var/lib/myapp/parley-keys", user_id="alice")
    async with ParleyClient(url, token, e2e=session) as client: ...
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley_client import e2e
from parley_client.e2e_device import DeviceKeys, TrustStore, now_ms
from parley_client.frames import Frame

PREVIEW_EDGE = 32  # pixels: a client-made preview is a blurred placeholder, a few hundred bytes
_PREVIEW_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


@dataclass(frozen=True)
class KeyChange(Frame):
    """A user's devices differ from what this device saw before (trust on first use): ``added`` and
    ``removed`` device ids, and ``changed`` ones (the same device id with another identity key: suspicious,
    the server refuses that). Show it to the user and let them compare safety numbers again."""

    user_id: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @classmethod
    def of(cls, user_id: str, before: dict[str, str], after: dict[str, str]) -> KeyChange:
        added = tuple(sorted(set(after) - set(before)))
        removed = tuple(sorted(set(before) - set(after)))
        changed = tuple(sorted(d for d in set(before) & set(after) if before[d] != after[d]))
        data = {"type": "keyChange", "userId": user_id, "added": list(added), "removed": list(removed),
                "changed": list(changed)}
        return cls("keyChange", data, user_id, added, removed, changed)


class E2ESession:
    """This device's keys (kept in ``state_dir``) and the directory as last fetched."""

    def __init__(self, state_dir: str | Path, user_id: str, *, device_id: str | None = None,
                 clock: Callable[[], int] = now_ms) -> None:
        self.device = DeviceKeys(state_dir, user_id, device_id=device_id, clock=clock)
        self.trust = TrustStore(state_dir)
        self._clock = clock
        self._directory: dict[str, dict[str, e2e.DeviceKey]] = {}
        # conversation -> payload nonce -> where it was delivered: "m<seq>" (a message), "e<seq>" (an edit of it)
        self._nonces: dict[str, dict[str, str]] = {}

    @property
    def user_id(self) -> str:
        return self.device.user_id

    @property
    def device_id(self) -> str:
        return self.device.device_id

    # -- the directory -------------------------------------------------------------------------------

    def learn(self, users: Iterable[dict[str, Any]]) -> list[KeyChange]:
        """Take in a ``keys`` frame's users: each one's current devices (those whose prekey signature verifies;
        the others cannot be written to, nor believed). Returns a notice for each user whose devices differ
        from what this device remembered (nothing the first time a user is seen)."""
        notices = []
        for user in users:
            user_id = str(user["userId"])
            devices = [e2e.DeviceKey.from_frame(user_id, d) for d in user.get("devices", [])]
            self._directory[user_id] = {d.device_id: d for d in devices if d.prekey_verifies()}
            seen = {d.device_id: d.identity_key for d in self._directory[user_id].values()}
            known = self.trust.known(user_id)
            if known != seen:
                self.trust.remember(user_id, seen)
                if known is not None:
                    notices.append(KeyChange.of(user_id, known, seen))
        return notices

    def knows(self, user_id: str) -> bool:
        return user_id in self._directory

    def forget(self, user_ids: Iterable[str] | None = None) -> None:
        """Drop cached directory entries (all of them with None): the next use fetches them again."""
        for user_id in list(self._directory) if user_ids is None else user_ids:
            self._directory.pop(user_id, None)

    def devices(self, user_id: str) -> list[e2e.DeviceKey]:
        return list(self._directory.get(user_id, {}).values())

    def safety_number(self, other_user_id: str) -> str:
        """This user's and ``other_user_id``'s safety number, from the devices as last fetched."""
        return e2e.safety_number(*self._safety_inputs(other_user_id))

    def safety_qr_payload(self, other_user_id: str) -> str:
        return e2e.safety_qr_payload(*self._safety_inputs(other_user_id))

    def _safety_inputs(self, other: str) -> tuple[str, list[str], str, list[str]]:
        mine = {d.identity_key for d in self.devices(self.user_id)} | {self.device.identity_key}
        return self.user_id, sorted(mine), other, [d.identity_key for d in self.devices(other)]

    # -- sealing ---------------------------------------------------------------------------------------

    def seal(self, conversation_id: str, payload: dict[str, Any], members: Iterable[str]) -> dict[str, Any]:
        """The envelope of a message or an edit, for every current device of every member, and this one."""
        recipients = [d for m in dict.fromkeys(members) for d in self.devices(m)]
        if not any(d.user_id == self.user_id and d.device_id == self.device_id for d in recipients):
            recipients.append(self._own_public_key())
        return e2e.seal(e2e.encode_payload(payload), conversation_id=conversation_id, sender_user_id=self.user_id,
                        sender_device_id=self.device_id, identity=self.device.identity, recipients=recipients)

    def message_payload(self, client_msg_id: str, text: str | None,
                        files: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        payload: dict[str, Any] = {"t": "msg", "mid": client_msg_id, "ts": self._clock()}
        if text:
            payload["text"] = text
        if files := list(files):
            payload["files"] = files
        return payload

    def edit_payload(self, edit_id: str, target: int, text: str) -> dict[str, Any]:
        return {"t": "edit", "mid": edit_id, "ts": self._clock(), "text": text, "target": target}

    def _own_public_key(self) -> e2e.DeviceKey:
        fields = self.device.publish_fields()
        prekey = fields["prekey"]
        return e2e.DeviceKey(user_id=self.user_id, device_id=self.device_id, identity_key=fields["identityKey"],
                             prekey_id=prekey["id"], prekey=prekey["key"], prekey_sig=prekey["sig"])

    # -- opening -----------------------------------------------------------------------------------------

    def open(self, conversation_id: str, seq: int, sender_id: str, envelope: Any, *, kind: str,
             client_msg_id: str | None = None, target: int | None = None, edited: bool = False) -> dict[str, Any]:
        """The payload of a message (``kind`` "msg", at ``seq``; ``edited`` when it was edited, so that its
        envelope may be its edit's) or of an edit change ("edit", of the message ``target``), checked in the
        order docs/e2e.md gives. Raises the typed :class:`parley_client.e2e.E2EError` subclasses, each
        carrying the conversation, seq and sender."""
        try:
            return self._open(conversation_id, seq, sender_id, envelope, kind, client_msg_id, target, edited)
        except e2e.E2EError as error:
            error.conversation_id, error.seq, error.sender_id = conversation_id, seq, sender_id
            raise

    def _open(self, conversation_id: str, seq: int, sender_id: str, envelope: Any, kind: str,
              client_msg_id: str | None, target: int | None, edited: bool) -> dict[str, Any]:
        parsed = e2e.Envelope.parse(envelope)
        device = self._directory.get(sender_id, {}).get(parsed.sender_device_id)
        if device is None:
            raise e2e.UnknownDeviceError(f"{parsed.sender_device_id} is not a current device of {sender_id}")
        payload = e2e.open_envelope(parsed, conversation_id=conversation_id, sender_user_id=sender_id,
                                    sender_identity_key=device.identity_key, own_user_id=self.user_id,
                                    own_device_id=self.device_id, prekeys=self.device.private_prekeys())
        is_edit = payload.get("t") == "edit" and isinstance(payload.get("target"), int)
        if kind == "msg":
            # An edited message is stored with its edit's envelope (the edit of that very message).
            in_place = is_edit and edited and payload["target"] == seq
            if not in_place and payload.get("t") != "msg":
                raise e2e.ReplayedMessageError(f"a {payload.get('t')!r} payload where a message was expected")
            if not in_place and client_msg_id is not None and payload.get("mid") != client_msg_id:
                raise e2e.ReplayedMessageError("the payload belongs to another message")
        elif not is_edit or payload["target"] != target:
            raise e2e.ReplayedMessageError("the payload belongs to another edit")
        # Where the envelope belongs: a message's seq, or (an edit, a change entry or in place) its target's.
        place = f"e{payload['target']}" if is_edit else f"m{seq}"
        seen = self._nonces.setdefault(conversation_id, {})
        if seen.setdefault(parsed.n, place) != place:
            raise e2e.ReplayedMessageError(f"the envelope delivered before at {seen[parsed.n]}")
        _check_payload(payload)
        return payload


def _check_payload(payload: dict[str, Any]) -> None:
    """What the client shows must have the documented types (a signed but malformed payload is refused too)."""
    text, files = payload.get("text"), payload.get("files", [])
    if text is not None and not isinstance(text, str):
        raise e2e.TamperedMessageError("the payload's text is not a string")
    if not isinstance(files, list) or not all(
            isinstance(f, dict) and isinstance(f.get("key"), str) and isinstance(f.get("fk"), str)
            and isinstance(f.get("type"), str) and isinstance(f.get("size"), int) for f in files):
        raise e2e.TamperedMessageError("the payload's files are malformed")


_APP1, _SOS = 0xE1, 0xDA
_METADATA_HEADERS = (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/\x00")  # EXIF (the location is there), XMP


def without_metadata(data: bytes, content_type: str) -> bytes:
    """A JPEG without its EXIF and XMP segments, the image data untouched (no re-encoding), as the JS SDK's
    ``withoutMetadata``: the server cannot strip them from an encrypted file, so the client does before it
    encrypts (docs/attachments.md). Anything else, or a JPEG it cannot walk, is returned as it is."""
    if content_type != "image/jpeg" or data[:2] != b"\xff\xd8":
        return data
    kept, at = [data[:2]], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == _SOS:  # the image data follows: kept as it is
            break
        end = at + 2 + int.from_bytes(data[at + 2:at + 4], "big")
        if end > len(data):
            return data
        if not (marker == _APP1 and data[at + 4:end].startswith(_METADATA_HEADERS)):
            kept.append(data[at:end])
        at = end
    kept.append(data[at:])
    return b"".join(kept)


def image_preview(data: bytes, content_type: str) -> str | None:
    """A tiny JPEG of an image as a ``data:`` URI (it travels inside the encrypted payload), made with Pillow
    when it is installed; None for other files or without Pillow."""
    if content_type not in _PREVIEW_TYPES:
        return None
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            small = image.convert("RGB")
            small.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=40)
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
