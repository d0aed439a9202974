"""Fault tier: the real handlers under moto, with throttling, 5xx, timeouts, lost answers and killed
Lambdas injected at each AWS call of the send path, the deliver function and the push notifier
(tests/support/faults.py), and the product's promises checked after each run (harness.py).

One moto per module keeps the tier fast: each case has users and a conversation of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from parley import table, wiring
from tests.faults.harness import BUCKET, DELIVERY_QUEUE, TABLE_NAME, Environment, Run
from tests.integration.conftest import (  # noqa: F401 -- the integration tier's per-test fixtures (erasure cases)
    SECRET,
    SECRET_NAME,
    FakeConnectionsApi,
    aws_env,
    bucket,
    configure,
    connections_api,
    reset_caches,
)


@pytest.fixture(scope="module")
def environment() -> Iterator[Environment]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        # botocore retries exactly as in AWS (standard mode, Parley's attempts), without sleeping between
        patch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
        api = FakeConnectionsApi()
        from parley import aws

        real_client = aws.client

        def client(service: str, endpoint_url: str | None = None, max_pool_connections: int | None = None) -> Any:
            return api if service == "apigatewaymanagementapi" else real_client(service, endpoint_url)

        patch.setattr("parley.stores.management_api.client", client)
        ddb, sqs, sns, s3 = (boto3.client(s) for s in ("dynamodb", "sqs", "sns", "s3"))
        boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=SECRET)
        s3.create_bucket(Bucket=BUCKET)
        delivery = sqs.create_queue(QueueName=DELIVERY_QUEUE)["QueueUrl"]
        topic = sns.create_topic(Name="unread-events")["TopicArn"]
        capture = sqs.create_queue(QueueName="unread-capture")["QueueUrl"]
        capture_arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=capture_arn)
        apns = sns.create_platform_application(Name="ios", Platform="APNS", Attributes={
            "PlatformCredential": "key", "PlatformPrincipal": "cert"})["PlatformApplicationArn"]
        fcm = sns.create_platform_application(Name="android", Platform="GCM", Attributes={
            "PlatformCredential": "key"})["PlatformApplicationArn"]
        for name, value in {
            "PARLEY_TABLE_NAME": TABLE_NAME, "PARLEY_CALLBACK_URL": "https://example.invalid/prod",
            "PARLEY_AUTH_MODE": "hs256", "PARLEY_AUTH_SECRET_ID": SECRET_NAME, "PARLEY_PRUNE_GRACE_MS": "0",
            "PARLEY_DELIVERY_QUEUE_URL": delivery, "PARLEY_UNREAD_TOPIC_ARN": topic,
            "PARLEY_PUSH_APNS_APPLICATION_ARN": apns, "PARLEY_PUSH_FCM_APPLICATION_ARN": fcm,
            "PARLEY_UPLOADS_BUCKET": BUCKET,
            # a lease of one token: every send writes its bucket, so that call can be broken too
            "PARLEY_RATE_LIMITS": "send=1:20",
        }.items():
            patch.setenv(name, value)
        reset_caches()
        yield Environment(api=api, ddb=ddb, sqs=sqs, s3=s3, delivery_queue=delivery, capture_queue=capture)
    reset_caches()


@pytest.fixture
def run(environment: Environment, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Run:
    """A case's run, on a table of its own (moto reads a whole table for every Query: small ones stay fast)."""
    case = request.node.callspec.params["case"]
    created = Run(environment, case)
    created.table_name = f"{TABLE_NAME}-{created.prefix}"
    environment.ddb.create_table(**table.TABLE.create_table_kwargs(created.table_name))
    monkeypatch.setenv("PARLEY_TABLE_NAME", created.table_name)
    wiring.reset(keep_clients=True)  # same moto, same clients: only the table changes
    return created
