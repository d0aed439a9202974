"""In-memory fakes of the core's ports: one set for every test tier, no patching needed."""

from __future__ import annotations

from typing import Any

from parley.errors import EndpointDisabledError, NotMemberError, StaleConnectionError
from parley.models import (
    BlockRelations,
    Connection,
    Conversation,
    ConversationHead,
    ConversationKind,
    Device,
    Membership,
    Message,
    MessagePage,
    NotifyMode,
    Profile,
    Report,
)
from parley.ports import (
    BlockStore,
    ConnectionGateway,
    ConnectionStore,
    ConversationStore,
    DeviceStore,
    EventPublisher,
    MessageStore,
    ModerationHook,
    ProfileStore,
    PushGateway,
    PushLedger,
    ReportStore,
    SeqTakenError,
    ThrottleStore,
)


class FakeConnectionStore(ConnectionStore):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[Connection, int]] = {}
        self.reads: list[list[str]] = []  # the users of each read, in order (one list per call)

    def claim(self, connection: Connection, expires_at: int, max_per_user: int, now_ms: int) -> bool:
        key = (connection.user_id, connection.connection_id)
        if key not in self.records and len(self._live(connection.user_id, now_ms)) >= max_per_user:
            return False
        self.records[key] = (connection, expires_at)
        return True

    def delete(self, user_id: str, connection_id: str) -> None:
        self.records.pop((user_id, connection_id), None)

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        self.reads.append([user_id])
        return self._live(user_id, now_ms)

    def list_for_users(self, user_ids: list[str], now_ms: int) -> dict[str, list[Connection]]:
        self.reads.append(list(user_ids))
        return {uid: self._live(uid, now_ms) for uid in user_ids}

    def _live(self, user_id: str, now_ms: int) -> list[Connection]:
        return [c for (uid, _), (c, exp) in self.records.items() if uid == user_id and exp > now_ms // 1000]


class FakeConversationStore(ConversationStore):
    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.pairs: dict[frozenset[str], str] = {}
        self.members: dict[tuple[str, str], Membership] = {}

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
        for user in conversation.members:
            self.members[(user, conversation.conversation_id)] = Membership(
                user_id=user, conversation_id=conversation.conversation_id, joined_at=conversation.created_at)
        return conversation

    def get_many(self, conversation_ids: list[str]) -> dict[str, Conversation]:
        return {cid: self.conversations[cid] for cid in conversation_ids if cid in self.conversations}

    def memberships(self, user_id: str) -> list[Membership]:
        return [m for (uid, _), m in sorted(self.members.items()) if uid == user_id]

    def membership(self, user_id: str, conversation_id: str) -> Membership | None:
        return self.members.get((user_id, conversation_id))

    def mark_read(self, user_id: str, conversation_id: str, seq: int) -> Membership:
        current = self.members.get((user_id, conversation_id))
        if current is None:
            raise NotMemberError()
        if seq > current.last_read_seq:
            current = current.model_copy(update={"last_read_seq": seq})
            self.members[(user_id, conversation_id)] = current
        return current

    def set_preferences(self, user_id: str, conversation_id: str, *, notify: NotifyMode | None,
                        muted_until: int | None, fields: set[str]) -> Membership:
        current = self.members.get((user_id, conversation_id))
        if current is None:
            raise NotMemberError()
        changes = {name: value for name, value in (("notify", notify), ("muted_until", muted_until))
                   if name in fields}
        current = current.model_copy(update=changes)
        self.members[(user_id, conversation_id)] = current
        return current


class FakeMessageStore(MessageStore):
    def __init__(self, conversations: FakeConversationStore) -> None:
        self._conversations = conversations
        self.messages: dict[str, dict[int, Message]] = {}
        self.steal_next_seqs = 0  # simulate concurrent writers taking the next N seqs

    def head(self, conversation_id: str, window: int) -> ConversationHead:
        stored = self.messages.get(conversation_id, {})
        recent = tuple(stored[s] for s in sorted(stored, reverse=True)[:window])
        return ConversationHead(conversation=self._conversations.get(conversation_id), recent=recent,
                                newest=stored[max(stored)] if stored else None)

    def head_after(self, conversation_id: str, last_seq: int, max_messages: int) -> ConversationHead:
        stored = self.messages.get(conversation_id, {})
        after = sorted((s for s in stored if s > last_seq), reverse=True)
        newest = stored[max(stored)] if stored else None
        if last_seq and last_seq not in stored:
            newest = None  # as the table answers: nothing at or after last_seq
        conversation = self._conversations.get(conversation_id)
        if len(after) > max_messages:
            return ConversationHead(conversation=conversation, newest=newest, complete=False)
        return ConversationHead(conversation=conversation, recent=tuple(stored[s] for s in after), newest=newest)

    def get(self, conversation_id: str, seq: int) -> Message | None:
        return self.messages.get(conversation_id, {}).get(seq)

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


    def latest(self, conversation_ids: list[str]) -> dict[str, Message | None]:
        found: dict[str, Message | None] = {}
        for cid in conversation_ids:
            stored = self.messages.get(cid, {})
            found[cid] = stored[max(stored)] if stored else None
        return found


class FakeProfileStore(ProfileStore):
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}

    def get(self, user_id: str) -> Profile:
        return self.profiles.get(user_id, Profile(user_id=user_id))

    def get_many(self, user_ids: list[str]) -> dict[str, Profile]:
        return {uid: self.get(uid) for uid in user_ids}

    def update(self, user_id: str, **changes: Any) -> Profile:
        profile = self.get(user_id).model_copy(update={k: v for k, v in changes.items() if v is not None})
        self.profiles[user_id] = profile
        return profile


    def mark_first_seen(self, user_id: str, now_ms: int) -> None:
        if self.get(user_id).first_seen is None:
            self.update(user_id, first_seen=now_ms)


