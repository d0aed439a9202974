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
