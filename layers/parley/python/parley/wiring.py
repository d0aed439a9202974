"""Builds the services with their real adapters, once per Lambda instance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from parley.config import get_settings
from parley.connections import ConnectionService
from parley.conversations import ConversationService
from parley.delivery import ManagementApiGateway
from parley.fanout import Fanout
from parley.messaging import MessagingService
from parley.stores.connections import DynamoConnectionStore
from parley.stores.conversations import DynamoConversationStore
from parley.stores.messages import DynamoMessageStore


@dataclass(frozen=True)
class Services:
    connections: ConnectionService
    conversations: ConversationService
    messaging: MessagingService
    fanout: Fanout | None  # None where no callback URL is configured (routes that never deliver)


@lru_cache(maxsize=1)
def services() -> Services:
    settings = get_settings()
    connection_store = DynamoConnectionStore(settings.table_name)
    conversations = ConversationService(DynamoConversationStore(settings.table_name), settings.max_group_members)
    fanout = (Fanout(connection_store, ManagementApiGateway(settings.callback_url), settings.fanout_workers)
              if settings.callback_url else None)
    return Services(
        connections=ConnectionService(connection_store, settings.connection_ttl_seconds),
        conversations=conversations,
        messaging=MessagingService(DynamoMessageStore(settings.table_name), conversations,
                                   max_text_bytes=settings.max_text_bytes,
                                   idempotency_window=settings.idempotency_window),
        fanout=fanout,
    )
