"""No message content and no token in traces or logs (docs/security.md, trust boundaries).

Every deployed function runs here as in Lambda with active tracing: Powertools' Tracer on, the X-Ray SDK
sending every segment and subsegment document to a daemon on 127.0.0.1, botocore patched. Message text, a
report reason and a moderation hook's reason carry a unique marker through every route, the notifier and
the thumbnail maker; neither the marker nor a chat token may appear in any trace document or log line.
The deployment's POWERTOOLS_TRACER_CAPTURE_* switches are left unset here: this is the code's own guarantee
(tests/infra checks the switches).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from PIL import Image
from pydantic import ValidationError

from parley import routes
from parley.models import DeliveryJob
from parley.stores import moderation_lambda
from tests.integration.conftest import token
from tests.support.events import (
    authorizer_event,
    connect_event,
    disconnect_event,
    http_api_event,
    message_event,
    sqs_record,
)
from tests.support.handlers import frame
from tests.support.json_endpoint import JsonEndpoint, json_endpoint
from tests.support.tracing import HANDLER_SUBSEGMENT, TracedLambdas, lambda_tracing, parley_log

MARKER = f"MARKER{uuid.uuid4().hex[:12]}"  # ASCII: JSON escaping cannot hide it
TEXT = f"see you at 8 {MARKER}"
BUCKET = "parley-uploads-traced"
APNS_TOKEN = "c3" * 32


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonEndpoint]:
    """The moderation hook's Lambda Invoke endpoint: allows, unless a test says otherwise."""
    with json_endpoint({"verdict": "allow"}) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        moderation_lambda._lambda_client.cache_clear()
        yield endpoint
    moderation_lambda._lambda_client.cache_clear()


@pytest.fixture
def everything_on(configure: Any, hook: JsonEndpoint) -> str:
    """Push, the unread-event and moderation topics, uploads and a moderation hook: every path content takes.
    Returns the SQS queue that receives the unread events."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    apns = sns.create_platform_application(Name="parley-ios", Platform="APNS", Attributes={
        "PlatformCredential": "key", "PlatformPrincipal": "cert"})["PlatformApplicationArn"]
    unread, moderation = (sns.create_topic(Name=name)["TopicArn"] for name in ("unread", "moderation"))
    queue = sqs.create_queue(QueueName="unread-capture")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=unread, Protocol="sqs", Endpoint=queue_arn)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    configure(PARLEY_PUSH_APNS_APPLICATION_ARN=apns, PARLEY_UNREAD_TOPIC_ARN=unread,
              PARLEY_MODERATION_TOPIC_ARN=moderation, PARLEY_UPLOADS_BUCKET=BUCKET,
              PARLEY_MODERATION_FUNCTION="parley-review")
    return queue


class Client:
    """One user on one connection, through the traced handlers."""

    def __init__(self, lambdas: TracedLambdas, user: str, connection_id: str, exercised: set[str]) -> None:
        self.lambdas, self.user, self.connection_id, self.exercised = lambdas, user, connection_id, exercised
        self.token = token(user)

    def connect(self) -> Client:
        # API Gateway hands the handshake's query string, token included, to the $connect route too
        event = connect_event(self.user, self.connection_id)
        event["queryStringParameters"] = {"token": self.token}
        assert self.lambdas.invoke(routes.ROUTES[routes.CONNECT], event)["statusCode"] == 200
        self.exercised.add(routes.CONNECT)
        return self

    def disconnect(self) -> None:
        event = disconnect_event(self.user, self.connection_id)
        assert self.lambdas.invoke(routes.ROUTES[routes.DISCONNECT], event)["statusCode"] == 200
        self.exercised.add(routes.DISCONNECT)

    def call(self, body: dict[str, Any], route: str | None = None) -> dict[str, Any]:
        route = route or body["action"]
        self.exercised.add(route)
        event = message_event(self.user, self.connection_id, body, route_key=route)
        return frame(self.lambdas.invoke(routes.ROUTES[route], event))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 120, 255)).save(out, format="PNG")
    return out.getvalue()


def s3_event(key: str) -> dict[str, Any]:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2026-11-27T00:00:00.000Z", "eventName": "ObjectCreated:Post",
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "uploads",
                                "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                                "object": {"key": key, "size": 1, "eTag": "e", "sequencer": "0"}}}]}


def sns_event(notification: dict[str, Any], message: str) -> dict[str, Any]:
    """The notifier's event for a notification the unread-events topic published (``message`` its body)."""
    attributes = {k: {"Type": v["Type"], "Value": v["Value"]}
                  for k, v in notification.get("MessageAttributes", {}).items()}
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:s",
                         "Sns": {"Type": "Notification", "MessageId": notification["MessageId"],
                                 "TopicArn": notification["TopicArn"], "Subject": None, "Message": message,
                                 "Timestamp": notification["Timestamp"], "SignatureVersion": "1", "Signature": "x",
                                 "SigningCertUrl": "https://x", "UnsubscribeUrl": "https://x",
                                 "MessageAttributes": attributes}}]}


