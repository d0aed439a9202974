"""Parley's Python client: ``ParleyClient`` keeps one WebSocket connection to Parley, with reconnects,
catch-up, in-order duplicate-free delivery, acknowledged sends and keepalive."""

from parley_client.backoff import Backoff
from parley_client.client import ClientStats, ParleyClient
from parley_client.errors import ClientClosed, ClientError, ConnectionLost, HandshakeRejected, ServerError
from parley_client.frames import Ack, Conversation, ConversationsPage, Frame, HistoryPage, Incoming, Message
from parley_client.timeline import Timeline

__all__ = [
    "Ack",
    "Backoff",
    "ClientClosed",
    "ClientError",
    "ClientStats",
    "ConnectionLost",
    "Conversation",
    "ConversationsPage",
    "Frame",
    "HandshakeRejected",
    "HistoryPage",
    "Incoming",
    "Message",
    "ParleyClient",
    "ServerError",
    "Timeline",
]
