"""Unit tier: the core against in-memory fakes. Sockets are off, so nothing here can reach AWS."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from parley.conversations import ConversationService
from parley.messaging import MessagingService
from tests.fakes import FakeConversationStore, FakeMessageStore


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("unit tests must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


class Clock:
    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conversation_store() -> FakeConversationStore:
    return FakeConversationStore()


@pytest.fixture
def message_store(conversation_store: FakeConversationStore) -> FakeMessageStore:
    return FakeMessageStore(conversation_store)


@pytest.fixture
def conversations(conversation_store: FakeConversationStore, clock: Clock) -> ConversationService:
    return ConversationService(conversation_store, max_group_members=5, clock=clock)


@pytest.fixture
def messaging(message_store: FakeMessageStore, conversations: ConversationService, clock: Clock) -> MessagingService:
    return MessagingService(message_store, conversations, max_text_bytes=16, idempotency_window=10, clock=clock)


class World:
    """Every service wired to in-memory fakes, as parley.wiring wires them to AWS."""

    def __init__(self, clock: Clock) -> None:
        from parley.badges import BadgeService
        from parley.connections import ConnectionService
        from parley.fanout import Fanout
        from parley.inbox import InboxService
        from parley.preferences import PreferencesService
        from parley.presence import PresenceService
        from parley.typing_indicators import TypingService
        from tests.fakes import FakeBlockStore, FakeConnectionStore, FakeGateway, FakeProfileStore, FakeThrottleStore

        self.clock = clock
        self.connection_store, self.gateway = FakeConnectionStore(), FakeGateway()
        self.conversation_store = FakeConversationStore()
        self.message_store = FakeMessageStore(self.conversation_store)
        self.profiles, self.throttles, self.blocks = FakeProfileStore(), FakeThrottleStore(), FakeBlockStore()
        self.fanout = Fanout(self.connection_store, self.gateway, workers=4, prune_grace_ms=0)
        self.conversations = ConversationService(self.conversation_store, max_group_members=10, blocks=self.blocks,
                                                 clock=clock)
        self.messaging = MessagingService(self.message_store, self.conversations, max_text_bytes=100,
                                          idempotency_window=10, blocks=self.blocks,
                                          read_positions=self.conversation_store, clock=clock)
        self.connections = ConnectionService(self.connection_store, ttl_seconds=7800, clock=clock)
        self.presence = PresenceService(self.profiles, self.conversation_store, self.connection_store, self.fanout,
                                        blocks=self.blocks, clock=clock)
        self.fanout.on_pruned = self.presence.disconnected
        self.inbox = InboxService(self.conversation_store, self.message_store, self.conversations, self.profiles,
                                  self.fanout, blocks=self.blocks, clock=clock)
        self.badges = BadgeService(self.inbox, self.profiles, clock)
        self.typing = TypingService(self.conversations, self.profiles, self.throttles, self.fanout, interval_ms=3000,
                                    blocks=self.blocks, clock=clock)
        self.preferences = PreferencesService(self.profiles, self.conversation_store, self.conversations,
                                              self.presence)

    def connect(self, user: str, connection_id: str) -> None:
        self.connections.connect(user, connection_id)
        self.presence.connected(user, connection_id)

    def disconnect(self, user: str, connection_id: str) -> None:
        """As ``$disconnect`` does: the last connection of a user sets their badge exactly."""
        self.connections.disconnect(user, connection_id)
        for profile in self.presence.disconnected([user]):
            self.badges.recompute(profile)

    def frames(self, connection_id: str, frame_type: str | None = None) -> list[dict[str, object]]:
        import json
        found = [json.loads(d) for d in self.gateway.received_by(connection_id)]
        return [f for f in found if frame_type is None or f["type"] == frame_type]


@pytest.fixture
def world(clock: Clock) -> World:
    return World(clock)
