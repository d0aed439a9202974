"""Where each member has read up to, without a write per message.

A conversation's stream holds messages and change entries (edits, deletes, reactions, membership changes),
each at its own seq. Only messages from others are ever unread, so every entry carries its *ordinal*: how
many messages the stream holds up to and including it (``Message.count``). An unread count is the newest
entry's ordinal minus the ordinal at the member's read position: no counter is written per message.

A member's own messages are never unread for them: sending a message counts as having read the
conversation up to it (as in the chat apps users compare Parley with). Writing the sender's read
position on every send would cost a write per message, so instead every entry carries the newest own
message, as (seq, ordinal), of the conversation's most recent senders (``Message.recent_senders``), copied
forward from the entry before it. A member's read position is the later of their last ``read`` and their own
newest message. A sender pushed out of that short list by newer senders has their position written to
their membership first (a rare write, only in groups with many active senders), so the position never goes
back.
"""

from __future__ import annotations

from typing import NamedTuple

from parley.models import Membership, Message

# Senders remembered in each entry. Direct conversations never evict anyone; groups with more active
# senders than this write an evicted sender's read position once.
RECENT_SENDERS = 8


class Position(NamedTuple):
    """A place in a conversation's stream: an entry's seq and its ordinal (messages up to it)."""

    seq: int
    ordinal: int


START = Position(0, 0)


def position_of(entry: Message | None) -> Position:
    return Position(entry.seq, entry.count) if entry is not None else START


def next_recent_senders(newest: Message | None, sender: str | None, at: Position,
                        limit: int = RECENT_SENDERS) -> tuple[dict[str, tuple[int, int]], dict[str, Position]]:
    """The map for a new entry at ``at`` after ``newest``: with ``sender``, a message of theirs; None, a change
    entry (it carries the map forward unchanged). Also the senders it evicts with their position (write those
    to their read positions before storing the entry)."""
    carried = own_positions(newest)
    if sender is None:
        return {u: (p.seq, p.ordinal) for u, p in carried.items()}, {}
    carried.pop(sender, None)
    ordered = sorted(carried.items(), key=lambda item: item[1].seq, reverse=True)  # most recent first
    kept, evicted = ordered[:limit - 1], ordered[limit - 1:]
    return {sender: (at.seq, at.ordinal), **{u: (p.seq, p.ordinal) for u, p in kept}}, dict(evicted)


def own_positions(newest: Message | None) -> dict[str, Position]:
    """Each recent sender's newest own message as of ``newest`` (its own sender among them if a message)."""
    if newest is None:
        return {}
    found = {u: Position(*p) for u, p in newest.recent_senders.items()}
    if not newest.is_change:
        mine = found.get(newest.sender_id)
        if mine is None or mine.seq < newest.seq:
            found[newest.sender_id] = position_of(newest)
    return found


def membership_position(membership: Membership) -> Position:
    return Position(membership.last_read_seq, membership.read_ordinal)


def read_position(membership: Membership, newest: Message | None) -> Position:
    """Where the member has read up to: their last ``read``, or their own newest message if later."""
    own = own_positions(newest).get(membership.user_id, START)
    last_read = membership_position(membership)
    return own if own.seq > last_read.seq else last_read


def unread_between(read: Position, newest: Message | None) -> int:
    """Messages after ``read`` up to ``newest`` (change entries are never unread)."""
    return max(0, position_of(newest).ordinal - read.ordinal)
