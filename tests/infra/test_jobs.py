"""The jobs queue (docs/server-api.md, "Erasure and export"): only the server API function starts jobs and runs
their batches, one ticket per invocation; a ticket failing every attempt is kept in a dead-letter queue with an
alarm (the delivery queue's: one for both keeps the resources per instance few). The function may do what
erasure and export need and no more."""

from __future__ import annotations

import pytest

from infra import constants
from infra.constructs.functions import NEEDS, deployed_functions
from parley import routes
from tests.infra.policies import actions, resources_of
from tests.infra.synthesis import Synth

pytestmark = pytest.mark.infra

QUEUE, DEAD_LETTERS = "Jobs/JobsQueue", "Delivery/DeliveryDeadLetterQueue"  # one dead-letter queue for both


def test_only_the_server_api_sends_and_takes_tickets_one_per_invocation(synth: Synth) -> None:
    queue_arn = f"${{{synth.logical_id(QUEUE)}.Arn}}"
    senders = {h for h in deployed_functions() if queue_arn in resources_of(synth, h, "sqs:SendMessage")}
    assert senders == {routes.SERVER_API}
    variables = synth.resource(f"Functions/{routes.SERVER_API}")["Properties"]["Environment"]["Variables"]
    assert variables["PARLEY_JOBS_QUEUE_URL"] == {"Ref": synth.logical_id(QUEUE)}
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(QUEUE), "Arn"]}]
    assert mapping["FunctionName"] == {"Ref": synth.logical_id(f"Functions/{routes.SERVER_API}")}
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (1, ["ReportBatchItemFailures"])


def test_a_ticket_failing_every_attempt_is_kept_and_raises_an_alarm(synth: Synth) -> None:
    queue = synth.resource(QUEUE)["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == constants.JOB_ATTEMPTS
    assert queue["VisibilityTimeout"] >= 6 * NEEDS[routes.SERVER_API].timeout.to_seconds()
    assert queue["SqsManagedSseEnabled"] is True
    name = {"Fn::GetAtt": [synth.logical_id(DEAD_LETTERS), "QueueName"]}
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
              if {"Name": "QueueName", "Value": name} in a["Properties"].get("Dimensions", [])]
    assert [a["MetricName"] for a in alarms] == ["ApproximateNumberOfMessagesVisible"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [synth.logical_id(DEAD_LETTERS), "Arn"]}


def test_the_server_api_may_delete_files_and_write_exports_under_their_prefixes_only(synth: Synth) -> None:
    bucket = synth.logical_id("Attachments/Uploads")
    deletable = resources_of(synth, routes.SERVER_API, "s3:DeleteObject")
    assert sorted(deletable) == sorted(f"${{{bucket}.Arn}}/{p}*" for p in ("u/", "p/", "t/", "exports/"))
    assert resources_of(synth, routes.SERVER_API, "s3:PutObject") == [f"${{{bucket}.Arn}}/exports/*"]
    assert "sns:Publish" in actions(synth, routes.SERVER_API, "sns:")  # user.erased, on the moderation topic
