"""Integration tier: the real handlers under moto, with the table built from parley.table."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from parley import aws, table, wiring
from tests.support.events import connect_event, message_event, sqs_record
from tests.support.faults import Call, Fault, FaultInjector, LambdaKilled
from tests.support.handlers import frame, handler_module, invoke

TABLE_NAME = "parley-test"
DELIVERY_QUEUE = "parley-test-delivery"
SECRET_NAME = "parley/test/token-secret"
SECRET = "integration-secret-0123456789abcdef0123456789"
ISSUER, AUDIENCE = "parley-test-issuer", "parley-test"


class FakeConnectionsApi:
    """A boto3-like @connections client. moto never answers 410, so stale ids here raise the real
    ``GoneException`` class of a real client. A fault ``injector`` (tests/support/faults.py) breaks posts as
    botocore would see them, retried the way its standard mode retries with Parley's client config
    (``parley.aws``: 3 retries, so 4 attempts)."""

    ATTEMPTS = 4

    def __init__(self) -> None:
        real = boto3.client("apigatewaymanagementapi", endpoint_url="https://example.invalid/prod")
        self.exceptions = real.exceptions
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.stale: set[str] = set()
        self.closed: list[str] = []
        self.injector: FaultInjector | None = None

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId in self.stale:
            raise self.exceptions.GoneException(
                {"Error": {"Code": "GoneException", "Message": "gone"}}, "PostToConnection")
        for attempt in range(1, self.ATTEMPTS + 1):
            fault = self.injector.decide(Call("apigatewaymanagementapi", "PostToConnection",
                                              {"ConnectionId": ConnectionId})) if self.injector else None
            if fault is None:
                self.posts.append((ConnectionId, json.loads(Data)))
                return {}
            if fault is Fault.KILL:
                raise LambdaKilled("killed at PostToConnection")
            if fault is Fault.LOST_RESPONSE:
                self.posts.append((ConnectionId, json.loads(Data)))  # it went out; the answer did not come back
            if attempt == self.ATTEMPTS:
                if fault in (Fault.TIMEOUT, Fault.LOST_RESPONSE):
                    raise ReadTimeoutError(endpoint_url="https://example.invalid/prod")
                code = "TooManyRequestsException" if fault is Fault.THROTTLE else "InternalServerError"
                raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "PostToConnection")
        raise AssertionError("unreachable")

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:
        if ConnectionId in self.stale or ConnectionId in self.closed:
            raise self.exceptions.GoneException(
                {"Error": {"Code": "GoneException", "Message": "gone"}}, "DeleteConnection")
        fault = self.injector.decide(Call("apigatewaymanagementapi", "DeleteConnection",
                                          {"ConnectionId": ConnectionId})) if self.injector else None
        if fault is Fault.KILL:
            raise LambdaKilled("killed at DeleteConnection")
        if fault is not None:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "DeleteConnection")
        self.closed.append(ConnectionId)
        return {}

    def frames_for(self, connection_id: str) -> list[dict[str, Any]]:
        return [f for cid, f in self.posts if cid == connection_id]


def kind(frame: dict[str, Any]) -> Any:
    """A frame's type: ``type``, or ``t`` for the compact format's ``ack`` and ``msg`` frames."""
    return frame.get("type", frame.get("t"))


def reset_caches() -> None:
    wiring.reset()
    handler_module("authorizer").verifier.cache_clear()


@pytest.fixture
def connections_api() -> FakeConnectionsApi:
    return FakeConnectionsApi()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, connections_api: FakeConnectionsApi) -> Iterator[Any]:
    monkeypatch.setenv("PARLEY_TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("PARLEY_CALLBACK_URL", "https://example.invalid/prod")
    monkeypatch.setenv("PARLEY_AUTH_MODE", "hs256")
    monkeypatch.setenv("PARLEY_AUTH_SECRET_ID", SECRET_NAME)
    monkeypatch.setenv("PARLEY_AUTH_ISSUER", ISSUER)
    monkeypatch.setenv("PARLEY_AUTH_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("PARLEY_MAX_GROUP_MEMBERS", "5")
    monkeypatch.setenv("PARLEY_MAX_TEXT_BYTES", "64")
    monkeypatch.setenv("PARLEY_PRUNE_GRACE_MS", "0")  # records here are milliseconds old; grace has its own test
    reset_caches()
    real_client = aws.client

    def client(service: str, endpoint_url: str | None = None, max_pool_connections: int | None = None) -> Any:
        return connections_api if service == "apigatewaymanagementapi" else real_client(service, endpoint_url)

    monkeypatch.setattr("parley.stores.management_api.client", client)
    with mock_aws():
        queue_url = boto3.client("sqs").create_queue(QueueName=DELIVERY_QUEUE)["QueueUrl"]
        monkeypatch.setenv("PARLEY_DELIVERY_QUEUE_URL", queue_url)
        reset_caches()
        ddb = boto3.client("dynamodb")
        ddb.create_table(**table.TABLE.create_table_kwargs(TABLE_NAME))
        ddb.update_time_to_live(TableName=TABLE_NAME, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": table.TABLE.ttl_attribute})
        boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=SECRET)
        yield ddb
    reset_caches()


def token(user: str, key: str = SECRET, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **overrides}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")


def all_items(ddb: Any, *, with_throttles: bool = False) -> list[dict[str, Any]]:
    """The stored data, sorted: a test-side snapshot (this Scan is the test's, never a request's).

    Rate-limit buckets (``THROTTLE#``) are left out unless asked for: every request is charged to its
    sender's bucket on purpose, refused ones included, so that flooding with bad frames is limited too."""
    items = ddb.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]
    if not with_throttles:
        items = [i for i in items if not i["pk"]["S"].startswith("THROTTLE#")]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@dataclass(frozen=True, order=True)
