"""The handlers under in-process moto: the table from ``parley.table.TABLE`` (with TTL), SNS platform
applications and the unread-events topic, the delivery queue, the token-signing secret, and the core
configured through its environment variables, as the CDK stack configures it. Plus a few setup steps driven
through the real handlers, and the two meters of ``benchmarks.duration``: how calls ran (lanes) and what moto
itself spent (server CPU)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws

from benchmarks import lanes
from benchmarks.duration import server_cpu_metered
from benchmarks.lambdas import captured_output
from benchmarks.metering import Meter
from local.partition_queries import partition_scoped_queries
from parley import aws, table, wiring
from tests.support.events import API_ID, REGION, STAGE, connect_event, disconnect_event, message_event
from tests.support.handlers import handler_module
from tests.support.lambda_context import FakeLambdaContext

TABLE_NAME = "parley-bench"
# A URL moto's @connections mock answers (any connection id is accepted and recorded).
CALLBACK_URL = f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/{STAGE}"
APNS_TOKEN_BYTES = 32
TOKEN_SECRET_NAME = "parley/bench/token-secret"
TOKEN_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
TOKEN_ISSUER, TOKEN_AUDIENCE = "parley-bench", "parley"

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_NAMESPACE": "Parley",
    "POWERTOOLS_SERVICE_NAME": "parley",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # as deployed (application_log_level INFO): its bytes are measured
    "PARLEY_TABLE_NAME": TABLE_NAME,
    "PARLEY_CALLBACK_URL": CALLBACK_URL,
    # send's delivery budget is wall-clock: on this shared machine under in-process moto a fan-out can take
    # seconds that Lambda (20 ms posts) never would, and hand off what AWS would finish. The longest budget
    # keeps this machine's slowness out of the figures; a hand-off still shows as SQS requests.
    "PARLEY_DELIVERY_BUDGET_MS": "25000",
    "PARLEY_AUTH_MODE": "hs256",
    "PARLEY_AUTH_SECRET_ID": TOKEN_SECRET_NAME,
    "PARLEY_AUTH_ISSUER": TOKEN_ISSUER,
    "PARLEY_AUTH_AUDIENCE": TOKEN_AUDIENCE,
}


def chat_token(user_id: str) -> str:
    """A chat token the host app's backend would sign for ``user_id`` (HS256, ten minutes)."""
    import jwt

    now = int(time.time())
    claims = {"sub": user_id, "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "iat": now, "exp": now + 600}
    return jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")


def reset_core() -> None:
    """Forget the core's once-per-process state (settings, wiring, clients, the authorizer's verifier)."""
    wiring.reset()
    handler_module("authorizer").verifier.cache_clear()


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_core()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_core()


@dataclass
class Sandbox:
    meter: Meter
    ddb: Any
    sns: Any
    topic_arn: str
    apns_app: str

    def call(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """Run a handler for setup (its calls are recorded like any other, and simply not looked at)."""
        with captured_output():
            result: dict[str, Any] = handler_module(function).lambda_handler(event, FakeLambdaContext())
        return result

    def connect(self, user: str, connection_id: str) -> None:
        assert self.call("connect", connect_event(user, connection_id))["statusCode"] == 200

    def disconnect(self, user: str, connection_id: str) -> None:
        self.call("disconnect", disconnect_event(user, connection_id))

    def request(self, user: str, connection_id: str, body: dict[str, Any], function: str) -> dict[str, Any]:
        response = self.call(function, message_event(user, connection_id, body))
        answer: dict[str, Any] = json.loads(response["body"]) if response.get("body") else {}
        if answer.get("type") == "error":
            raise RuntimeError(f"{function} refused {body.get('action')}: {answer}")
        return answer

    def create_group(self, creator: str, connection_id: str, members: list[str], name: str, *,
                     e2e: bool = False) -> str:
        answer = self.request(creator, connection_id, {"action": "createGroup", "members": members, "name": name,
                                                       **({"e2e": True} if e2e else {})}, "conversations")
        conversation_id: str = answer["conversation"]["conversationId"]
        return conversation_id

    def open_direct(self, user: str, connection_id: str, peer: str, *, e2e: bool = False) -> str:
        answer = self.request(user, connection_id, {"action": "openDirect", "userId": peer,
                                                    **({"e2e": True} if e2e else {})}, "conversations")
        conversation_id: str = answer["conversation"]["conversationId"]
        return conversation_id

    def register_apns(self, user: str, connection_id: str, token: str) -> None:
        self.request(user, connection_id, {"action": "registerDevice", "platform": "apns", "token": token},
                     "devices")


@contextmanager
def moto_sandbox(meter: Meter, *, env: Mapping[str, str | None] | None = None) -> Iterator[Sandbox]:
    """In-process moto with Parley's table, push applications and topic; ``meter`` sees every call."""
    with environment({**BASE_ENV, **(env or {})}), mock_aws(), partition_scoped_queries():
        ddb = boto3.client("dynamodb")
        ddb.create_table(**table.TABLE.create_table_kwargs(TABLE_NAME))
        ddb.update_time_to_live(TableName=TABLE_NAME, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": table.TABLE.ttl_attribute})
        sns = boto3.client("sns")
        apns_app = sns.create_platform_application(Name="parley-ios", Platform="APNS", Attributes={
            "PlatformCredential": "key", "PlatformPrincipal": "cert"})["PlatformApplicationArn"]
        topic_arn = sns.create_topic(Name="parley-unread-events")["TopicArn"]
        queue_url = boto3.client("sqs").create_queue(QueueName="parley-delivery")["QueueUrl"]
        boto3.client("secretsmanager").create_secret(Name=TOKEN_SECRET_NAME, SecretString=TOKEN_SECRET)
        with environment({"PARLEY_PUSH_APNS_APPLICATION_ARN": apns_app, "PARLEY_UNREAD_TOPIC_ARN": topic_arn,
                          "PARLEY_DELIVERY_QUEUE_URL": queue_url}), \
                meter.installed(), lanes.recording(), server_cpu_metered():
            aws.reset_clients()  # every client from here on carries the meter's hooks
            yield Sandbox(meter=meter, ddb=ddb, sns=sns, topic_arn=topic_arn, apns_app=apns_app)


def wait_for_idle_bucket(last_send: float, interval_s: float) -> float:
    """Sleep until a sender's rate-limit bucket is idle again (``interval_s`` after its last send)."""
    remaining = last_send + interval_s - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    return time.monotonic()
