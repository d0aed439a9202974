"""Conversations: direct (one per pair, found or created on first use) and groups."""

from __future__ import annotations

import secrets

from parley.clock import Clock, now_ms
from parley.errors import BlockedError, ConversationNotFoundError, InvalidMembersError, NotMemberError
from parley.events import Events
from parley.models import Conversation, ConversationKind, GroupRole, HistoryVisibility
from parley.ports import BlockStore, ConversationStore


def new_conversation_id(kind: ConversationKind) -> str:
    """``d_`` or ``g_`` and 96 random bits in 16 URL-safe characters: unguessable, and short, since every
    message frame carries it (ids made before were 22 characters after the prefix, and keep working)."""
    return ("d_" if kind is ConversationKind.DIRECT else "g_") + secrets.token_urlsafe(12)


class ConversationService:
    def __init__(self, store: ConversationStore, max_group_members: int, blocks: BlockStore | None = None,
                 clock: Clock = now_ms, events: Events | None = None, e2e_required: bool = False) -> None:
        self._store = store
        self._e2e_required = e2e_required  # PARLEY_E2E_REQUIRED: every new conversation is end-to-end encrypted
        self._events = events
        self._max_members = max_group_members
        self._blocks = blocks
        self._clock = clock

    def open_direct(self, me: str, peer: str, e2e: bool = False) -> Conversation:
        """The pair's one direct conversation, found or created; with ``e2e`` (or when the deployment requires
        it) their one end-to-end encrypted direct conversation, a different one."""
        if peer == me:
            raise InvalidMembersError("A direct conversation needs another user.")
        if self._blocks is not None and self._blocks.has_blocked(peer, me):
            raise BlockedError()
        e2e = e2e or self._e2e_required
        existing = self._store.find_direct(me, peer, e2e)
        if existing is not None:
            return existing
        return self._created(Conversation(
            conversation_id=new_conversation_id(ConversationKind.DIRECT), kind=ConversationKind.DIRECT,
            members=tuple(sorted((me, peer))), created_by=me, created_at=self._clock(), e2e=e2e))

    def create_group(self, me: str, members: list[str], name: str | None,
                     history: HistoryVisibility = HistoryVisibility.JOINED, e2e: bool = False) -> Conversation:
        everyone = [me, *dict.fromkeys(m for m in members if m != me)]
        if len(everyone) < 2:
            raise InvalidMembersError("A group needs at least one member besides you.")
        if len(everyone) > self._max_members:
            raise InvalidMembersError(f"A group has at most {self._max_members} members, you included.")
        self.ensure_not_blocked_by(me, everyone)
        return self._created(Conversation(
            conversation_id=new_conversation_id(ConversationKind.GROUP), kind=ConversationKind.GROUP,
            members=tuple(everyone), created_by=me, created_at=self._clock(), name=name,
            roles={me: GroupRole.OWNER}, history_visibility=history, e2e=e2e or self._e2e_required))

    def _created(self, conversation: Conversation) -> Conversation:
        """Store a new conversation; ``conversation.created`` unless the pair had one already (a race)."""
        stored = self._store.create(conversation)
        if self._events is not None and stored.conversation_id == conversation.conversation_id:
            self._events.conversation_created(stored)
        return stored

    def ensure_not_blocked_by(self, me: str, users: list[str]) -> None:
        """Nobody is put in a conversation with someone who blocked them. Which user it is stays unsaid."""
        if self._blocks is not None and self._blocks.blocked_by(me) & set(users):
            raise BlockedError("Someone you named does not accept conversations with you.")

    def require_member(self, conversation_id: str, me: str) -> Conversation:
        conversation = self._store.get(conversation_id)
        return ensure_member(conversation, me)


def ensure_member(conversation: Conversation | None, me: str) -> Conversation:
    if conversation is None:
        raise ConversationNotFoundError()
    if not conversation.has_member(me):
        raise NotMemberError()
    return conversation
