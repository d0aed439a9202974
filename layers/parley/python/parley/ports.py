"""The core's ports: what services need from storage and delivery. DynamoDB and API Gateway adapters
live in ``parley.stores`` and ``parley.delivery``; tests use the in-memory fakes in ``tests/fakes.py``."""

from __future__ import annotations

from abc import ABC, abstractmethod

from parley.models import Connection, Conversation, ConversationHead, ConversationPage, Message, MessagePage


class ConnectionStore(ABC):
    @abstractmethod
    def put(self, connection: Connection, expires_at: int) -> None: ...

    @abstractmethod
    def delete(self, user_id: str, connection_id: str) -> None: ...

    @abstractmethod
    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        """Open connections of one user (expired records excluded)."""


class ConversationStore(ABC):
    @abstractmethod
    def get(self, conversation_id: str) -> Conversation | None: ...

    @abstractmethod
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None: ...

    @abstractmethod
    def create(self, conversation: Conversation) -> Conversation:
        """Store a new conversation and its memberships. For a direct conversation, if the pair already
        has one, store nothing and return the existing one."""

    @abstractmethod
    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> ConversationPage: ...


class MessageStore(ABC):
    @abstractmethod
    def head(self, conversation_id: str, window: int) -> ConversationHead:
        """The conversation and its newest ``window`` messages, newest first, in one strongly consistent read."""

    @abstractmethod
    def append(self, message: Message) -> None:
        """Store ``message`` under its seq. Raises ``SeqTakenError`` if that seq already exists."""

    @abstractmethod
    def page(self, conversation_id: str, *, before: int | None, after: int | None, limit: int) -> MessagePage: ...


class ConnectionGateway(ABC):
    """The @connections management API."""

    @abstractmethod
    def post(self, connection_id: str, data: bytes) -> None:
        """Deliver ``data``. Raises ``StaleConnectionError`` when the connection is gone (410)."""


class SeqTakenError(Exception):
    """Another writer stored this sequence number first."""
