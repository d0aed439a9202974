"""A member's inbox: the conversation list with unread counts and last messages, the badge total, and
``read``. An unread count is derived (the conversation's last seq minus the member's last-read seq), so
sending to a group of 100 writes no counters at all."""

from __future__ import annotations

import base64
import binascii
import json

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.errors import InvalidFrameError, InvalidSeqError
from parley.fanout import Fanout
from parley.models import ConversationPage, ConversationSummary
from parley.ports import ConversationStore, MessageStore, ProfileStore
from parley.protocol import ReceiptFrame, UnreadFrame


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
                 profiles: ProfileStore, fanout: Fanout | None, clock: Clock = now_ms) -> None:
        self._store = store
        self._messages = messages
        self._conversations = conversations
        self._profiles = profiles
        self._fanout = fanout
        self._clock = clock

    def summaries(self, me: str) -> list[ConversationSummary]:
        memberships = {m.conversation_id: m for m in self._store.memberships(me)}
        conversations = self._store.get_many(list(memberships))
        latest = self._messages.latest(list(conversations))
        found = [ConversationSummary(conversation=c, membership=memberships[cid], last_message=latest.get(cid))
                 for cid, c in conversations.items()]
        return sorted(found, key=_sort_key)

    def page(self, me: str, limit: int, cursor: str | None) -> ConversationPage:
        ordered = self.summaries(me)
        if cursor:
            after = _decode_cursor(cursor)
            ordered = [s for s in ordered if _sort_key(s) > after]
        chosen = ordered[:limit]
        more = len(ordered) > limit
        return ConversationPage(conversations=tuple(chosen), cursor=_encode_cursor(chosen[-1]) if more else None)

    def unread_counts(self, me: str) -> tuple[list[ConversationSummary], int]:
        unread = [s for s in self.summaries(me) if s.unread > 0]
        return unread, sum(s.unread for s in unread)

    def read(self, me: str, connection_id: str, conversation_id: str, seq: int) -> ConversationSummary:
        conversation = self._conversations.require_member(conversation_id, me)
        last = self._messages.latest([conversation_id]).get(conversation_id)
        if seq > (last.seq if last else 0):
            raise InvalidSeqError()
        membership = self._store.mark_read(me, conversation_id, seq)
        summary = ConversationSummary(conversation=conversation, membership=membership, last_message=last)
        if self._fanout is not None:
            now = self._clock()
            update = UnreadFrame(conversation_id=conversation_id, unread=summary.unread,
                                 last_read_seq=membership.last_read_seq)
            self._fanout.deliver([me], update.to_json().encode(), now, exclude_connection=connection_id)
            profile = self._profiles.get(me)
            if membership.last_read_seq == seq and not profile.hide_read_receipts:
                receipt = ReceiptFrame(conversation_id=conversation_id, user_id=me, seq=seq)
                others = [u for u in conversation.members if u != me]
                self._fanout.deliver(others, receipt.to_json().encode(), now)
        return summary
