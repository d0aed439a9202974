"""``registerDevice`` and ``unregisterDevice``.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from parley.models import (
    Platform,
)
from parley.protocol.base import Inbound, Outbound

PushToken = Annotated[str, StringConstraints(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:.\-]+$")]


class RegisterDeviceRequest(Inbound):
    action: Literal["registerDevice"]
    platform: Annotated[Platform, Field(strict=False)]
    token: PushToken


class UnregisterDeviceRequest(Inbound):
    action: Literal["unregisterDevice"]
    token: PushToken


class DeviceFrame(Outbound):
    type: Literal["device"] = "device"
    registered: bool
    platform: str | None = None
    ref: str | None = None
