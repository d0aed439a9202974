"""In-memory fakes of the core's ports: one set for every test tier, no patching needed."""

from __future__ import annotations

from parley.errors import StaleConnectionError
from parley.models import (
    Connection,
    Conversation,
    ConversationHead,
    ConversationKind,
    ConversationPage,
    Message,
    MessagePage,
)
from parley.ports import ConnectionGateway, ConnectionStore, ConversationStore, MessageStore, SeqTakenError


class FakeConnectionStore(ConnectionStore):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[Connection, int]] = {}

    def put(self, connection: Connection, expires_at: int) -> None:
        self.records[(connection.user_id, connection.connection_id)] = (connection, expires_at)

    def delete(self, user_id: str, connection_id: str) -> None:
        self.records.pop((user_id, connection_id), None)

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        return [c for (uid, _), (c, exp) in self.records.items() if uid == user_id and exp > now_ms // 1000]


class FakeConversationStore(ConversationStore):
    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.pairs: dict[frozenset[str], str] = {}

    def get(self, conversation_id: str) -> Conversation | None:
        return self.conversations.get(conversation_id)

    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        cid = self.pairs.get(frozenset((user_a, user_b)))
        return self.conversations.get(cid) if cid else None

    def create(self, conversation: Conversation) -> Conversation:
        if conversation.kind is ConversationKind.DIRECT:
            pair = frozenset(conversation.members)
            if pair in self.pairs:
                return self.conversations[self.pairs[pair]]
            self.pairs[pair] = conversation.conversation_id
        self.conversations[conversation.conversation_id] = conversation
        return conversation

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> ConversationPage:
        mine = sorted((c for c in self.conversations.values() if c.has_member(user_id)),
                      key=lambda c: c.conversation_id)
        start = int(cursor) if cursor else 0
        page = tuple(mine[start:start + limit])
        more = start + limit < len(mine)
        return ConversationPage(conversations=page, cursor=str(start + limit) if more else None)


class FakeMessageStore(MessageStore):
    def __init__(self, conversations: FakeConversationStore) -> None:
        self._conversations = conversations
        self.messages: dict[str, dict[int, Message]] = {}
        self.steal_next_seqs = 0  # simulate concurrent writers taking the next N seqs

    def head(self, conversation_id: str, window: int) -> ConversationHead:
        stored = self.messages.get(conversation_id, {})
        recent = tuple(stored[s] for s in sorted(stored, reverse=True)[:window])
        return ConversationHead(conversation=self._conversations.get(conversation_id), recent=recent)

    def append(self, message: Message) -> None:
        stored = self.messages.setdefault(message.conversation_id, {})
        if self.steal_next_seqs > 0:
            self.steal_next_seqs -= 1
            stored[message.seq] = message.model_copy(update={"sender_id": "someone-else",
                                                             "client_msg_id": "stolen"})
            raise SeqTakenError(message.seq)
        if message.seq in stored:
            raise SeqTakenError(message.seq)
        stored[message.seq] = message

    def page(self, conversation_id: str, *, before: int | None, after: int | None, limit: int) -> MessagePage:
        seqs = sorted(s for s in self.messages.get(conversation_id, {})
                      if (after is None or s > after) and (before is None or s < before))
        chosen = seqs[:limit] if after is not None else seqs[-limit:]
        has_more = len(seqs) > limit
        return MessagePage(messages=tuple(self.messages[conversation_id][s] for s in chosen), has_more=has_more)


class FakeGateway(ConnectionGateway):
    """Records every post; ids in ``stale`` answer like a 410 Gone, ids in ``broken`` fail otherwise."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        self.stale: set[str] = set()
        self.broken: set[str] = set()

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.stale:
            raise StaleConnectionError(connection_id)
        if connection_id in self.broken:
            raise RuntimeError("boom")
        self.posts.append((connection_id, data))

    def received_by(self, connection_id: str) -> list[bytes]:
        return [d for cid, d in self.posts if cid == connection_id]
