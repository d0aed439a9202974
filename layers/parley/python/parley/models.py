"""Domain models. They know nothing of API Gateway or DynamoDB."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ConversationKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class Conversation(BaseModel):
    model_config = ConfigDict(frozen=True)

    conversation_id: str
    kind: ConversationKind
    members: tuple[str, ...]
    created_by: str
    created_at: int  # epoch milliseconds, server clock
    name: str | None = None

    def has_member(self, user_id: str) -> bool:
        return user_id in self.members


class MessageBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    conversation_id: str
    seq: int = Field(ge=1)
    message_id: str
    sender_id: str
    sent_at: int  # epoch milliseconds, server clock
    client_msg_id: str
    body: MessageBody


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    connection_id: str
    user_id: str
    connected_at: int  # epoch milliseconds


class ConversationHead(BaseModel):
    """A conversation with its newest messages (newest first): all ``send`` needs, in one read."""

    model_config = ConfigDict(frozen=True)

    conversation: Conversation | None
    recent: tuple[Message, ...] = ()

    @property
    def last_seq(self) -> int:
        return self.recent[0].seq if self.recent else 0


class MessagePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]  # in sequence order
    has_more: bool


class ConversationPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    conversations: tuple[Conversation, ...]
    cursor: str | None = None
