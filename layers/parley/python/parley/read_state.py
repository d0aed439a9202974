"""Where each member has read up to, without a write per message.

A member's own messages are never unread for them: sending a message counts as having read the
conversation up to it (as in the chat apps users compare Parley with). Writing the sender's read
position on every send would cost a write per message, so instead every message carries the newest own
seq of the conversation's most recent senders (``Message.recent_senders``), copied forward from the
message before it. A member's read position is the larger of their last ``read`` and their own newest
message. A sender pushed out of that short list by newer senders has their position written to their
membership first (a rare write, only in groups with many active senders), so the position never goes
back.
"""

from __future__ import annotations

from parley.models import Message

# Senders remembered in each message. Direct conversations never evict anyone; groups with more active
# senders than this write an evicted sender's read position once.
RECENT_SENDERS = 8


def next_recent_senders(newest: Message | None, sender: str, seq: int,
                        limit: int = RECENT_SENDERS) -> tuple[dict[str, int], dict[str, int]]:
    """The map for a new message ``seq`` from ``sender`` after ``newest``, and the senders it evicts with
    the seq each had (write those to their read positions before storing the message)."""
    carried = own_seqs(newest)
    carried.pop(sender, None)
    ordered = sorted(carried.items(), key=lambda item: item[1], reverse=True)  # most recent first
    kept, evicted = ordered[:limit - 1], ordered[limit - 1:]
    return {sender: seq, **dict(kept)}, dict(evicted)


def own_seqs(newest: Message | None) -> dict[str, int]:
    """Each recent sender's newest own seq as of ``newest`` (its own sender always among them)."""
    if newest is None:
        return {}
    seqs = dict(newest.recent_senders)
    seqs[newest.sender_id] = max(seqs.get(newest.sender_id, 0), newest.seq)
    return seqs


def read_position(last_read_seq: int, newest: Message | None, user_id: str) -> int:
    """The seq up to which ``user_id`` has read: their last ``read``, or their own newest message if later."""
    return max(last_read_seq, own_seqs(newest).get(user_id, 0))
