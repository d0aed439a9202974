"""The key directory of end-to-end encrypted conversations (docs/e2e.md): each device publishes its public keys,
the server verifies the prekey's signature, members fetch each other's devices, and the members of a user's
encrypted conversations are told when that user's devices change.

The directory never holds a private key, and the server decrypts nothing: the one signature it checks is the
prekey's, so that a client bug or a forged frame cannot put a key in the directory that its own device would
not vouch for."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.errors import E2ENotEnabledError, InvalidKeySignatureError
from parley.fanout import Fanout
from parley.models import PublishedDevice
from parley.observability import logger
from parley.ports import ConversationStore, KeyDirectoryStore
from parley.protocol.keys import KeysChangedFrame

MAX_KEY_DEVICES = 10  # devices of one user in the directory
PREKEY_CONTEXT = "parley-e2e-v1/prekey"


def prekey_signed_text(device_id: str, prekey_id: int, prekey_b64: str) -> bytes:
    """What a prekey's signature signs: ``"parley-e2e-v1/prekey\\n<deviceId>\\n<id>\\n<key as base64>"``."""
    return f"{PREKEY_CONTEXT}\n{device_id}\n{prekey_id}\n{prekey_b64}".encode()


def prekey_signature_valid(identity_key_b64: str, device_id: str, prekey_id: int, prekey_b64: str,
                           sig_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(identity_key_b64)).verify(
            base64.b64decode(sig_b64), prekey_signed_text(device_id, prekey_id, prekey_b64))
    except (InvalidSignature, ValueError):
        return False
    return True


class KeyDirectoryService:
    def __init__(self, store: KeyDirectoryStore, conversations: ConversationService,
                 conversation_store: ConversationStore, fanout: Fanout | None, clock: Clock = now_ms) -> None:
        self._store = store
        self._conversations = conversations
        self._conversation_store = conversation_store
        self._fanout = fanout
        self._clock = clock

    def publish(self, me: str, device_id: str, identity_key: str, prekey_id: int, prekey: str,
                prekey_sig: str) -> PublishedDevice:
        """Publish ``me``'s device, or rotate its prekey. A new device is announced (``keysChanged``)."""
        if not prekey_signature_valid(identity_key, device_id, prekey_id, prekey, prekey_sig):
            raise InvalidKeySignatureError()
        now = self._clock()
        device = PublishedDevice(device_id=device_id, identity_key=identity_key, prekey_id=prekey_id,
                                 prekey=prekey, prekey_sig=prekey_sig, published_at=now, first_published_at=now)
        if self._store.put(me, device, MAX_KEY_DEVICES):
            self._announce(me)
        return device

    def remove(self, me: str, device_id: str) -> bool:
        """Remove one of ``me``'s devices; announced if it was there."""
        removed = self._store.remove(me, device_id)
        if removed:
            self._announce(me)
        return removed

    def keys_of(self, user_ids: list[str]) -> dict[str, list[PublishedDevice]]:
        """Each user's devices, in the order asked (repeats once)."""
        return self._store.devices(list(dict.fromkeys(user_ids)))

    def keys_of_conversation(self, me: str, conversation_id: str) -> dict[str, list[PublishedDevice]]:
        """The devices of every member of an end-to-end encrypted conversation ``me`` is a member of."""
        conversation = self._conversations.require_member(conversation_id, me)
        if not conversation.e2e:
            raise E2ENotEnabledError()
        return self.keys_of(list(conversation.members))

    def _announce(self, user_id: str) -> None:
        """``keysChanged`` to the open connections of the members of every encrypted conversation of ``user_id``
        (their own included). Best effort: the directory changed whatever happens here, and clients also
        re-fetch a sender's keys when a message names a device they do not know (docs/e2e.md)."""
        if self._fanout is None:
            return
        try:
            e2e = [m.conversation_id for m in self._conversation_store.memberships(user_id) if m.e2e]
            members = {user_id}
            for conversation in self._conversation_store.get_many(e2e).values():
                members.update(conversation.members)
            frame = KeysChangedFrame(user_id=user_id).to_json().encode()
            self._fanout.deliver(sorted(members), frame, self._clock())
        except Exception:
            logger.exception("keysChanged could not be announced")
