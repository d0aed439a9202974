"""Blocking. A blocked user cannot open or write to a direct conversation with the blocker, nor put them in
a group. In groups the blocker no longer sees the blocked user's messages (live, in history, as last
message, in unread counts and push). Presence, typing and read receipts stop in both directions."""

from __future__ import annotations

from parley.clock import Clock, now_ms
from parley.errors import InvalidMembersError
from parley.ports import BlockStore


class BlockingService:
    def __init__(self, blocks: BlockStore, clock: Clock = now_ms) -> None:
        self._blocks = blocks
        self._clock = clock

    def block(self, me: str, other: str) -> None:
        if other == me:
            raise InvalidMembersError("You cannot block yourself.")
        self._blocks.block(me, other, self._clock())

    def unblock(self, me: str, other: str) -> None:
        self._blocks.unblock(me, other)

    def blocked(self, me: str) -> list[str]:
        return sorted(self._blocks.blocks_of(me))
