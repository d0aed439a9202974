"""Per-platform push payloads for SNS (MessageStructure=json): APNs ``aps`` and FCM v1 messages.

``badge`` is the recipient's number of conversations with unread messages (``parley.badges``); ``unread``
their exact number of unread messages in the pushed conversation, for apps that keep a message total."""

from __future__ import annotations

import json

from parley.models import NotifyMode
from parley.unread_events import UnreadEvent
from parley.user_ids import BOT_PREFIX, is_system_sender

GENERIC_ALERT_KEY = "PARLEY_NEW_MESSAGE"  # the app localizes it: a content-free alert


def _sender(sender_id: str) -> str | None:
    """How the title names a sender: a user by their id, a bot (``#bot:shop``) by its name, the system not
    at all (the app's own name is what the platform shows above the alert)."""
    if sender_id.startswith(BOT_PREFIX):
        return sender_id.removeprefix(BOT_PREFIX)
    return None if is_system_sender(sender_id) else sender_id


def _title(event: UnreadEvent) -> str | None:
    sender = _sender(event.sender_id)
    group = event.conversation_name if event.conversation_kind == "group" else None
    if sender and group:
        return f"{sender} in {group}"
    return sender or group


def _alert(event: UnreadEvent) -> dict[str, object]:
    title = _title(event)
    return {"title": title, "body": _body(event)} if title else {"body": _body(event)}


def _body(event: UnreadEvent) -> str:
    return event.text or ("Sent an attachment" if event.attachment_count else "")


def _ids(event: UnreadEvent, unread: int) -> dict[str, str]:
    return {"conversationId": event.conversation_id, "seq": str(event.seq), "messageId": event.message_id,
            "unread": str(unread)}


def apns(event: UnreadEvent, mode: NotifyMode, badge: int, unread: int, with_content: bool) -> dict[str, object]:
    if mode is NotifyMode.BADGE:  # silent: the badge only
        return {"aps": {"badge": badge, "content-available": 1}, "parley": _ids(event, unread)}
    alert = _alert(event) if with_content and _body(event) else {"loc-key": GENERIC_ALERT_KEY}
    aps: dict[str, object] = {"alert": alert, "badge": badge, "sound": "default", "thread-id": event.conversation_id}
    if not with_content:
        aps["mutable-content"] = 1  # lets a notification service extension fetch and show the message
    return {"aps": aps, "parley": _ids(event, unread)}


def fcm(event: UnreadEvent, mode: NotifyMode, badge: int, unread: int, with_content: bool) -> dict[str, object]:
    """An FCM HTTP v1 message. Android shows a notification itself only when Parley has a title and text for
    it; otherwise (``badge`` mode, the content-free mode) the message is data-only, so the app's own code
    runs first and decides what to show: ``data.notify`` says whether that is an alert (``push``) or only
    the badge (``badge``)."""
    data = {**_ids(event, unread), "badge": str(badge), "notify": mode.value}
    message: dict[str, object] = {"data": data}
    if mode is NotifyMode.PUSH and with_content and _body(event):
        message["notification"] = _alert(event)
        message["android"] = {"notification": {"tag": event.conversation_id, "notification_count": badge}}
    elif mode is NotifyMode.PUSH:
        # data messages default to normal priority, which Doze may hold back; this one ends in an alert
        message["android"] = {"priority": "high"}
    return {"fcmV1Message": {"message": message}}


def sns_message(endpoint_arn: str, event: UnreadEvent, mode: NotifyMode, badge: int, unread: int,
                with_content: bool) -> dict[str, str]:
    """The SNS ``Message`` for one endpoint; the platform comes from the endpoint's ARN
    (``...:endpoint/APNS/...``, ``APNS_SANDBOX`` or ``GCM``)."""
    platform = endpoint_arn.split(":endpoint/", 1)[-1].split("/", 1)[0]
    body = (fcm(event, mode, badge, unread, with_content) if platform == "GCM"
            else apns(event, mode, badge, unread, with_content))
    return {"default": "New message", platform: json.dumps(body, separators=(",", ":"))}
