"""Builds the services with their real adapters, once per Lambda instance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from parley.config import get_settings
from parley.connections import ConnectionService
from parley.conversations import ConversationService
from parley.delivery import ManagementApiGateway
from parley.fanout import Fanout
from parley.inbox import InboxService
from parley.messaging import MessagingService
from parley.preferences import PreferencesService
from parley.presence import PresenceService
from parley.stores.connections import DynamoConnectionStore
from parley.stores.conversations import DynamoConversationStore
from parley.stores.messages import DynamoMessageStore
from parley.stores.profiles import DynamoProfileStore
from parley.stores.throttles import DynamoThrottleStore
from parley.typing_indicators import TypingService


@dataclass(frozen=True)
class Services:
    connections: ConnectionService
    conversations: ConversationService
    messaging: MessagingService
    presence: PresenceService
    inbox: InboxService
    typing: TypingService
    preferences: PreferencesService
    fanout: Fanout | None  # None where no callback URL is configured (nothing can be delivered)


@lru_cache(maxsize=1)
def services() -> Services:
    settings = get_settings()
    name = settings.table_name
    connection_store, conversation_store = DynamoConnectionStore(name), DynamoConversationStore(name)
    message_store, profiles = DynamoMessageStore(name, settings.fanout_workers), DynamoProfileStore(name)
    fanout = (Fanout(connection_store, ManagementApiGateway(settings.callback_url), settings.fanout_workers)
              if settings.callback_url else None)
    conversations = ConversationService(conversation_store, settings.max_group_members)
    presence = PresenceService(profiles, conversation_store, connection_store, fanout)
    if fanout is not None:
        fanout.on_pruned = presence.disconnected
    return Services(
        connections=ConnectionService(connection_store, settings.connection_ttl_seconds),
        conversations=conversations,
        messaging=MessagingService(message_store, conversations, max_text_bytes=settings.max_text_bytes,
                                   idempotency_window=settings.idempotency_window),
        presence=presence,
        inbox=InboxService(conversation_store, message_store, conversations, profiles, fanout),
        typing=TypingService(conversations, profiles, DynamoThrottleStore(name), fanout,
                             settings.typing_interval_ms),
        preferences=PreferencesService(profiles, conversation_store, conversations, presence),
        fanout=fanout,
    )
