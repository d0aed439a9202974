"""Typing indicators: relayed to the other members' open connections (never to or from a user with a block
between them, either way), never stored, throttled per user and conversation in shared state (so every
device and Lambda instance counts toward the same limit)."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.fanout import Fanout
from parley.models import Visibility
from parley.ports import BlockStore, ProfileStore, ThrottleStore
from parley.protocol.presence import TypingFrame


class TypingService:
    def __init__(self, conversations: ConversationService, profiles: ProfileStore, throttles: ThrottleStore,
                 fanout: Fanout | None, interval_ms: int, blocks: BlockStore | None = None,
                 clock: Clock = now_ms) -> None:
        self._blocks = blocks
        self._conversations = conversations
        self._profiles = profiles
        self._throttles = throttles
        self._fanout = fanout
        self._interval = interval_ms
        self._clock = clock

    def typing(self, me: str, conversation_id: str) -> bool:
        """Relay that ``me`` is typing. False when nothing was relayed (invisible, or throttled)."""
        conversation = self._conversations.require_member(conversation_id, me)
        if self._fanout is None or self._profiles.get(me).visibility is Visibility.INVISIBLE:
            return False
        now = self._clock()
        if not self._throttles.acquire("typing", me, conversation_id, self._interval, now):
            return False
        either = self._blocks.relations(me).either if self._blocks else frozenset()  # a block either way
        recipients = [u for u in conversation.members if u != me and u not in either]
        if recipients:
            frame = TypingFrame(conversation_id=conversation_id, user_id=me).to_json().encode()
            self._fanout.deliver(recipients, frame, now)
        return True
