"""A stored message is never stranded: once stored, its sender gets an ack, and whatever delivery the send
could not finish goes to the delivery queue, which the ``deliver`` function finishes."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from parley import table
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, queued_deliveries, run_deliveries
from tests.support.events import message_event, sqs_record
from tests.support.faults import Fault, LambdaKilled, Rule, batch_of, injected, is_item_of
from tests.support.handlers import handler_module, invoke
from tests.support.lambda_context import FakeLambdaContext


def messages_of(ddb: Any, cid: str) -> list[dict[str, Any]]:
    return [i for i in all_items(ddb) if i["pk"]["S"] == f"CONV#{cid}" and i["sk"]["S"].startswith("MSG#")]


def pair() -> tuple[Chat, str]:
    alice = Chat("alice", "a-phone").connect()
    Chat("bob", "b-phone").connect()
    return alice, alice.open_direct("bob")


def test_a_throttled_connection_lookup_still_acks_and_the_queue_delivers(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, cid = pair()
    # given every attempt to look up bob's connections is throttled (botocore's retries included)
    rule = Rule("dynamodb", "BatchGetItem", Fault.THROTTLE, when=batch_of(table.CONNECTIONS_SK), times=None)
    with injected(rule):
        ack = alice.send(cid, "hello", "c1")
    # then alice still gets her ack: the message is stored
    assert ack["t"] == "ack" and ack["s"] == 1 and rule.injected >= 3
    assert connections_api.frames_for("b-phone") == []
    # and the delivery queue finishes the job: bob gets the message live
    assert run_deliveries() == []
    assert [f["s"] for f in connections_api.frames_for("b-phone")] == [1]


def test_a_lost_answer_to_the_message_write_is_recognised_as_our_own(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, cid = pair()
    # given the put of the message takes effect but its answer is lost, so botocore's retry meets the condition
    rule = Rule("dynamodb", "PutItem", Fault.LOST_RESPONSE, when=is_item_of("MSG#"))
    with injected(rule):
        ack = alice.send(cid, "hello", "c1")
    # then the retry's ConditionalCheckFailed is recognised as our own message: one ack, one message stored
    assert ack["t"] == "ack" and ack["s"] == 1 and rule.injected == 1
    assert len(messages_of(aws_env, cid)) == 1
    assert [f["s"] for f in connections_api.frames_for("b-phone")] == [1]


def test_an_unread_event_sns_refuses_is_published_from_the_queue(aws_env: Any, configure: Any) -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="unread")["TopicArn"]
    capture = sqs.create_queue(QueueName="capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    configure(PARLEY_UNREAD_TOPIC_ARN=topic)
    alice = Chat("alice", "a-phone").connect()
    cid = alice.open_direct("bob")  # bob is offline
    with injected(Rule("sns", "Publish", Fault.SERVER_ERROR, times=None)):
        assert alice.send(cid, "hello", "c1")["t"] == "ack"
    leaked = sqs.receive_message(QueueUrl=capture).get("Messages", [])
    assert leaked == [], [m["Body"][:300] for m in leaked]
    assert run_deliveries() == []
    [published] = sqs.receive_message(QueueUrl=capture)["Messages"]
    assert '\\"recipients\\":[\\"bob\\"]' in published["Body"]


def test_a_send_killed_after_the_store_is_delivered_when_its_client_resends(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, cid = pair()
    # given the Lambda dies (a timeout, a crash) right after storing, before delivering anything
    kill = Rule("dynamodb", "BatchGetItem", Fault.KILL, when=batch_of(table.CONNECTIONS_SK), times=None)
    with injected(kill), \
            pytest.raises(LambdaKilled):
        alice.send(cid, "hello", "c1")
    assert len(messages_of(aws_env, cid)) == 1 and connections_api.frames_for("b-phone") == []
    # when the app, which got no ack, resends the same clientMsgId
    ack = alice.send(cid, "hello", "c1")
    # then it gets the ack of the stored message, and the resend delivered it
    assert ack["s"] == 1 and len(messages_of(aws_env, cid)) == 1
    assert [f["s"] for f in connections_api.frames_for("b-phone")] == [1]


def test_delivery_that_runs_out_of_time_is_handed_to_the_queue(
        aws_env: Any, connections_api: FakeConnectionsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    _, cid = pair()
    # given a post to bob that hangs, and an invocation with 2.5 s left (the hand-off keeps 2 s back)
    release = threading.Event()
    post = connections_api.post_to_connection

    def hanging(ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId == "b-phone" and not release.is_set():
            release.wait(10)
        return post(ConnectionId=ConnectionId, Data=Data)

    monkeypatch.setattr(connections_api, "post_to_connection", hanging)
    context = FakeLambdaContext()
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 2500)
    body = {"action": "send", "conversationId": cid, "clientMsgId": "c1", "body": {"text": "hi"}}
    try:
        answer = handler_module("send").lambda_handler(message_event("alice", "a-phone", body), context)
    finally:
        release.set()
    # then the sender is acked, and bob's delivery was queued for the deliver function
    assert '"t":"ack"' in answer["body"]
    [job] = [json.loads(r["body"]) for r in queued_deliveries()]
    assert (job["seq"], job["live"]) == (1, ["bob"])
    assert invoke("deliver", {"Records": [sqs_record(json.dumps(job))]}) == {"batchItemFailures": []}
    assert 1 in [f["s"] for f in connections_api.frames_for("b-phone")]
