"""A member's inbox: the conversation list with unread counts and last messages, the unread total, and
``read``.

An unread count is derived: the conversation's newest seq minus the member's read position (their last
``read``, or their own newest message if later: ``parley.read_state``), so sending to a group of 100
writes no counters and one's own messages are never unread. In groups, messages of users the member
blocked are hidden from them: they count as neither unread nor last message.
"""

from __future__ import annotations

import base64
import binascii
import json

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.errors import InvalidFrameError, InvalidSeqError
from parley.fanout import Fanout
from parley.messaging import hidden_senders
from parley.models import (
    Conversation,
    ConversationKind,
    ConversationPage,
    ConversationSummary,
    Membership,
    Message,
    Profile,
    Visibility,
)
from parley.observability import logger
from parley.ports import BlockStore, ConversationStore, MessageStore, ProfileStore
from parley.protocol.unread import ReceiptFrame, UnreadFrame
from parley.read_state import Position, position_of, read_position, unread_between

# How many of a conversation's newest messages are read to count around hidden ones; unread messages
# beyond that many count as visible.
HIDDEN_SCAN_MAX = 500
_SCAN_PAGE = 100


def known_blocks(profile: Profile) -> frozenset[str] | None:
    """Nobody, when the profile says its user blocked no one; else None (read the blocks)."""
    return frozenset() if profile.blocks_count == 0 else None


def _sort_key(s: ConversationSummary) -> tuple[int, str]:
    return (-s.last_activity, s.conversation.conversation_id)


def _encode_cursor(s: ConversationSummary) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(_sort_key(s))).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidFrameError("cursor: not one this server issued") from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
            and not isinstance(value[0], bool) and isinstance(value[1], str)):
        raise InvalidFrameError("cursor: not one this server issued")
    return value[0], value[1]


