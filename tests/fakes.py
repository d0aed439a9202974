"""In-memory fakes of the core's ports: one set for every test tier, no patching needed."""

from __future__ import annotations

from typing import Any

from parley.errors import EndpointDisabledError, NotMemberError, StaleConnectionError, ThrottledError
from parley.models import (
    Ban,
    BanAction,
    BanEntry,
    BlockRelations,
    Connection,
    Conversation,
    ConversationHead,
    ConversationKind,
    Device,
    Membership,
    Message,
    MessageBody,
    MessagePage,
    NotifyMode,
    Profile,
    Recipient,
    Report,
    ReportStatus,
    Resolution,
    ReviewedReport,
    StoredObject,
    UploadRecord,
)
from parley.ports import (
    BanStore,
    BlockStore,
    ConnectionGateway,
    ConnectionStore,
    ConversationStore,
    DeviceStore,
    EventPublisher,
    GroupChangedError,
    GroupStore,
    MessageStore,
    ModerationHook,
    ObjectStore,
    ProfileStore,
    PushGateway,
    PushLedger,
    RecipientStore,
    ReportStore,
    SeqTakenError,
    ThrottleStore,
    UploadRecordStore,
)
from parley.read_state import Position, next_recent_senders, position_of


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

    def mark_read(self, user_id: str, conversation_id: str, seq: int, ordinal: int) -> tuple[Membership, Membership]:
        current = before = self.members.get((user_id, conversation_id))
        if current is None or before is None:
            raise NotMemberError()
        if seq > current.last_read_seq:
            current = current.model_copy(update={
                "last_read_seq": seq, "last_read_ordinal": ordinal,
                "mention_seqs": frozenset(s for s in current.mention_seqs if s > seq)})
            self.members[(user_id, conversation_id)] = current
        return current, before

    def add_mention(self, user_ids: list[str], conversation_id: str, seq: int) -> None:
        for user_id in user_ids:
            current = self.members.get((user_id, conversation_id))
            if current is not None:
                self.members[(user_id, conversation_id)] = current.model_copy(
                    update={"mention_seqs": current.mention_seqs | {seq}})

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
        # A busy conversation: after every read of its head, another member's message takes the next seq
        # before the reader's put arrives.
        self.busy = False
        self.thieves = ("someone-else",)  # who the stolen seqs are sent by, in turn
        # (sender, clientMsgId) of messages that each win the race against the next put
        self.rivals: list[tuple[str, str]] = []
        # What the next puts meet, one each: "throttle" (refused), "error" (a 5xx: not stored) or "lost" (stored
        # if the seq is free, but the answer never comes back)
        self.put_faults: list[str] = []
        self.head_reads = 0
        self.puts = 0

    def head(self, conversation_id: str, window: int) -> ConversationHead:
        self._read(conversation_id)
        stored = self.messages.get(conversation_id, {})
        recent = tuple(stored[s] for s in sorted(stored, reverse=True)[:window])
        return ConversationHead(conversation=self._conversations.get(conversation_id), recent=recent,
                                newest=stored[max(stored)] if stored else None)

    def head_after(self, conversation_id: str, last_seq: int, max_messages: int) -> ConversationHead:
        self._read(conversation_id)
        stored = self.messages.get(conversation_id, {})
        after = sorted((s for s in stored if s > last_seq), reverse=True)
        newest = stored[max(stored)] if stored else None
        if last_seq and last_seq not in stored:
            newest = None  # as the table answers: nothing at or after last_seq
        conversation = self._conversations.get(conversation_id)
        if len(after) > max_messages:
            return ConversationHead(conversation=conversation, newest=newest, complete=False)
        return ConversationHead(conversation=conversation, recent=tuple(stored[s] for s in after), newest=newest)

    def _read(self, conversation_id: str) -> None:
        self.head_reads += 1
        if self.busy and self._conversations.get(conversation_id) is not None:
            self.steal_next_seqs += 1

    def get(self, conversation_id: str, seq: int) -> Message | None:
        return self.messages.get(conversation_id, {}).get(seq)

    def get_many(self, conversation_id: str, seqs: list[int]) -> dict[int, Message]:
        stored = self.messages.get(conversation_id, {})
        return {s: stored[s] for s in seqs if s in stored}

    def append(self, message: Message) -> None:
        self.puts += 1
        stored = self.messages.setdefault(message.conversation_id, {})
        fault = self.put_faults.pop(0) if self.put_faults else None
        if fault == "throttle":
            raise ThrottledError()
        if fault == "error":
            raise ConnectionError("injected: the put failed")
        if self.rivals and message.seq not in stored:
            sender, client_msg_id = self.rivals.pop(0)
            self.steal(message.conversation_id, message.seq, sender, client_msg_id)
        elif self.steal_next_seqs > 0 and message.seq not in stored:
            self.steal_next_seqs -= 1
            self.steal(message.conversation_id, message.seq)
        if message.seq in stored:
            if fault == "lost":
                raise TimeoutError("injected: the answer was lost")
            raise SeqTakenError(stored[message.seq])
        stored[message.seq] = message
        if fault == "lost":
            raise TimeoutError("injected: the answer was lost")

    def steal(self, conversation_id: str, seq: int, sender: str | None = None,
              client_msg_id: str | None = None) -> Message:
        """Another send stores ``seq`` (as ``send`` would: its read state carried from the message before)."""
        stored = self.messages.setdefault(conversation_id, {})
        sender = sender or self.thieves[len(stored) % len(self.thieves)]
        at = Position(seq, position_of(stored.get(seq - 1)).ordinal + 1)
        senders, _evicted = next_recent_senders(stored.get(seq - 1), sender, at)
        stolen = stored[seq] = Message(conversation_id=conversation_id, seq=seq,
                                       sender_id=sender, sent_at=1_700_000_000_000 + seq,
                                       client_msg_id=client_msg_id or f"stolen-{seq}", body=MessageBody(text="x"),
                                       ordinal=at.ordinal, recent_senders=senders)
        return stolen

    def page(self, conversation_id: str, *, before: int | None, after: int | None, limit: int,
             floor: int = 1) -> MessagePage:
        seqs = sorted(s for s in self.messages.get(conversation_id, {})
                      if (after is None or s > after) and (before is None or s < before) and s >= floor)
        chosen = seqs[:limit] if after is not None else seqs[-limit:]
        has_more = len(seqs) > limit
        return MessagePage(messages=tuple(self.messages[conversation_id][s] for s in chosen), has_more=has_more)


    def latest(self, conversation_ids: list[str]) -> dict[str, Message | None]:
        found: dict[str, Message | None] = {}
        for cid in conversation_ids:
            stored = self.messages.get(cid, {})
            found[cid] = stored[max(stored)] if stored else None
        return found

    # -- changes to a message: the same conditions as the DynamoDB store's conditional updates ----------------

    def edit(self, conversation_id: str, seq: int, *, sender_id: str, text: str, edited_at: int,
             sent_since: int) -> Message | None:
        m = self.messages.get(conversation_id, {}).get(seq)
        if m is None or m.body is None or m.is_change or m.sender_id != sender_id or m.sent_at < sent_since \
                or m.body.text == text:
            return None
        m = m.model_copy(update={"body": m.body.model_copy(update={"text": text}), "edited_at": edited_at})
        self.messages[conversation_id][seq] = m
        return m

    def tombstone(self, conversation_id: str, seq: int, *, deleted_at: int, sender_id: str | None,
                  reactions: tuple[str, ...]) -> Message | None:
        m = self.messages.get(conversation_id, {}).get(seq)
        if m is None or m.body is None or m.is_change or (sender_id is not None and m.sender_id != sender_id):
            return None
        self.messages[conversation_id][seq] = m.model_copy(update={
            "body": None, "edited_at": None, "reply_to": None, "mentions": (), "reactions": {},
            "deleted_at": deleted_at})
        return m

    def react(self, conversation_id: str, seq: int, *, emoji: str, user_id: str,
              add: bool) -> tuple[bool, int, int] | None:
        m = self.messages.get(conversation_id, {}).get(seq)
        if m is None or m.body is None or m.is_change:
            return None
        others = sum(1 for e in m.reactions if e != emoji)
        users = set(m.reactions.get(emoji, ()))
        changed = (user_id not in users) if add else (user_id in users)
        users = users | {user_id} if add else users - {user_id}
        reactions = {e: u for e, u in m.reactions.items() if e != emoji}
        if users:
            reactions[emoji] = tuple(sorted(users))
        self.messages[conversation_id][seq] = m.model_copy(update={"reactions": reactions})
        return changed, len(users), others


