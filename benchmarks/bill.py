"""What one event (a message, a session, a ping) bills, meter by meter, and the lines of the cost tables.

``Billable`` holds the metered quantities of one event; events add up and scale (a message plus 0.4 of a
session plus ...), and ``usd()`` prices them with ``benchmarks.prices``. ``Floor`` is what any API Gateway
WebSocket design must pay for the same message. ``AllIn`` puts a message, a session and a ping together
with a ``UsageProfile``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import prices
from benchmarks.usage import UsageProfile

# X-Ray's default sampling rule: the first request each second, then 5% of the rest
# (https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html). At any real volume a trace is
# recorded for 5% of requests; infra sets no rule of its own (``XRAY_SAMPLING_RATE`` in infra/constants.py
# would override this).
XRAY_DEFAULT_SAMPLED_SHARE = 0.05


@dataclass
class Billable:
    inbound: float = 0.0  # API Gateway messages into a route (frames from the client)
    responses: float = 0.0  # route responses (the ack, a pong)
    posts: float = 0.0  # @connections posts
    connection_minutes: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_s: float = 0.0
    wru: float = 0.0
    rru: float = 0.0
    sns_requests: float = 0.0
    mobile_pushes: float = 0.0
    handler_log_bytes: float = 0.0  # Powertools' JSON logs and EMF metrics, at the deployed INFO level
    access_log_bytes: float = 0.0  # API Gateway's access log, one entry per connect, disconnect and frame
    traces: float = 0.0  # X-Ray traces recorded
    sqs_requests: float = 0.0
    transfer_out_bytes: float = 0.0  # payloads API Gateway sends to clients (route responses and posts)

    @property
    def apigw_messages(self) -> float:
        return self.inbound + self.responses + self.posts

    def __add__(self, other: Billable) -> Billable:
        return Billable(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self)})

    def scaled(self, factor: float) -> Billable:
        return Billable(**{f.name: getattr(self, f.name) * factor for f in dataclasses.fields(self)})

    def usd(self) -> dict[str, float]:
        """USD of this event, by line."""
        return {name: price(self) for name, price in LINES}

    def total(self) -> float:
        return sum(self.usd().values())


LINES: tuple[tuple[str, Callable[[Billable], float]], ...] = (
    ("API Gateway messages", lambda b: b.apigw_messages * prices.APIGW_MESSAGE.usd),
    ("API Gateway connection minutes", lambda b: b.connection_minutes * prices.APIGW_CONNECTION_MINUTE.usd),
    ("Lambda requests", lambda b: b.lambda_requests * prices.LAMBDA_REQUEST.usd),
    ("Lambda duration", lambda b: b.lambda_gb_s * prices.LAMBDA_ARM_GB_SECOND.usd),
    ("DynamoDB writes", lambda b: b.wru * prices.DYNAMODB_WRU.usd),
    ("DynamoDB reads", lambda b: b.rru * prices.DYNAMODB_RRU.usd),
    ("SNS publish requests", lambda b: b.sns_requests * prices.SNS_REQUEST.usd),
    ("SNS mobile push deliveries", lambda b: b.mobile_pushes * prices.SNS_MOBILE_PUSH.usd),
    ("CloudWatch Logs: handler logs", lambda b: b.handler_log_bytes * prices.CLOUDWATCH_LOGS_GB.usd),
    ("CloudWatch Logs: API Gateway access logs", lambda b: b.access_log_bytes * prices.CLOUDWATCH_LOGS_GB.usd),
    ("X-Ray traces", lambda b: b.traces * prices.XRAY_TRACE.usd),
    ("SQS delivery queue", lambda b: b.sqs_requests * prices.SQS_REQUEST.usd),
    ("Data transfer out", lambda b: b.transfer_out_bytes * prices.DATA_TRANSFER_OUT_GB.usd),
)
CONNECTION_MINUTES = "API Gateway connection minutes"
KEEPALIVE = "keepalive ping"
LIFECYCLE = "connection lifecycle (authorizer, $connect, $disconnect)"


@dataclass(frozen=True)
class Floor:
    """The least any API Gateway WebSocket design pays for one message."""

    apigw_messages: int  # the frame in, its ack, one delivery per recipient connection
    pushes: int  # offline devices that want a push: one SNS publish request and one delivery each

    def lines(self, profile: UsageProfile) -> dict[str, float]:
        """USD per message, by line: the message itself, then the connection it needs (``profile``)."""
        return {
            "API Gateway messages (in, ack, one per recipient connection)":
                self.apigw_messages * prices.APIGW_MESSAGE.usd,
            "SNS publish requests (one per push)": self.pushes * prices.SNS_REQUEST.usd,
            "SNS mobile push deliveries": self.pushes * prices.SNS_MOBILE_PUSH.usd,
            "API Gateway connection minutes": profile.minutes_per_message * prices.APIGW_CONNECTION_MINUTE.usd,
            "keepalive frames (one per 9.5 idle minutes)":
                profile.floor_keepalives_per_message * prices.APIGW_MESSAGE.usd,
        }

    def usd(self, profile: UsageProfile) -> float:
        return sum(self.lines(profile).values())


@dataclass(frozen=True)
class AllIn:
    """A message with its share of the connection behind it, for one usage profile."""

    message: Billable  # send and the notifier, per message
    session: Billable  # one connection's authorizer, $connect and $disconnect, with its access-log entries
    ping: Billable  # one keepalive ping
    ping_minutes: float  # the client pings after this many minutes without sending
    profile: UsageProfile

    def lines(self) -> dict[str, float]:
        """USD per message, by line: the message's own lines, then the three per-connection ones."""
        own = {name: usd for name, usd in self.message.usd().items() if name != CONNECTION_MINUTES}
        return {**own,
                CONNECTION_MINUTES: self.profile.minutes_per_message * prices.APIGW_CONNECTION_MINUTE.usd,
                KEEPALIVE: self.ping.total() * self.profile.pings_per_message(self.ping_minutes),
                LIFECYCLE: self.session.total() * self.profile.sessions_per_message}

    def usd(self) -> float:
        return sum(self.lines().values())
