"""The key directory of end-to-end encrypted conversations: ``publishKeys``, ``removeDevice``, ``getKeys``,
their answers and the ``keysChanged`` notice.

docs/protocol.md and docs/e2e.md are the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from parley.envelopes import DeviceId, Key32, PrekeyId, Signature64
from parley.protocol.base import Identifier, Inbound, Outbound
from parley.user_ids import UserId

MAX_KEY_USERS = 50  # users one getKeys names


class PrekeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    id: PrekeyId
    key: Key32  # X25519 public key
    sig: Signature64  # Ed25519 by the identity key over "parley-e2e-v1/prekey\n<deviceId>\n<id>\n<key>"


class PublishKeysRequest(Inbound):
    action: Literal["publishKeys"]
    device_id: DeviceId
    identity_key: Key32  # Ed25519 public key
    prekey: PrekeyIn


class RemoveDeviceRequest(Inbound):
    action: Literal["removeDevice"]
    device_id: DeviceId


class GetKeysRequest(Inbound):
    """Exactly one of ``userIds`` (up to 50 users) and ``conversationId`` (the members of an end-to-end encrypted
    conversation the caller is a member of)."""

    action: Literal["getKeys"]
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=MAX_KEY_USERS)] | None = None
    conversation_id: Identifier | None = None

    @model_validator(mode="after")
    def _one_of(self) -> GetKeysRequest:
        if (self.user_ids is None) == (self.conversation_id is None):
            raise ValueError("give exactly one of userIds and conversationId")
        return self


class Prekey(Outbound):
    id: int
    key: str
    sig: str


class DeviceKeys(Outbound):
    device_id: str
    identity_key: str
    prekey: Prekey
    published_at: int  # epoch ms: when this prekey was published


class UserKeys(Outbound):
    user_id: str
    devices: list[DeviceKeys]  # empty: the user has published no keys (or removed every device)


class KeysFrame(Outbound):
    """The answer to ``getKeys``: every user asked for, in the order asked, each with their current devices."""

    type: Literal["keys"] = "keys"
    users: list[UserKeys]
    ref: str | None = None


class KeysPublishedFrame(Outbound):
    """The answer to ``publishKeys``: the device's keys are in the directory now."""

    type: Literal["keysPublished"] = "keysPublished"
    device_id: str
    prekey_id: int
    published_at: int
    ref: str | None = None


class DeviceRemovedFrame(Outbound):
    """The answer to ``removeDevice``: the device is not in the directory (``removed``: it was until now)."""

    type: Literal["deviceRemoved"] = "deviceRemoved"
    device_id: str
    removed: bool
    ref: str | None = None


class KeysChangedFrame(Outbound):
    """Sent unasked to the online members of every end-to-end encrypted conversation ``userId`` is in, when a device
    of theirs was added to the directory or removed from it: fetch their keys again (``getKeys``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)

    type: Literal["keysChanged"] = "keysChanged"
    user_id: str
