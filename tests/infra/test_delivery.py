"""The delivery queue (docs/protocol.md "Delivery guarantees"): only the functions that store stream entries
(send, and the changes: groups...) hand work to it, only the deliver
function takes it, a job that keeps failing is kept in a dead-letter queue with an alarm."""

from __future__ import annotations

from typing import Any

import pytest

from infra import constants
from infra.constructs.functions import NEEDS, deployed_functions
from parley import routes
from tests.infra.policies import actions, resources_of
from tests.infra.synthesis import Synth

pytestmark = pytest.mark.infra

QUEUE, DEAD_LETTERS = "Delivery/DeliveryQueue", "Delivery/DeliveryDeadLetterQueue"


def queue_policy(synth: Synth, path: str) -> dict[str, Any]:
    (policy,) = [p["Properties"]["PolicyDocument"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [{"Ref": synth.logical_id(path)}]]
    return policy


def test_deliver_is_deployed_although_no_route_reaches_it() -> None:
    assert routes.DELIVER in deployed_functions()


def test_only_the_functions_that_store_stream_entries_hand_work_to_the_queue_and_are_told_where_it_is(
        synth: Synth) -> None:
    queue_arn = f"${{{synth.logical_id(QUEUE)}.Arn}}"
    handing_off = {name for name, needs in NEEDS.items() if needs.hands_off_delivery}
    assert {"send", "groups", "changes"} <= handing_off  # messages; group changes; edits, deletes, reactions
    senders = {h for h in deployed_functions() if queue_arn in resources_of(synth, h, "sqs:SendMessage")}
    assert senders == handing_off
    jobs_arn = f"${{{synth.logical_id('Jobs/JobsQueue')}.Arn}}"  # the server API also starts erasure/export jobs
    for name in handing_off:
        assert [r for r in resources_of(synth, name, "sqs:SendMessage") if r != jobs_arn] == [queue_arn]
        variables = synth.resource(f"Functions/{name}")["Properties"]["Environment"]["Variables"]
        assert variables["PARLEY_DELIVERY_QUEUE_URL"] == {"Ref": synth.logical_id(QUEUE)}
    assert {h for h in deployed_functions()
            if "PARLEY_DELIVERY_QUEUE_URL" in synth.resource(f"Functions/{h}")["Properties"]
            .get("Environment", {}).get("Variables", {})} == handing_off


def test_the_deliver_function_takes_the_queue_and_reports_failed_jobs_one_by_one(synth: Synth) -> None:
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(QUEUE), "Arn"]}]
    assert mapping["FunctionName"] == {"Ref": synth.logical_id(f"Functions/{routes.DELIVER}")}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == constants.DELIVERY_BATCH_SIZE
    # and it may read the queue it is fed by, and nothing else of SQS
    assert actions(synth, routes.DELIVER, "sqs:") == {
        "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
        "sqs:GetQueueAttributes"}


def test_a_job_failing_every_attempt_is_kept_and_raises_an_alarm(synth: Synth) -> None:
    queue = synth.resource(QUEUE)["Properties"]
    dead_letters = synth.resource(DEAD_LETTERS)["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synth.logical_id(DEAD_LETTERS), "Arn"]},
        "maxReceiveCount": constants.DELIVERY_ATTEMPTS}
    # a job is never offered to a second poller while a slow attempt still runs
    assert queue["VisibilityTimeout"] >= 6 * constants.DELIVER_TIMEOUT.to_seconds()
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    name = {"Fn::GetAtt": [synth.logical_id(DEAD_LETTERS), "QueueName"]}
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
              if {"Name": "QueueName", "Value": name} in a["Properties"].get("Dimensions", [])]
    assert [(a["MetricName"], a["Threshold"]) for a in alarms] == [("ApproximateNumberOfMessagesVisible", 1)]
    output = synth.template_json["Outputs"]["DeliveryDeadLetterQueueUrl"]
    assert output["Value"] == {"Ref": synth.logical_id(DEAD_LETTERS)}


@pytest.mark.parametrize("path", [QUEUE, DEAD_LETTERS])
def test_both_queues_are_encrypted_and_tls_only(synth: Synth, path: str) -> None:
    assert synth.resource(path)["Properties"]["SqsManagedSseEnabled"] is True
    denied = [s for s in queue_policy(synth, path)["Statement"] if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denied] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_deliver_posts_publishes_and_links_like_send(synth: Synth) -> None:
    variables = synth.resource(f"Functions/{routes.DELIVER}")["Properties"]["Environment"]["Variables"]
    assert {"PARLEY_TABLE_NAME", "PARLEY_CALLBACK_URL", "PARLEY_UNREAD_TOPIC_ARN",
            "PARLEY_UPLOADS_BUCKET"} <= set(variables)
    assert "execute-api:ManageConnections" in actions(synth, routes.DELIVER, "execute-api:")
    assert actions(synth, routes.DELIVER, "sns:") == {"sns:Publish"}
