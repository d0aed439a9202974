"""How a user uses the chat, turning per-connection and per-session costs into per-message figures.

A message is billed for the work it does itself (``send``, the notifier); a user also connects, stays
connected and keeps the connection alive, whether they send or not. Every user is assumed to follow the same
profile, so per message sent those costs are the user's daily ones divided by the messages they send a day
(in a 1:1 both users pay their own connection; in a group the offline members pay nothing while offline).

Keepalive: API Gateway closes a connection idle for 10 minutes and any connection after 2 hours
("Idle Connection Timeout" and "Connection duration for WebSocket API",
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html).
So any design needs one client frame per idle stretch of just under 10 minutes (``FLOOR_KEEPALIVE_MINUTES``:
9.5, leaving 30 s for a slow network) and at least one session per 2 connected hours. Parley's Python client
pings after ``keepalive_interval`` seconds without sending (``parley_client.ParleyClient``, read from its
signature). Pings and keepalives are counted as a rate over the idle minutes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

API_GATEWAY_IDLE_TIMEOUT_MINUTES = 10.0
FLOOR_KEEPALIVE_MINUTES = 9.5
MAX_CONNECTION_MINUTES = 120.0


def client_ping_minutes() -> float:
    """The Python client's keepalive: a ``ping`` after this many minutes without sending."""
    from parley_client import ParleyClient

    default = inspect.signature(ParleyClient.__init__).parameters["keepalive_interval"].default
    return float(default) / 60


@dataclass(frozen=True)
class UsageProfile:
    name: str
    messages_per_day: float  # sent by the user
    connected_minutes_per_day: float  # with the app (and its WebSocket) open
    sessions_per_day: float  # connections opened: each runs the authorizer, $connect and $disconnect
    idle_share: float  # of the connected minutes, the share spent without sending (when pings go out)
    why: str = ""

    def __post_init__(self) -> None:
        if self.messages_per_day <= 0 or not 0 <= self.idle_share <= 1:
            raise ValueError(f"{self.name}: messages_per_day > 0 and 0 <= idle_share <= 1")
        if self.sessions_per_day * MAX_CONNECTION_MINUTES < self.connected_minutes_per_day:
            raise ValueError(f"{self.name}: API Gateway closes a connection after 2 hours, so "
                             f"{self.connected_minutes_per_day:g} connected minutes take at least "
                             f"{self.connected_minutes_per_day / MAX_CONNECTION_MINUTES:g} sessions")

    @property
    def sessions_per_message(self) -> float:
        return self.sessions_per_day / self.messages_per_day

    @property
    def minutes_per_message(self) -> float:
        return self.connected_minutes_per_day / self.messages_per_day

    @property
    def idle_minutes_per_message(self) -> float:
        return self.minutes_per_message * self.idle_share

    def pings_per_message(self, ping_minutes: float) -> float:
        return self.idle_minutes_per_message / ping_minutes

    @property
    def floor_keepalives_per_message(self) -> float:
        return self.idle_minutes_per_message / FLOOR_KEEPALIVE_MINUTES


ACTIVE_USER = UsageProfile(
    "an active chat user", messages_per_day=50, connected_minutes_per_day=60, sessions_per_day=20, idle_share=0.3,
    why="50 messages a day is what WhatsApp's reported volume (100 billion messages a day, 2020) averages per "
        "user of its ~2 billion; an hour a day with the app open, in 20 visits of 3 minutes (a phone app "
        "connects when it comes to the foreground); 30% of that time reading or waiting without sending. "
        "Assumptions, not measurements: the sensitivity rows show how the figures move.")
SENSITIVITY = (
    UsageProfile("always connected, mostly idle (a desktop tab open all day)", messages_per_day=10,
                 connected_minutes_per_day=24 * 60, sessions_per_day=12, idle_share=0.95,
                 why="12 sessions: API Gateway's 2-hour cap on a connection"),
    UsageProfile("a heavy sender", messages_per_day=300, connected_minutes_per_day=180, sessions_per_day=30,
                 idle_share=0.1),
    UsageProfile("a light user", messages_per_day=10, connected_minutes_per_day=20, sessions_per_day=8,
                 idle_share=0.3),
)