class FakeThrottleStore(ThrottleStore):
    """The same admission rules as the DynamoDB store (a minimum interval; GCRA token buckets)."""

    def __init__(self) -> None:
        self.next_at: dict[tuple[str, str, str], int] = {}
        self.tat: dict[tuple[str, str], int] = {}
        self.writes = 0  # conditional writes to the shared bucket

    def take(self, kind: str, user_id: str, rate_per_second: float, burst: int, now_ms: int, count: int = 1) -> int:
        interval = max(1, round(1000 / rate_per_second))
        limit = now_ms + (burst - count) * interval
        tat = self.tat.get((kind, user_id), 0)
        self.writes += 1
        if tat <= now_ms:
            self.tat[(kind, user_id)] = now_ms + count * interval
            return 0
        if tat <= limit:
            self.tat[(kind, user_id)] = tat + count * interval
            return 0
        return tat - limit

    def acquire(self, kind: str, user_id: str, scope: str, interval_ms: int, now_ms: int) -> bool:
        if self.next_at.get((kind, user_id, scope), 0) > now_ms:
            return False
        self.next_at[(kind, user_id, scope)] = now_ms + interval_ms
        return True


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


class FakeBlockStore(BlockStore):
    def __init__(self) -> None:
        self.pairs: set[tuple[str, str]] = set()

    def block(self, blocker: str, blocked: str, now_ms: int) -> None:
        self.pairs.add((blocker, blocked))

    def unblock(self, blocker: str, blocked: str) -> None:
        self.pairs.discard((blocker, blocked))

    def blocked_by(self, user_id: str) -> set[str]:
        return {a for a, b in self.pairs if b == user_id}

    def blocks_of(self, user_id: str) -> set[str]:
        return {b for a, b in self.pairs if a == user_id}

    def has_blocked(self, blocker: str, blocked: str) -> bool:
        return (blocker, blocked) in self.pairs

    def relations(self, user_id: str) -> BlockRelations:
        return BlockRelations(blocks=frozenset(self.blocks_of(user_id)), blocked_by=frozenset(self.blocked_by(user_id)))


class FakeReportStore(ReportStore):
    def __init__(self) -> None:
        self.reports: dict[tuple[str, int, str], Report] = {}

    def add(self, report: Report) -> bool:
        k = (report.conversation_id, report.seq, report.reporter_id)
        if k in self.reports:
            return False
        self.reports[k] = report
        return True


class FakePublisher(EventPublisher):
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, object]]] = []

    def publish(self, event: dict[str, object], event_type: str) -> None:
        self.published.append((event_type, event))


class FakeModerationHook(ModerationHook):
    """Answers what it is told to; ``fail`` makes it raise (a timeout or a crash)."""

    def __init__(self, answer: dict[str, object] | None = None, fail: Exception | None = None) -> None:
        self.answer = answer or {"verdict": "allow"}
        self.fail = fail
        self.requests: list[dict[str, object]] = []

    def review(self, request: dict[str, object]) -> dict[str, object]:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        return self.answer


class FakeDeviceStore(DeviceStore):
    def __init__(self) -> None:
        self.devices: dict[tuple[str, str], Device] = {}

    def put(self, device: Device) -> str | None:
        previous = next((u for (u, h) in self.devices if h == device.token_hash and u != device.user_id), None)
        if previous:
            del self.devices[(previous, device.token_hash)]
        self.devices[(device.user_id, device.token_hash)] = device
        return previous

    def delete(self, user_id: str, token_hash: str) -> Device | None:
        return self.devices.pop((user_id, token_hash), None)

    def list_for_user(self, user_id: str) -> list[Device]:
        return [d for (u, _), d in self.devices.items() if u == user_id]


class FakePushGateway(PushGateway):
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, str]]] = []
        self.collapse_ids: list[str | None] = []
        self.disabled: set[str] = set()
        self.failing: set[str] = set()
        self.deleted: list[str] = []

    def ensure_endpoint(self, application_arn: str, token: str, user_id: str) -> str:
        return f"{application_arn.replace(':app/', ':endpoint/')}/{token[:8]}"

    def delete_endpoint(self, endpoint_arn: str) -> None:
        self.deleted.append(endpoint_arn)

    def publish(self, endpoint_arn: str, message: dict[str, str], collapse_id: str | None = None) -> None:
        if endpoint_arn in self.disabled:
            raise EndpointDisabledError(endpoint_arn)
        if endpoint_arn in self.failing:
            raise RuntimeError("SNS is down")
        self.published.append((endpoint_arn, message))
        self.collapse_ids.append(collapse_id)


class FakePushLedger(PushLedger):
    def __init__(self) -> None:
        self.done: dict[str, set[str]] = {}
        self.writes = 0

    def pushed(self, message_id: str) -> set[str]:
        return set(self.done.get(message_id, set()))

    def record(self, message_id: str, token_hashes: set[str], expires_at: int) -> None:
        if token_hashes:
            self.writes += 1
            self.done.setdefault(message_id, set()).update(token_hashes)
