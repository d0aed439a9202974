"""One conversation's messages in ``seq`` order, each delivered once.

Pushes can arrive out of order (two senders' handlers race) or be missed (the client was offline), and a
message can arrive twice (pushed while a catch-up read it too). The timeline holds back what arrives
ahead of a gap, reports the gap so the client can read it from history, and drops duplicates by
``messageId`` and by ``seq``.

A timeline without a starting point (``last_seq=None``) takes the first message offered as its start:
that is how a conversation first heard of through a push is followed from there on.
"""

from __future__ import annotations

from collections import OrderedDict

from parley_client.frames import Entry

_SEEN_LIMIT = 2048


class Timeline:
    def __init__(self, last_seq: int | None = 0) -> None:
        self._last = last_seq  # every message up to here was delivered (or was our own)
        self._ahead: dict[int, Entry] = {}
        self._own: set[int] = set()  # seqs of our acked sends: never pushed back to this connection
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    @property
    def last_seq(self) -> int | None:
        return self._last

    @property
    def has_gap(self) -> bool:
        return bool(self._ahead)

    def offer(self, message: Entry) -> list[Entry]:
        """Take a pushed or recovered message; returns the messages now deliverable, in order."""
        if self._last is None:
            self._last = message.seq - 1
        if message.message_id in self._seen or message.seq <= self._last or message.seq in self._ahead:
            self.duplicates += 1
            return []
        self._ahead[message.seq] = message
        return self._drain()

    def acked(self, seq: int, message_id: str) -> list[Entry]:
        """Our own send was stored as ``seq``: nothing to deliver for it, but it closes that gap."""
        self._remember(message_id)
        if self._last is None or seq > self._last:
            self._own.add(seq)
        return self._drain()

    def fast_forward(self, seq: int) -> list[Entry]:
        """Everything up to ``seq`` is known elsewhere (for example shown from history): start after it."""
        for held in [k for k in self._ahead if k <= seq]:
            self._remember(self._ahead.pop(held).message_id)
        self._last = seq if self._last is None else max(self._last, seq)
        return self._drain()

    def skip_missing(self, up_to: int) -> list[Entry]:
        """History is complete up to ``up_to``: a seq up to there that it did not return does not exist,
        so stop waiting for it and deliver what was held back behind it."""
        if self._last is None:
            return []
        ready = self._drain()
        while self._last < up_to:
            self._last += 1
            ready += self._drain()
        return ready

    def _drain(self) -> list[Entry]:
        ready: list[Entry] = []
        if self._last is None:
            return ready
        while True:
            nxt = self._last + 1
            if nxt in self._ahead:
                message = self._ahead.pop(nxt)
                self._remember(message.message_id)
                ready.append(message)
            elif nxt in self._own:
                self._own.discard(nxt)
            else:
                return ready
            self._last = nxt

    def _remember(self, message_id: str) -> None:
        self._seen[message_id] = None
        while len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
