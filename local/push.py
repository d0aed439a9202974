"""Push notifications (docs/push.md), as ``infra/constructs/push.py`` wires them: the notifier subscribed
to the unread-events topic (unread events only), and SNS platform applications for APNs and FCM.

Locally the platform applications are moto's: ``registerDevice`` creates real SNS endpoints, and what the
notifier publishes to them stays in moto's endpoints (no APNs or FCM is ever called). moto's process
(``local.moto_server``) serves them at ``GET <moto>/_parley/pushes``; :func:`pushes` reads them from another
process.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from local.triggers import Queue, provision_queue
from parley.unread_events import UNREAD_EVENT

# Parley's platform name -> SNS's, and the application's name after the prefix.
PLATFORMS = {"apns": ("APNS", "ios"), "fcm": ("GCM", "android")}
# moto checks nothing; real SNS verifies credentials with Apple and Google, so this fails there.
_PLACEHOLDER_CREDENTIALS = {
    "APNS": {"PlatformCredential": "local-apns-signing-key", "PlatformPrincipal": "local-apns-certificate"},
    "GCM": {"PlatformCredential": "local-fcm-server-key"},
}
# Served by the stack next to moto's own API (moto has no API for what an endpoint received).
PUSHES_PATH = "/_parley/pushes"


def subscribe_notifier(sns: Any, sqs: Any, *, topic_arn: str, queue_name: str,
                       visibility_timeout: int) -> tuple[Queue, str]:
    """The notifier's queue, subscribed to the unread-events topic with the production filter policy;
    returns the queue and the subscription's ARN (Subscribe returns the existing one)."""
    queue = provision_queue(sqs, queue_name, visibility_timeout=visibility_timeout,
                            sender_service="sns.amazonaws.com", sender_arn=topic_arn)
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue.arn, ReturnSubscriptionArn=True,
                                 Attributes={"FilterPolicy": json.dumps({"type": [UNREAD_EVENT]})})
    return queue, str(subscription["SubscriptionArn"])


def provision_platform_applications(sns: Any, prefix: str) -> dict[str, str]:
    """``{"apns": arn, "fcm": arn}``: the applications named ``<prefix>-ios`` / ``<prefix>-android``,
    created unless they exist."""
    existing: dict[str, str] = {}
    for page in sns.get_paginator("list_platform_applications").paginate():
        for app in page["PlatformApplications"]:
            arn = str(app["PlatformApplicationArn"])
            existing[arn.split(":app/", 1)[-1]] = arn  # "APNS/parley-local-ios"
    found = {}
    for platform, (sns_platform, suffix) in PLATFORMS.items():
        name = f"{prefix}-{suffix}"
        found[platform] = existing.get(f"{sns_platform}/{name}") or str(sns.create_platform_application(
            Name=name, Platform=sns_platform, Attributes=_PLACEHOLDER_CREDENTIALS[sns_platform],
        )["PlatformApplicationArn"])
    return found


@dataclass(frozen=True)
class Push:
    """One notification moto's platform endpoint received."""

    user_id: str  # the endpoint's CustomUserData: the user who registered the device
    platform: str  # SNS's: APNS, APNS_SANDBOX, GCM
    token: str
    endpoint_arn: str
    payload: dict[str, Any]  # what APNs / FCM would have been sent


def recorded_pushes() -> list[Push]:
    """Every push moto's platform endpoints in this process received: moto keeps each endpoint's messages
    (the integration tier reads them the same way). The local stack's moto runs in a process of its own,
    which serves this as ``GET /_parley/pushes``; from elsewhere, :func:`pushes` asks it. A deleted endpoint
    takes its pushes with it."""
    from moto.sns import sns_backends

    found = []
    for regions in list(sns_backends.values()):
        for backend in list(regions.values()):
            for endpoint in list(backend.platform_endpoints.values()):
                user = str(endpoint.attributes.get("CustomUserData") or endpoint.custom_user_data or "")
                token = str(endpoint.attributes.get("Token") or endpoint.token)
                for raw in list(endpoint.messages.values()):
                    for platform, payload in json.loads(raw).items():
                        if platform != "default":  # the message structure: {"default": ..., "APNS": "<json>"}
                            found.append(Push(user_id=user, platform=platform, token=token, endpoint_arn=endpoint.arn,
                                              payload=json.loads(payload) if isinstance(payload, str) else payload))
    return found


def pushes_view() -> list[dict[str, Any]]:
    """:func:`recorded_pushes` as JSON, for ``GET /_parley/pushes``."""
    return [dataclasses.asdict(p) for p in recorded_pushes()]


def pushes(moto_url: str, timeout: float = 10) -> list[Push]:
    """Every push the local stack's moto received, asked over HTTP (``moto_url``: the stack's moto)."""
    if not moto_url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {moto_url}")
    with urllib.request.urlopen(moto_url.rstrip("/") + PUSHES_PATH, timeout=timeout) as answer:  # noqa: S310
        return [Push(**item) for item in json.load(answer)]