class FakeGroupStore(GroupStore):
    """The transaction of ``DynamoGroupStore.apply`` on the fake conversation and message stores: all of it or
    none. ``faults``: what the next applies meet, one each: "throttle" (refused), "error" (a 5xx: nothing
    stored), "lost" (stored, but the answer never comes back), "race" (another change of the group gets there
    first: its version moves)."""

    def __init__(self, conversations: FakeConversationStore, messages: FakeMessageStore) -> None:
        self._conversations = conversations
        self._messages = messages
        self.faults: list[str] = []
        self.applies = 0

    def apply(self, before: Conversation, after: Conversation, entry: Message, joined: list[str],
              left: list[str]) -> None:
        self.applies += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault == "throttle":
            raise ThrottledError()
        if fault == "error":
            raise ConnectionError("injected: the transaction failed")
        cid = before.conversation_id
        current = self._conversations.conversations.get(cid)
        if fault == "race" and current is not None:
            current = self._conversations.conversations[cid] = current.model_copy(
                update={"version": current.version + 1})
        stored = self._messages.messages.setdefault(cid, {})
        if self._messages.steal_next_seqs > 0 and entry.seq not in stored:
            self._messages.steal_next_seqs -= 1
            self._messages.steal(cid, entry.seq)
        if entry.seq in stored:
            raise SeqTakenError(stored[entry.seq])
        if current is None or current.version != before.version:
            raise GroupChangedError()
        self._conversations.conversations[cid] = after
        stored[entry.seq] = entry
        for user in joined:
            self._conversations.members[(user, cid)] = Membership(
                user_id=user, conversation_id=cid, joined_at=entry.sent_at, last_read_seq=entry.seq,
                last_read_ordinal=entry.ordinal)
        for user in left:
            self._conversations.members.pop((user, cid), None)
        if fault == "lost":
            raise TimeoutError("injected: the answer was lost")


