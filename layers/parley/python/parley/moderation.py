"""The optional moderation hook: reviews each message before it is stored and delivered, and answers
allow, deny (with a reason for the sender) or replace (with new text). It runs under a strict timeout;
a failure fails open or closed, as configured."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.errors import MessageRejectedError, ModerationUnavailableError
from parley.models import Conversation
from parley.observability import logger
from parley.ports import ModerationHook, ProfileStore

HOOK_VERSION = 1
MAX_REASON = 200


class ModerationService:
    def __init__(self, hook: ModerationHook | None, profiles: ProfileStore, *, fail_open: bool,
                 max_text_bytes: int, clock: Clock = now_ms) -> None:
        self._hook = hook
        self._profiles = profiles
        self._fail_open = fail_open
        self._max_text_bytes = max_text_bytes
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._hook is not None

    def review(self, sender: str, conversation: Conversation, text: str) -> str:
        """The text to store: the original, or the hook's replacement. Raises if the hook denies."""
        if self._hook is None:
            return text
        request: dict[str, object] = {
            "version": HOOK_VERSION, "senderId": sender, "conversationId": conversation.conversation_id,
            "conversationKind": conversation.kind.value, "text": text, "now": self._clock(),
            "senderFirstSeenAt": self._profiles.get(sender).first_seen,
        }
        try:
            answer = self._hook.review(request)
            verdict = answer.get("verdict")
        except Exception as exc:
            logger.warning("moderation hook failed", extra={"error": type(exc).__name__,
                                                             "fail_open": self._fail_open})
            if self._fail_open:
                return text
            raise ModerationUnavailableError() from None
        if verdict == "allow":
            return text
        if verdict == "deny":
            reason = answer.get("reason")
            raise MessageRejectedError(str(reason)[:MAX_REASON] if reason else "")
        replacement = answer.get("text")
        if verdict == "replace" and isinstance(replacement, str) and replacement \
                and len(replacement.encode()) <= self._max_text_bytes:
            return replacement
        logger.warning("moderation hook answered something unusable", extra={"verdict": str(verdict)[:20]})
        if self._fail_open:
            return text
        raise ModerationUnavailableError()
