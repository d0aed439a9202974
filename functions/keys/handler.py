"""The key directory of end-to-end encrypted conversations: ``publishKeys``, ``removeDevice`` and ``getKeys``
(docs/e2e.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.errors import UnknownActionError
from parley.models import PublishedDevice
from parley.observability import logger, metrics, tracer
from parley.protocol.keys import (
    DeviceKeys,
    DeviceRemovedFrame,
    GetKeysRequest,
    KeysFrame,
    KeysPublishedFrame,
    Prekey,
    PublishKeysRequest,
    RemoveDeviceRequest,
    UserKeys,
)
from parley.wiring import services


def _device(d: PublishedDevice) -> DeviceKeys:
    return DeviceKeys(device_id=d.device_id, identity_key=d.identity_key, published_at=d.published_at,
                      prekey=Prekey(id=d.prekey_id, key=d.prekey, sig=d.prekey_sig))


def keys(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    app = services().key_directory
    action = raw.get("action")
    if action == "publishKeys":
        publish = PublishKeysRequest.model_validate(raw)
        device = app.publish(caller.user_id, publish.device_id, publish.identity_key, publish.prekey.id,
                             publish.prekey.key, publish.prekey.sig)
        metrics.add_metric(name="KeysPublished", unit="Count", value=1)
        return KeysPublishedFrame(device_id=device.device_id, prekey_id=device.prekey_id,
                                  published_at=device.published_at, ref=publish.request_id)
    if action == "removeDevice":
        remove = RemoveDeviceRequest.model_validate(raw)
        removed = app.remove(caller.user_id, remove.device_id)
        return DeviceRemovedFrame(device_id=remove.device_id, removed=removed, ref=remove.request_id)
    if action == "getKeys":
        get = GetKeysRequest.model_validate(raw)
        found = app.keys_of(get.user_ids) if get.user_ids is not None \
            else app.keys_of_conversation(caller.user_id, str(get.conversation_id))
        return KeysFrame(users=[UserKeys(user_id=u, devices=[_device(d) for d in devices])
                                for u, devices in found.items()], ref=get.request_id)
    raise UnknownActionError()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, keys, limit="keys")