def chat_through_every_function(lambdas: TracedLambdas, queue: str, hook: JsonEndpoint) -> tuple[set[str], list[str]]:
    """Every route, the authorizer, the notifier and the thumbnail maker, with the marker wherever a user's
    words can go. Returns the routes exercised and the chat tokens used."""
    exercised: set[str] = set()
    alice, bob, carol = (Client(lambdas, user, f"{user[0]}1", exercised) for user in ("alice", "bob", "carol"))

    # the authorizer: one token accepted, one refused (a refusal is logged with its reason)
    allowed = lambdas.invoke(routes.AUTHORIZER, authorizer_event(query={"token": alice.token}))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    forged = token("alice", key="another-secret-0123456789abcdef0123456789")
    refused = lambdas.invoke(routes.AUTHORIZER, authorizer_event(query={"token": forged}))
    assert refused["policyDocument"]["Statement"][0]["Effect"] == "Deny"

    for client in (alice, bob, carol):
        client.connect()
    assert carol.call({"action": "registerDevice", "platform": "apns", "token": APNS_TOKEN})["registered"]
    carol.disconnect()  # offline: she is pushed
    group = alice.call({"action": "createGroup", "members": ["bob", "carol"]})["conversation"]["conversationId"]
    direct = alice.call({"action": "openDirect", "userId": "bob"})["conversation"]["conversationId"]

    assert alice.call({"action": "send", "conversationId": group, "clientMsgId": "m1", "body": {"text": TEXT}},
                      )["t"] == "ack"
    assert alice.call({"action": "send", "conversationId": direct, "clientMsgId": "m2", "body": {"text": TEXT}},
                      )["t"] == "ack"
    # a photo with the marker in its caption; the S3 trigger runs after the send
    data = png()
    ticket = alice.call({"action": "requestUpload", "conversationId": group, "contentType": "image/png",
                         "size": len(data)})
    assert requests.post(ticket["url"], data=ticket["fields"], files={"file": ("f", data, "image/png")},
                         timeout=10).status_code in (200, 204)
    assert alice.call({"action": "send", "conversationId": group, "clientMsgId": "m3", "body": {
        "text": TEXT, "attachments": [{"key": ticket["key"], "contentType": "image/png", "size": len(data)}]}},
    )["t"] == "ack"
    assert lambdas.invoke(routes.THUMBNAILS, s3_event(ticket["key"])) == {"processed": 1}
    hook.answer = {"verdict": "deny", "reason": f"not that: {MARKER}"}  # a hook may quote the message
    assert alice.call({"action": "send", "conversationId": direct, "clientMsgId": "m4", "body": {"text": TEXT}},
                      )["code"] == "message_rejected"
    hook.answer = {"verdict": "allow"}

    # the recipients read it back in every form
    assert MARKER in json.dumps(bob.call({"action": "history", "conversationId": group}))
    assert MARKER in json.dumps(bob.call({"action": "listConversations"}))
    bob.call({"action": "attachmentUrls", "conversationId": group, "keys": [ticket["key"]]})
    bob.call({"action": "read", "conversationId": group, "seq": 1})
    bob.call({"action": "unreadCounts"})
    bob.call({"action": "typing", "conversationId": group})
    bob.call({"action": "presence", "userIds": ["alice"]})
    bob.call({"action": "getPreferences"})
    bob.call({"action": "setPreferences", "notify": "passive"})
    bob.call({"action": "setConversationPreferences", "conversationId": direct, "mutedUntil": 0})
    bob.call({"action": "block", "userId": "eve"})
    bob.call({"action": "listBlocks"})
    bob.call({"action": "unblock", "userId": "eve"})
    assert bob.call({"action": "report", "conversationId": direct, "seq": 1, "reason": f"says {MARKER}"},
                    )["type"] == "reported"
    assert bob.call({"action": "shout", "text": TEXT}, route=routes.DEFAULT)["code"] == "unknown_action"
    # edits carry the marker too (and are reviewed by the hook); a reaction; a delete of the photo message
    assert alice.call({"action": "edit", "conversationId": group, "seq": 1, "text": f"{TEXT}!"})["kind"] == "edited"
    assert bob.call({"action": "react", "conversationId": group, "seq": 1, "emoji": "👍"})["kind"] == "reacted"
    assert alice.call({"action": "delete", "conversationId": group, "seq": 2})["kind"] == "deleted"
    for change in ({"action": "addMembers", "userIds": ["dave"]}, {"action": "renameGroup", "name": "renamed"},
                   {"action": "setRole", "userId": "bob", "role": "admin"},
                   {"action": "setGroupSettings", "historyVisibility": "all"},
                   {"action": "removeMember", "userId": "dave"}, {"action": "leave"}):
        assert alice.call({**change, "conversationId": group})["type"] == "conversation"

    # the notifier: carol's unread events carry the text (pushContent=full); a broken one fails, and its
    # error must not quote the event (the text is its last field, where an error's excerpt ends)
    notifications = [json.loads(m["Body"]) for m in
                     boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    [notification] = [n for n in notifications if "attachmentCount" not in json.loads(n["Message"])]  # m1
    event = json.loads(notification["Message"])
    assert list(event)[-1] == "text" and MARKER in event["text"]
    assert lambdas.invoke(routes.NOTIFIER, sns_event(notification, notification["Message"]))["pushed"] == 1
    broken = json.dumps({k: v for k, v in event.items() if k != "seq"})
    with pytest.raises(ValidationError):  # Lambda retries it, then parks it in the dead-letter queue
        lambdas.invoke(routes.NOTIFIER, sns_event(notification, broken))

    # the server API: a system message with the marker, a refused one quoting it, and the audit log read
    posted = lambdas.invoke(routes.SERVER_API, http_api_event(
        "POST", f"/v1/conversations/{group}/messages", {"clientMsgId": "sys1", "text": f"notice {MARKER}"}))
    assert posted["statusCode"] == 200, posted
    refused_post = lambdas.invoke(routes.SERVER_API, http_api_event(
        "POST", f"/v1/conversations/{group}/messages", {"clientMsgId": "sys2", "text": MARKER, "extra": MARKER}))
    assert refused_post["statusCode"] == 400
    assert lambdas.invoke(routes.SERVER_API, http_api_event("GET", "/v1/audit"))["statusCode"] == 200

    # the deliver function finishing a delivery handed off by send: the marker is in the stored message
    job = DeliveryJob(conversation_id=group, seq=1, live=("bob",), unread=("carol",))
    answer = lambdas.invoke(routes.DELIVER, {"Records": [sqs_record(job.model_dump_json(by_alias=True))]})
    assert answer == {"batchItemFailures": []}

    # the key directory of end-to-end encryption: a device published (alice is told), a forged one, fetched, removed
    from tests.support.e2e import Device

    encrypted = alice.call({"action": "openDirect", "userId": "bob", "e2e": True})["conversation"]["conversationId"]
    phone = Device("dev-bob-0001")
    assert bob.call(phone.publish_frame())["type"] == "keysPublished"
    assert bob.call(phone.publish_frame(identityKey=Device("dev-bob-0002").identity_key))["code"] \
        == "invalid_key_signature"
    assert alice.call({"action": "getKeys", "conversationId": encrypted})["type"] == "keys"
    assert bob.call({"action": "removeDevice", "deviceId": "dev-bob-0001"})["removed"] is True

    carol = Client(lambdas, "carol", "c2", exercised).connect()
    assert carol.call({"action": "unregisterDevice", "token": APNS_TOKEN})["registered"] is False
    for client in (alice, bob, carol):
        client.disconnect()
    return exercised, [client.token for client in (alice, bob, carol)] + [forged]


def test_no_function_records_message_content_or_tokens_in_traces_or_logs(
        aws_env: Any, everything_on: str, hook: JsonEndpoint, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    # given every deployed function traced as in Lambda, and every log line they write
    with lambda_tracing() as lambdas, parley_log() as parley_log_text, caplog.at_level(logging.INFO):
        # when users chat through every route with the marker in their words, and the notifier and the
        # thumbnail maker run
        exercised, tokens = chat_through_every_function(lambdas, everything_on, hook)
    output = capsys.readouterr()

    # then every function was traced (this test cannot pass by tracing nothing)
    assert exercised == set(routes.ROUTES)
    assert set(lambdas.documents) == set(routes.function_names())
    for function, documents in lambdas.documents.items():
        assert HANDLER_SUBSEGMENT in [json.loads(d)["name"] for d in documents], function
    # and no trace document carries the marker or a token
    hidden = [MARKER, *tokens]
    leaks = [(function, json.loads(d)["name"], excerpt(d, hidden)) for function, documents
             in lambdas.documents.items() for d in documents if excerpt(d, hidden)]
    assert leaks == [], "\n".join(map(str, leaks))
    # and neither does any log line: Parley's JSON logs, other loggers (the notifier's failure included),
    # and stdout (metrics)
    parley_lines = parley_log_text.getvalue().splitlines()
    assert any("connection refused" in line for line in parley_lines)
    assert any("Traceback" in line for line in caplog.text.splitlines())
    lines = parley_lines + caplog.text.splitlines() + (output.out + output.err).splitlines()
    assert [excerpt(line, hidden) for line in lines if excerpt(line, hidden)] == []


def excerpt(text: str, hidden: list[str]) -> str:
    """Where the first of ``hidden`` appears in ``text`` ("" for nowhere)."""
    for value in hidden:
        at = text.find(value)
        if at >= 0:
            return text[max(0, at - 120):at + len(value) + 20]
    return ""