class InboxService:
    def __init__(self, store: ConversationStore, messages: MessageStore, conversations: ConversationService,
                 profiles: ProfileStore, fanout: Fanout | None, blocks: BlockStore | None = None,
                 clock: Clock = now_ms) -> None:
        self._store = store
        self._messages = messages
        self._conversations = conversations
        self._profiles = profiles
        self._fanout = fanout
        self._blocks = blocks
        self._clock = clock

    def summaries(self, me: str, blocked: frozenset[str] | None = None) -> list[ConversationSummary]:
        """Every conversation of ``me``. ``blocked``: the users ``me`` blocked, when the caller knows them
        (None: read them)."""
        memberships = {m.conversation_id: m for m in self._store.memberships(me)}
        conversations = self._store.get_many(list(memberships))
        latest = self._messages.latest(list(conversations))
        if blocked is None:
            blocked = frozenset(self._blocks.blocks_of(me)) if self._blocks else frozenset()
        found = [self.summary(c, memberships[cid], latest.get(cid), blocked) for cid, c in conversations.items()]
        return sorted(found, key=_sort_key)

    def summary(self, conversation: Conversation, membership: Membership, newest: Message | None,
                blocked: frozenset[str]) -> ConversationSummary:
        read = read_position(membership, newest)
        last_seq = newest.seq if newest else 0
        hidden = hidden_senders(conversation, blocked)
        last_visible, unread = newest, unread_between(read, newest)
        if newest is not None and (newest.is_change or (hidden and (newest.sender_id in hidden or unread))):
            last_visible, unread = self._around_hidden(conversation.conversation_id, read, position_of(newest), hidden,
                                                       floor=conversation.first_visible_seq(membership.user_id))
        return ConversationSummary(conversation=conversation, membership=membership, last_message=last_visible,
                                   last_seq=last_seq, unread=unread, read_seq=read.seq,
                                   mentions=membership.unread_mentions(read.seq))

    def _around_hidden(self, conversation_id: str, read: Position, upto: Position,
                       hidden: frozenset[str], floor: int = 1) -> tuple[Message | None, int]:
        """The newest message the member may see and the visible unread count, reading back from the newest
        entry past change entries and the messages of users the member blocked, never below ``floor`` (a member
        added to a group that keeps history from joining sees nothing before the entry that added them)."""
        newest_visible: Message | None = None
        hidden_unread = scanned = 0
        before = upto.seq + 1
        while scanned < HIDDEN_SCAN_MAX and (newest_visible is None or (hidden and before > read.seq + 1)):
            page = self._messages.page(conversation_id, before=before, after=None, limit=_SCAN_PAGE, floor=floor)
            for message in reversed(page.messages):
                if message.is_change:
                    continue
                if message.sender_id in hidden:
                    hidden_unread += message.seq > read.seq
                elif newest_visible is None:
                    newest_visible = message
            scanned += len(page.messages)
            if not page.has_more or not page.messages:
                break
            before = page.messages[0].seq
        return newest_visible, max(0, upto.ordinal - read.ordinal - hidden_unread)

    def unread_per_conversation(self, me: str, blocked: frozenset[str] | None = None) -> list[tuple[Membership, int]]:
        """Each membership of ``me`` with its unread count, as ``summaries`` counts it, for less: the
        memberships and each conversation's newest message, and the conversations themselves only if ``me``
        blocked someone (their kind says whether those users' messages are hidden)."""
        memberships = self._store.memberships(me)
        ids = [m.conversation_id for m in memberships]
        latest = self._messages.latest(ids)
        if blocked is None:
            blocked = frozenset(self._blocks.blocks_of(me)) if self._blocks else frozenset()
        conversations = self._store.get_many(ids) if blocked else {}
        counted = []
        for membership in memberships:
            newest = latest.get(membership.conversation_id)
            read = read_position(membership, newest)
            unread = unread_between(read, newest)
            conversation = conversations.get(membership.conversation_id)
            hidden = hidden_senders(conversation, blocked) if conversation else frozenset()
            if unread and hidden and newest is not None:
                unread = self._around_hidden(membership.conversation_id, read, position_of(newest), hidden)[1]
            counted.append((membership, unread))
        return counted

    def unread_up_to(self, membership: Membership, profile: Profile, kind: ConversationKind, at: Position,
                     newest: Message | None) -> int:
        """How many messages of others up to ``at`` (a message's position) the member has not read: 0 if they
        read it, or replied since (``newest``: the conversation's newest entry, which carries their own newest
        message). O(1): in groups, a member who blocked anyone (``profile.blocks_count``) reads back from ``at``
        past the blocked users' messages, up to ``HIDDEN_SCAN_MAX`` (work that grows with this conversation's unread
        messages, never with the member's number of conversations)."""
        me = membership.user_id
        read = read_position(membership, newest)
        unread = max(0, at.ordinal - read.ordinal) if at.seq > read.seq else 0
        # With one unread message, it is the message at seq, whose sender no recipient blocked (send skips them).
        if unread > 1 and kind is ConversationKind.GROUP and profile.blocks_count != 0 and self._blocks:
            hidden = frozenset(self._blocks.blocks_of(me))
            if hidden:
                unread = self._around_hidden(membership.conversation_id, read, at, hidden)[1]
        return unread

    def page(self, me: str, limit: int, cursor: str | None) -> ConversationPage:
        ordered = self.summaries(me)
        if cursor:
            after = _decode_cursor(cursor)
            ordered = [s for s in ordered if _sort_key(s) > after]
        chosen = ordered[:limit]
        more = len(ordered) > limit
        return ConversationPage(conversations=tuple(chosen), cursor=_encode_cursor(chosen[-1]) if more else None)

    def unread_counts(self, me: str, blocked: frozenset[str] | None = None) -> tuple[list[ConversationSummary], int]:
        unread = [s for s in self.summaries(me, blocked) if s.unread > 0]
        return unread, sum(s.unread for s in unread)

    def read(self, me: str, connection_id: str, conversation_id: str, seq: int) -> ConversationSummary:
        conversation = self._conversations.require_member(conversation_id, me)
        newest = self._messages.latest([conversation_id]).get(conversation_id)
        if seq > (newest.seq if newest else 0):
            raise InvalidSeqError()
        at = self._position(conversation_id, seq, newest)
        membership, before = self._store.mark_read(me, conversation_id, at.seq, at.ordinal)
        relations = self._blocks.relations(me) if self._blocks else None
        blocked = relations.blocks if relations else frozenset()
        summary = self.summary(conversation, membership, newest, blocked)
        profile = self._profiles.get(me)
        now = self._clock()
        if summary.unread == 0 and before.last_read_seq < membership.last_read_seq and profile.badge > 0 \
                and not membership.silenced(now) and self.summary(conversation, before, newest, blocked).unread:
            self._uncount(me)  # this read made the conversation read: one fewer in the badge
        if self._fanout is not None:
            update = UnreadFrame(conversation_id=conversation_id, unread=summary.unread,
                                 last_read_seq=summary.read_seq, mentions=summary.mentions or None)
            self._fanout.deliver([me], update.to_json().encode(), now, exclude_connection=connection_id)
            # Receipts tell others you are around: none while invisible, none with hidden receipts, and none
            # between you and anyone with a block between you (either way).
            if membership.last_read_seq == seq and not profile.hide_read_receipts \
                    and profile.visibility is Visibility.VISIBLE:
                receipt = ReceiptFrame(conversation_id=conversation_id, user_id=me, seq=seq)
                either = relations.either if relations else frozenset()
                others = [u for u in conversation.members if u != me and u not in either]
                self._fanout.deliver(others, receipt.to_json().encode(), now)
        return summary

    def _position(self, conversation_id: str, seq: int, newest: Message | None) -> Position:
        """The position of the entry at ``seq``: read only when it is not the newest (the usual ``read``)."""
        if newest is not None and newest.seq == seq:
            return position_of(newest)
        entry = self._messages.get(conversation_id, seq)
        if entry is None:
            raise InvalidSeqError()
        return position_of(entry)

    def _uncount(self, me: str) -> None:
        try:
            self._profiles.uncount_unread(me)
        except Exception:  # the read happened; the badge is set exactly again at the user's last disconnect
            logger.exception("taking a conversation off the badge failed")
