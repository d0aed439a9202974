"""``registerDevice`` (an APNs or FCM token becomes an SNS platform endpoint) and ``unregisterDevice``
(a logout on that device)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import Caller, run_route
from parley.observability import logger, metrics, tracer
from parley.protocol.devices import DeviceFrame, RegisterDeviceRequest, UnregisterDeviceRequest
from parley.wiring import services


def devices(caller: Caller, raw: dict[str, Any]) -> DeviceFrame:
    app = services().devices
    if raw.get("action") == "unregisterDevice":
        logout = UnregisterDeviceRequest.model_validate(raw)
        app.unregister(caller.user_id, logout.token)
        metrics.add_metric(name="DevicesUnregistered", unit="Count", value=1)
        return DeviceFrame(registered=False, ref=logout.request_id)
    request = RegisterDeviceRequest.model_validate(raw)
    device = app.register(caller.user_id, request.platform, request.token)
    metrics.add_metric(name="DevicesRegistered", unit="Count", value=1)
    return DeviceFrame(registered=True, platform=device.platform.value, ref=request.request_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_route(event, devices, limit="devices")
