"""Push device registration: one SNS platform endpoint per device token, owned by one user at a time, and
at most ``MAX_DEVICES_PER_USER`` per user (registering one more forgets the oldest registration)."""

from __future__ import annotations

from parley import table
from parley.clock import Clock, now_ms
from parley.errors import PushUnavailableError
from parley.models import Device, Platform
from parley.observability import logger
from parley.ports import DeviceStore, PushGateway

# Devices live on the user's profile item, which the notifier reads for every push: five keep it under 1 KB
# (one write unit when the badge changes). Apps register their token at every start, so the oldest
# registration is a phone no longer in use.
MAX_DEVICES_PER_USER = 5


class DeviceService:
    def __init__(self, devices: DeviceStore, gateway: PushGateway | None, applications: dict[str, str],
                 clock: Clock = now_ms) -> None:
        self._devices = devices
        self._gateway = gateway
        self._applications = applications
        self._clock = clock

    def register(self, me: str, platform: Platform, token: str) -> Device:
        application = self._applications.get(platform.value)
        if self._gateway is None or application is None:
            raise PushUnavailableError(f"Push for {platform.value} is not configured on this deployment.")
        endpoint = self._gateway.ensure_endpoint(application, token, me)
        device = Device(user_id=me, token_hash=table.device_hash(token), platform=platform, endpoint_arn=endpoint,
                        registered_at=self._clock())
        for dropped in self._devices.put(device, MAX_DEVICES_PER_USER):
            try:  # forgotten already; its endpoint is only garbage now
                self._gateway.delete_endpoint(dropped.endpoint_arn)
            except Exception:
                logger.exception("deleting a dropped device's endpoint failed")
        return device

    def unregister(self, me: str, token: str) -> bool:
        """Forget the device (a logout): its endpoint is deleted unless the token moved to another user."""
        device = self._devices.delete(me, table.device_hash(token))
        if device is None:
            return False
        if self._gateway is not None:
            self._gateway.delete_endpoint(device.endpoint_arn)
        return True
