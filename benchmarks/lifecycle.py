"""What a connection costs besides its messages: a session (the ``$connect`` authorizer, ``connect`` and
``disconnect``) and a keepalive ``ping``, metered like ``send``.

A session is measured for a scenario's sender, in its world: the sender's own connection is closed first,
so each measured ``connect`` is the user's first (it announces them online to their contacts) and each
``disconnect`` their last (offline, with the last-seen write), then reopened. The ``connect`` rate limit
(one token per connect, a lease of one, so one bucket write each, as deployed) is given a deep burst in the
sandbox where sessions are measured back to back (``connect_limit_deepened``); its rate and lease size,
hence what each connect writes, stay as deployed.

``ping`` follows what the stack declares: ``parley.routes`` (which the CDK construct and the local gateway
read) maps each route to the function that handles it. If it maps ``ping`` to a function, that Lambda is
invoked and metered; if not, API Gateway answers ``ping`` itself (a MOCK integration): the frame in, the
pong out and the access-log entry are all it costs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from benchmarks import access_logs
from benchmarks.bill import Billable
from benchmarks.lambdas import Invocation, invoke
from benchmarks.paths import FUNCTIONS_DIR
from benchmarks.sandbox import Sandbox, chat_token
from parley import routes
from parley.config import get_settings
from parley.rate_limits import lease_size
from tests.support.events import authorizer_event, connect_event, disconnect_event, message_event

PING = "ping"
PONG_BYTES = len(json.dumps({"type": "pong"}, separators=(",", ":")).encode())
DEEP_BURST = 100_000


def ping_function() -> str | None:
    """The function ``ping`` invokes, or None when API Gateway answers it without a Lambda."""
    name = routes.ROUTES.get(PING)
    return name if name and (FUNCTIONS_DIR / name / "handler.py").is_file() else None


@dataclass
class Session:
    """One session's invocations, in order: authorizer, connect, disconnect."""

    invocations: list[Invocation]


def connect_limit_deepened() -> dict[str, str]:
    """``PARLEY_RATE_LIMITS`` as configured, with the connect bucket's burst deepened (its lease unchanged):
    the environment of a sandbox whose sessions are measured back to back."""
    table = get_settings().rate_limit_table
    rate, burst = table.get("connect", (0.0, 1))
    if rate <= 0:
        return {}
    if lease_size(rate, DEEP_BURST) != lease_size(rate, burst):
        raise RuntimeError("deepening the connect burst would change its lease size, hence what a connect writes")
    table["connect"] = (rate, DEEP_BURST)
    return {"PARLEY_RATE_LIMITS": ",".join(f"{kind}={r:g}:{b}" for kind, (r, b) in table.items())}


def run_session(sb: Sandbox, user_id: str) -> Session:
    connection_id = f"S-{uuid.uuid4().hex[:12]}"
    authorized = invoke(sb.meter, routes.AUTHORIZER, authorizer_event(query={"token": chat_token(user_id)}))
    policy = authorized.response
    if not isinstance(policy, dict) or policy.get("policyDocument", {}).get("Statement", [{}])[0].get(
            "Effect") != "Allow":
        raise RuntimeError(f"the authorizer refused a valid token: {policy}")
    connected = invoke(sb.meter, routes.ROUTES[routes.CONNECT], connect_event(user_id, connection_id))
    if not isinstance(connected.response, dict) or connected.response.get("statusCode") != 200:
        raise RuntimeError(f"connect failed: {connected.response}")
    disconnected = invoke(sb.meter, routes.ROUTES[routes.DISCONNECT], disconnect_event(user_id, connection_id))
    return Session([authorized, connected, disconnected])


def run_sessions(sb: Sandbox, user_id: str, own_connection: str, count: int, *, warmup: int = 1) -> list[Session]:
    """``count`` sessions of ``user_id`` (after ``warmup`` unrecorded ones), their own connection closed meanwhile."""
    sb.disconnect(user_id, own_connection)
    try:
        for _ in range(warmup):
            run_session(sb, user_id)
        return [run_session(sb, user_id) for _ in range(count)]
    finally:
        sb.connect(user_id, own_connection)


def session_access_bytes(user_id: str) -> int:
    """A session's access-log entries: its connect (the authorizer runs inside it) and its disconnect."""
    return (access_logs.entry_bytes(access_logs.Event("CONNECT", routes.CONNECT, user_id))
            + access_logs.entry_bytes(access_logs.Event("DISCONNECT", routes.DISCONNECT, user_id)))


def ping_event(user_id: str, connection_id: str) -> dict[str, object]:
    return message_event(user_id, connection_id, {"action": PING, "requestId": "r1-a1b2c3"})  # as parley_client


def run_pings(sb: Sandbox, user_id: str, connection_id: str, count: int, *, warmup: int = 1) -> list[Invocation]:
    function = ping_function()
    if function is None:
        return []
    for _ in range(warmup):
        invoke(sb.meter, function, ping_event(user_id, connection_id))
    return [invoke(sb.meter, function, ping_event(user_id, connection_id)) for _ in range(count)]


def mock_ping(user_id: str) -> Billable:
    """``ping`` answered by API Gateway itself: the frame in, the pong out, one access-log entry."""
    return Billable(inbound=1, responses=1, transfer_out_bytes=PONG_BYTES,
                    access_log_bytes=access_logs.entry_bytes(access_logs.Event("MESSAGE", PING, user_id)))
