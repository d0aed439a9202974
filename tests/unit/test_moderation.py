"""The moderation service and the example hook, against fakes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from parley.errors import MessageRejectedError, ModerationUnavailableError
from parley.models import Conversation, ConversationKind
from parley.moderation import ModerationService
from tests.fakes import FakeModerationHook, FakeProfileStore

CONV = Conversation(conversation_id="d_1", kind=ConversationKind.DIRECT, members=("alice", "bob"),
                    created_by="alice", created_at=0)


def service(hook: FakeModerationHook, fail_open: bool = True) -> ModerationService:
    return ModerationService(hook, FakeProfileStore(), fail_open=fail_open, max_text_bytes=50, clock=lambda: 1000)


def test_allow_deny_and_replace() -> None:
    assert service(FakeModerationHook({"verdict": "allow"})).review("alice", CONV, "hi") == "hi"
    assert service(FakeModerationHook({"verdict": "replace", "text": "***"})).review("alice", CONV, "rude") == "***"
    with pytest.raises(MessageRejectedError, match="spam"):
        service(FakeModerationHook({"verdict": "deny", "reason": "spam"})).review("alice", CONV, "x")


def test_the_hook_sees_the_message_and_the_senders_account_age() -> None:
    hook = FakeModerationHook()
    moderation = ModerationService(hook, profiles := FakeProfileStore(), fail_open=True, max_text_bytes=50,
                                   clock=lambda: 5000)
    profiles.mark_first_seen("alice", 1234)
    moderation.review("alice", CONV, "hello")
    assert hook.requests == [{"version": 1, "senderId": "alice", "conversationId": "d_1",
                              "conversationKind": "direct", "text": "hello", "now": 5000, "senderFirstSeenAt": 1234}]


@pytest.mark.parametrize("hook", [
    FakeModerationHook(fail=TimeoutError()),
    FakeModerationHook({"verdict": "maybe"}),
    FakeModerationHook({"verdict": "replace", "text": "x" * 51}),
])
def test_failures_fail_open_or_closed(hook: FakeModerationHook) -> None:
    assert service(hook, fail_open=True).review("alice", CONV, "hi") == "hi"
    with pytest.raises(ModerationUnavailableError):
        service(hook, fail_open=False).review("alice", CONV, "hi")


def _example_hook():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[2] / "functions" / "moderation_hook" / "handler.py"
    spec = importlib.util.spec_from_file_location("example_moderation_hook", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_hook_refuses_link_spam_from_new_accounts_only() -> None:
    hook = _example_hook()
    day = 24 * 3600 * 1000
    spam = "see https://a.example and www.b.example and c.com now"
    assert hook.review({"text": spam, "now": 10 * day, "senderFirstSeenAt": 10 * day - 1000})["verdict"] == "deny"
    assert hook.review({"text": spam, "now": 10 * day, "senderFirstSeenAt": 1})["verdict"] == "allow"
    assert hook.review({"text": "one https://a.example link", "now": 10, "senderFirstSeenAt": 5})["verdict"] == "allow"