class FakeProfileStore(ProfileStore):
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self.badge_markers: dict[str, str] = {}  # the last message counted into each badge
        self.badge_writes = 0

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

    def count_unread(self, user_id: str, marker: str) -> int | None:
        self.badge_writes += 1
        if self.badge_markers.get(user_id) == marker:
            return None
        self.badge_markers[user_id] = marker
        return self.update(user_id, badge=self.get(user_id).badge + 1).badge

    def uncount_unread(self, user_id: str) -> None:
        self.badge_writes += 1
        self.update(user_id, badge=max(0, self.get(user_id).badge - 1))

    def set_badge(self, user_id: str, badge: int) -> None:
        self.badge_writes += 1
        self.update(user_id, badge=badge)


class FakeRecipientStore(RecipientStore):
    def __init__(self, profiles: FakeProfileStore, conversations: FakeConversationStore) -> None:
        self._profiles = profiles
        self._conversations = conversations

    def get_many(self, user_ids: list[str], conversation_id: str) -> dict[str, Recipient]:
        return {u: Recipient(profile=self._profiles.get(u),
                             membership=self._conversations.membership(u, conversation_id)) for u in user_ids}


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
        self.closed: list[str] = []

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.stale:
            raise StaleConnectionError(connection_id)
        if connection_id in self.broken:
            raise RuntimeError("boom")
        self.posts.append((connection_id, data))

    def close(self, connection_id: str) -> None:
        if connection_id in self.stale or connection_id in self.closed:
            raise StaleConnectionError(connection_id)
        if connection_id in self.broken:
            raise RuntimeError("boom")
        self.closed.append(connection_id)

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
        self.stored: dict[tuple[str, int, str], ReviewedReport] = {}

    @property
    def reports(self) -> dict[tuple[str, int, str], Report]:
        return {k: r.report for k, r in self.stored.items()}

    def add(self, report: Report) -> bool:
        k = (report.conversation_id, report.seq, report.reporter_id)
        if k in self.stored:
            return False
        self.stored[k] = ReviewedReport(report=report, status=ReportStatus.OPEN)
        return True

    def get(self, conversation_id: str, seq: int, reporter_id: str) -> ReviewedReport | None:
        return self.stored.get((conversation_id, seq, reporter_id))

    def of_message(self, conversation_id: str, seq: int) -> list[ReviewedReport]:
        return [r for (c, s, _), r in sorted(self.stored.items()) if (c, s) == (conversation_id, seq)]

    def page(self, status: ReportStatus, limit: int, cursor: str | None) -> tuple[list[ReviewedReport], str | None]:
        def when(r: ReviewedReport) -> int:
            return r.resolved_at if r.resolved_at is not None else r.report.reported_at

        found = sorted((r for r in self.stored.values() if r.status is status), key=when, reverse=True)
        start = int(cursor or 0)
        end = start + limit
        return found[start:end], str(end) if end < len(found) else None

    def involving(self, user_id: str, role: str, limit: int) -> tuple[int, list[Report]]:
        mine = sorted((r.report for r in self.stored.values()
                       if (r.report.reported_user_id if role == "reported" else r.report.reporter_id) == user_id),
                      key=lambda r: r.reported_at, reverse=True)
        return len(mine), mine[:limit]

    def of_conversation(self, conversation_id: str, limit: int) -> list[ReviewedReport]:
        return [r for (c, _, _), r in sorted(self.stored.items(), reverse=True) if c == conversation_id][:limit]

    def resolve(self, report: Report, resolution: Resolution, by: str, at: int, note: str | None) -> bool:
        k = (report.conversation_id, report.seq, report.reporter_id)
        current = self.stored.get(k)
        if current is None or current.status is ReportStatus.RESOLVED:
            return False
        self.stored[k] = ReviewedReport(report=report, status=ReportStatus.RESOLVED, resolution=resolution,
                                        resolved_by=by, resolved_at=at, note=note)
        return True


