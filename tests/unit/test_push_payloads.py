"""What each phone is sent (docs/push.md, "Payloads"), per platform, mode and content setting."""

from __future__ import annotations

import json

import pytest

from parley.models import NotifyMode
from parley.push_payloads import apns, fcm, sns_message
from parley.unread_events import UnreadEvent

# the message, and the recipient's unread messages in its conversation (2); the badge (3) counts conversations
IDS = {"conversationId": "g_1kq0", "seq": "42", "messageId": "q3Z8", "unread": "2"}


def event(*, kind: str = "group", name: str | None = "Book club", text: str | None = "See you at 7?",
          attachments: int | None = None, sender: str = "alice") -> UnreadEvent:
    return UnreadEvent(conversation_id="g_1kq0", conversation_kind=kind, conversation_name=name, seq=42,
                       message_id="q3Z8", sender_id=sender, sent_at=1, recipients=["bob"], text=text,
                       attachment_count=attachments)


def content_free_event() -> UnreadEvent:
    """What send publishes with PARLEY_PUSH_CONTENT=ids: no text."""
    return event(text=None)


# --- FCM ---

def test_content_free_fcm_pushes_are_data_only_with_everything_the_app_needs() -> None:
    # given the content-free mode and a user who wants alerts
    push = fcm(content_free_event(), NotifyMode.PUSH, badge=3, unread=2, with_content=False)
    message = push["fcmV1Message"]["message"]
    # then nothing in it would make Android show a notification by itself: the app's code runs first
    assert "notification" not in message
    assert "notification" not in message.get("android", {})
    # and the data carries the ids, the unread count, the badge and the hint to show an alert, all as strings
    assert message["data"] == {**IDS, "badge": "3", "notify": "push"}
    # and it is delivered at once even to a dozing phone, as it ends in an alert
    assert message["android"] == {"priority": "high"}


def test_content_free_fcm_pushes_carry_no_sender_or_text() -> None:
    payload = json.dumps(fcm(content_free_event(), NotifyMode.PUSH, badge=3, unread=2, with_content=False))
    assert "alice" not in payload and "Book club" not in payload


def test_fcm_badge_updates_are_data_only_and_say_so() -> None:
    message = fcm(event(), NotifyMode.BADGE, badge=3, unread=2, with_content=True)["fcmV1Message"]["message"]
    assert message == {"data": {**IDS, "badge": "3", "notify": "badge"}}


def test_fcm_alerts_with_content_are_shown_by_android_and_grouped_per_conversation() -> None:
    message = fcm(event(), NotifyMode.PUSH, badge=3, unread=2, with_content=True)["fcmV1Message"]["message"]
    assert message == {
        "notification": {"title": "alice in Book club", "body": "See you at 7?"},
        "data": {**IDS, "badge": "3", "notify": "push"},
        "android": {"notification": {"tag": "g_1kq0", "notification_count": 3}},
    }


# --- APNs ---

def test_content_free_apns_alerts_use_the_apps_own_text_and_may_fetch_the_message() -> None:
    payload = apns(content_free_event(), NotifyMode.PUSH, badge=3, unread=2, with_content=False)
    assert payload == {
        "aps": {"alert": {"loc-key": "PARLEY_NEW_MESSAGE"}, "badge": 3, "sound": "default", "thread-id": "g_1kq0",
                "mutable-content": 1},
        "parley": IDS,
    }


def test_apns_badge_updates_are_silent() -> None:
    assert apns(event(), NotifyMode.BADGE, badge=3, unread=2, with_content=True) == {
        "aps": {"badge": 3, "content-available": 1}, "parley": IDS}


# --- titles and bodies (docs/push.md) ---

@pytest.mark.parametrize(("kind", "name", "title"), [
    ("direct", None, "alice"),  # a direct message: the sender's user id
    ("group", "Book club", "alice in Book club"),  # a named group: "<sender> in <group name>"
    ("group", None, "alice"),  # a group without a name: the sender only
])
def test_the_title_names_the_sender_and_the_group(kind: str, name: str | None, title: str) -> None:
    alert = apns(event(kind=kind, name=name), NotifyMode.PUSH, badge=1, unread=2, with_content=True)["aps"]
    assert alert["alert"]["title"] == title
    message = fcm(event(kind=kind, name=name), NotifyMode.PUSH, badge=1, unread=2, with_content=True)["fcmV1Message"]
    assert message["message"]["notification"]["title"] == title


@pytest.mark.parametrize(("sender", "kind", "name", "alert"), [
    ("#bot:shop", "direct", None, {"title": "shop", "body": "See you at 7?"}),  # a bot: by its name
    ("#bot:shop", "group", "Book club", {"title": "shop in Book club", "body": "See you at 7?"}),
    ("#system", "group", "Book club", {"title": "Book club", "body": "See you at 7?"}),  # the system: not named
    ("#system", "direct", None, {"body": "See you at 7?"}),  # nothing to name: no title (the app's name shows)
])
def test_a_system_message_never_shows_a_raw_sender_id(sender: str, kind: str, name: str | None,
                                                      alert: dict[str, str]) -> None:
    aps = apns(event(sender=sender, kind=kind, name=name), NotifyMode.PUSH, badge=1, unread=2, with_content=True)
    assert aps["aps"]["alert"] == alert
    message = fcm(event(sender=sender, kind=kind, name=name), NotifyMode.PUSH, badge=1, unread=2, with_content=True)
    assert message["fcmV1Message"]["message"]["notification"] == alert


def test_a_photo_without_text_says_so() -> None:
    aps = apns(event(text=None, attachments=1), NotifyMode.PUSH, badge=1, unread=2, with_content=True)["aps"]
    assert aps["alert"] == {"title": "alice in Book club", "body": "Sent an attachment"}


def test_sns_gets_the_payload_of_the_endpoints_platform() -> None:
    message = sns_message("arn:aws:sns:us-east-1:1:endpoint/GCM/parley-android/uuid", content_free_event(),
                          NotifyMode.PUSH, badge=3, unread=2, with_content=False)
    assert set(message) == {"default", "GCM"} and message["default"] == "New message"
    assert json.loads(message["GCM"])["fcmV1Message"]["message"]["data"]["notify"] == "push"