class ConnectionRecord:
    user: str
    connection_id: str
    connected_at: int  # epoch ms
    expires_at: int  # epoch s
    frame_format: str


def connection_records(ddb: Any) -> list[ConnectionRecord]:
    """Every connection entry of every user's ``~CONNS`` item (expired ones included), sorted."""
    return sorted(
        ConnectionRecord(user=i["pk"]["S"].removeprefix("USER#"), connection_id=cid,
                         connected_at=int(e["M"]["at"]["N"]), expires_at=int(e["M"]["x"]["N"]),
                         frame_format=e["M"]["f"]["S"])
        for i in all_items(ddb) if i["sk"]["S"] == table.CONNECTIONS_SK
        for cid, e in i[table.ATTR_CONNECTIONS]["M"].items())


class Chat:
    """Drives the real handlers as one user on one connection."""

    def __init__(self, user: str, connection_id: str, frame_format: str = "compact") -> None:
        self.user, self.connection_id, self.frame_format = user, connection_id, frame_format

    def connect(self) -> Chat:
        event = connect_event(self.user, self.connection_id, self.frame_format)
        assert invoke("connect", event)["statusCode"] == 200
        return self

    def call(self, function: str, body: Any) -> dict[str, Any]:
        return frame(invoke(function, message_event(self.user, self.connection_id, body,
                                                    frame_format=self.frame_format)))

    def open_direct(self, peer: str) -> str:
        result = self.call("conversations", {"action": "openDirect", "userId": peer})
        assert result["type"] == "conversation", result
        conversation_id: str = result["conversation"]["conversationId"]
        return conversation_id

    def send(self, conversation_id: str, text: str, client_msg_id: str) -> dict[str, Any]:
        return self.call("send", {"action": "send", "conversationId": conversation_id,
                                  "clientMsgId": client_msg_id, "body": {"text": text}})

    def send_body(self, conversation_id: str, body: dict[str, Any], client_msg_id: str) -> dict[str, Any]:
        return self.call("send", {"action": "send", "conversationId": conversation_id,
                                  "clientMsgId": client_msg_id, "body": body})

    def history(self, conversation_id: str, **kwargs: Any) -> dict[str, Any]:
        return self.call("history", {"action": "history", "conversationId": conversation_id, **kwargs})


def drained(url: str) -> list[dict[str, Any]]:
    """Take every message waiting in the queue at ``url`` (each deleted once read), oldest batches first."""
    sqs = boto3.client("sqs")
    taken: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        taken += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return taken


def queued_deliveries() -> list[dict[str, Any]]:
    """Take every job waiting in the delivery queue, as Lambda's SQS poller does (the records of one event)."""
    url = boto3.client("sqs").get_queue_url(QueueName=DELIVERY_QUEUE)["QueueUrl"]
    return [sqs_record(m["Body"], m["MessageId"], DELIVERY_QUEUE) for m in drained(url)]


def run_deliveries() -> list[str]:
    """Run the ``deliver`` function on every queued job; the ids of the records it failed (to be retried)."""
    records = queued_deliveries()
    if not records:
        return []
    answer = invoke("deliver", {"Records": records})
    return [f["itemIdentifier"] for f in answer.get("batchItemFailures", [])]


__all__ = ["Chat", "ClientError", "all_items", "kind", "run_deliveries", "token"]


@pytest.fixture
def atomic_writes(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto applies writes from several threads at once, condition and update interleaved; DynamoDB applies the
    writes to an item one at a time, each condition checked against the item as the last write left it. Tests
    that race writers against each other take this, so moto does that too."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def serialized(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, functools.wraps(original)(serialized))


@pytest.fixture
def configure(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Change Parley's settings for one test, as a deployment would (environment variables)."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        wiring.reset()

    return apply


@pytest.fixture
def bucket(configure: Any) -> Any:
    """The uploads bucket (moto S3), configured for the handlers."""
    from tests.integration.uploads import BUCKET

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    configure(PARLEY_UPLOADS_BUCKET=BUCKET, PARLEY_UPLOAD_MAX_BYTES=str(2 * 1024 * 1024))
    return s3