class FakeBanStore(BanStore):
    def __init__(self) -> None:
        self.bans: dict[str, Ban] = {}
        self.entries: list[BanEntry] = []

    def ban(self, ban: Ban) -> None:
        self.bans[ban.user_id] = ban
        self.entries.append(BanEntry(user_id=ban.user_id, action=BanAction.BANNED, at=ban.banned_at, by=ban.by,
                                     until=ban.until, reason=ban.reason))

    def unban(self, user_id: str, entry: BanEntry) -> bool:
        if self.bans.pop(user_id, None) is None:
            return False
        self.entries.append(entry)
        return True

    def record(self, entry: BanEntry) -> None:
        self.entries.append(entry)

    def get(self, user_id: str, *, consistent: bool = True) -> Ban | None:
        return self.bans.get(user_id)

    def page(self, limit: int, cursor: str | None) -> tuple[list[Ban], str | None]:
        found = sorted(self.bans.values(), key=lambda b: b.banned_at, reverse=True)
        start = int(cursor or 0)
        return found[start:start + limit], str(start + limit) if start + limit < len(found) else None

    def history(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[BanEntry], str | None]:
        found = sorted((e for e in self.entries if e.user_id == user_id), key=lambda e: e.at, reverse=True)
        start = int(cursor or 0)
        return found[start:start + limit], str(start + limit) if start + limit < len(found) else None


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
    """Devices on the fake profiles, as the DynamoDB store keeps them on the profile items."""

    def __init__(self, profiles: FakeProfileStore) -> None:
        self._profiles = profiles

    def put(self, device: Device, max_devices: int) -> list[Device]:
        for owner in list(self._profiles.profiles):
            if owner != device.user_id:
                self._set(owner, [d for d in self.list_for_user(owner) if d.token_hash != device.token_hash])
        others = [d for d in self.list_for_user(device.user_id) if d.token_hash != device.token_hash]
        dropped = others[:max(0, len(others) + 1 - max_devices)]
        self._set(device.user_id, [*others[len(dropped):], device])
        return dropped

    def delete(self, user_id: str, token_hash: str) -> Device | None:
        devices = self.list_for_user(user_id)
        found = next((d for d in devices if d.token_hash == token_hash), None)
        if found is not None:
            self._set(user_id, [d for d in devices if d is not found])
        return found

    def list_for_user(self, user_id: str) -> list[Device]:
        return list(self._profiles.get(user_id).devices)

    def _set(self, user_id: str, devices: list[Device]) -> None:
        self._profiles.profiles[user_id] = self._profiles.get(user_id).model_copy(update={"devices": tuple(devices)})


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


class FakeObjectStore(ObjectStore):
    """The uploads bucket in memory: ``objects`` by key; keys in ``undeletable`` fail to delete."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.undeletable: set[str] = set()

    def presign_post(self, key: str, content_type: str, max_bytes: int, ttl_seconds: int,
                     tags: dict[str, str]) -> tuple[str, dict[str, str]]:
        return f"https://uploads.example/{key}", {"key": key}

    def head(self, key: str) -> StoredObject | None:
        found = self.objects.get(key)
        return StoredObject(key=key, size=len(found[0]), content_type=found[1]) if found else None

    def presign_get(self, key: str, ttl_seconds: int) -> str:
        return f"https://uploads.example/{key}?get"

    def read(self, key: str) -> tuple[bytes, str]:
        data, content_type, _ = self.objects[key]
        return data, content_type

    def write(self, key: str, data: bytes, content_type: str, tags: dict[str, str]) -> None:
        self.objects[key] = (data, content_type, dict(tags))

    def set_tags(self, key: str, tags: dict[str, str]) -> None:
        if key in self.objects:
            data, content_type, _ = self.objects[key]
            self.objects[key] = (data, content_type, dict(tags))

    def delete(self, keys: list[str]) -> None:
        if self.undeletable & set(keys):
            raise RuntimeError("injected: S3 kept an object")
        for key in keys:
            self.objects.pop(key, None)

    def list_keys(self, prefix: str, limit: int) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))[:limit]


class FakeUploadRecordStore(UploadRecordStore):
    def __init__(self) -> None:
        self.records: dict[str, UploadRecord] = {}

    def update(self, object_key: str, **fields: object) -> UploadRecord:
        record = self.records.get(object_key, UploadRecord(key=object_key))
        record = record.model_copy(update={k: v for k, v in fields.items() if v is not None})
        self.records[object_key] = record
        return record

    def get_many(self, object_keys: list[str]) -> dict[str, UploadRecord]:
        return {k: self.records[k] for k in object_keys if k in self.records}
