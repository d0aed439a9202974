"""Push notifications (docs/push.md): the notifier gets the unread events and nothing else, a failed event
is retried and then kept, and the SNS endpoint permissions exist only for the configured platform
applications."""

from __future__ import annotations

from typing import Any

import pytest

from infra import constants
from infra.constructs.functions import deployed_functions
from parley import routes
from parley.unread_events import UNREAD_EVENT
from tests.infra.policies import actions, resources_of
from tests.infra.synthesis import CONFIGURED_CONTEXT, Synth

pytestmark = pytest.mark.infra

APNS_APP = CONFIGURED_CONTEXT["pushApnsApplicationArn"]
FCM_APP = CONFIGURED_CONTEXT["pushFcmApplicationArn"]
APNS_ENDPOINTS = "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/parley-ios/*"
FCM_ENDPOINTS = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/parley-android/*"
ENDPOINT_ACTIONS = {"sns:CreatePlatformEndpoint", "sns:SetEndpointAttributes", "sns:DeleteEndpoint"}


def notifier_subscription(synth: Synth) -> dict[str, Any]:
    notifier = synth.logical_id(f"Functions/{routes.NOTIFIER}")
    (subscription,) = [s["Properties"] for s in synth.of_type("AWS::SNS::Subscription").values()
                       if s["Properties"]["Endpoint"] == {"Fn::GetAtt": [notifier, "Arn"]}]
    return subscription


def dead_letter_queue_arn(synth: Synth) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id("Push/NotifierDeadLetterQueue"), "Arn"]}


def test_notifier_is_deployed_although_no_route_reaches_it() -> None:
    assert routes.NOTIFIER in deployed_functions()


def test_notifier_receives_only_unread_events(synth: Synth) -> None:
    # given the notifier's subscription
    subscription = notifier_subscription(synth)
    # then SNS invokes it for the unread-events topic's message.unread events only (the topic is shared)
    assert subscription["Protocol"] == "lambda"
    assert subscription["TopicArn"] == {"Ref": synth.logical_id("Events/UnreadEventsTopic")}
    assert subscription["FilterPolicy"] == {"type": [UNREAD_EVENT]}


def test_sns_may_invoke_the_notifier_for_that_topic_only(synth: Synth) -> None:
    notifier = {"Fn::GetAtt": [synth.logical_id(f"Functions/{routes.NOTIFIER}"), "Arn"]}
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == notifier]
    assert [(p["Principal"], p["SourceArn"]) for p in permissions] == [
        ("sns.amazonaws.com", {"Ref": synth.logical_id("Events/UnreadEventsTopic")})]


def test_a_failing_event_is_retried_twice_then_dead_lettered(synth: Synth) -> None:
    # given the notifier raises on an event (docs/push.md: "Failures and retries")
    notifier = synth.logical_id(f"Functions/{routes.NOTIFIER}")
    (invoke_config,) = [c["Properties"] for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
                        if c["Properties"]["FunctionName"] == {"Ref": notifier}]
    # then Lambda retries it twice, and then parks it in the dead-letter queue
    assert invoke_config["MaximumRetryAttempts"] == constants.NOTIFIER_RETRY_ATTEMPTS == 2
    assert synth.resources[notifier]["Properties"]["DeadLetterConfig"] == {"TargetArn": dead_letter_queue_arn(synth)}


def test_an_event_sns_cannot_deliver_is_dead_lettered_too(synth: Synth) -> None:
    # given SNS fails to invoke the notifier (throttled, deleted) / then the event lands in the same queue
    assert notifier_subscription(synth)["RedrivePolicy"] == {"deadLetterTargetArn": dead_letter_queue_arn(synth)}
    queue = {"Ref": synth.logical_id("Push/NotifierDeadLetterQueue")}
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [queue]]
    allowed = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in allowed] == [
        ({"Service": "sns.amazonaws.com"}, "sqs:SendMessage",
         {"ArnEquals": {"aws:SourceArn": {"Ref": synth.logical_id("Events/UnreadEventsTopic")}}})]


def test_dead_letters_are_encrypted_tls_only_and_kept_two_weeks(synth: Synth) -> None:
    queue_id = synth.logical_id("Push/NotifierDeadLetterQueue")
    queue = synth.resources[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
    denied = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denied] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_a_dead_letter_raises_an_alarm(synth: Synth) -> None:
    queue_name = {"Fn::GetAtt": [synth.logical_id("Push/NotifierDeadLetterQueue"), "QueueName"]}
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    assert [(a["MetricName"], a["Threshold"]) for a in alarms
            if {"Name": "QueueName", "Value": queue_name} in a.get("Dimensions", [])] == [
        ("ApproximateNumberOfMessagesVisible", 1)]


@pytest.mark.parametrize("handler", ["devices", routes.NOTIFIER])
def test_without_platform_applications_no_function_touches_endpoints(synth: Synth, handler: str) -> None:
    # given a deployment without pushApnsApplicationArn / pushFcmApplicationArn
    # then registering devices and pushing have no SNS permission at all (registerDevice: push_unavailable)
    assert not actions(synth, handler, "sns:")
    assert not {name for name in synth.resource(f"Functions/{handler}")["Properties"]["Environment"]["Variables"]
                if name.startswith("PARLEY_PUSH_") and name.endswith("_APPLICATION_ARN")}


def test_devices_creates_endpoints_in_the_configured_applications_only(configured: Synth) -> None:
    assert sorted(resources_of(configured, "devices", "sns:CreatePlatformEndpoint")) == sorted([APNS_APP, FCM_APP])


def test_devices_changes_and_deletes_only_those_applications_endpoints(configured: Synth) -> None:
    # given a device endpoint arn:aws:sns:REGION:ACCOUNT:endpoint/APNS/APP/<uuid>
    assert actions(configured, "devices", "sns:") == ENDPOINT_ACTIONS
    for action in ("sns:SetEndpointAttributes", "sns:DeleteEndpoint"):
        assert sorted(resources_of(configured, "devices", action)) == sorted([APNS_ENDPOINTS, FCM_ENDPOINTS])


def test_devices_is_told_the_platform_applications(configured: Synth) -> None:
    variables = configured.resource("Functions/devices")["Properties"]["Environment"]["Variables"]
    assert (variables["PARLEY_PUSH_APNS_APPLICATION_ARN"], variables["PARLEY_PUSH_FCM_APPLICATION_ARN"]) == (
        APNS_APP, FCM_APP)


def test_notifier_pushes_to_and_deletes_only_those_applications_endpoints(configured: Synth) -> None:
    assert actions(configured, routes.NOTIFIER, "sns:") == {"sns:Publish", "sns:DeleteEndpoint"}
    for action in ("sns:Publish", "sns:DeleteEndpoint"):
        assert sorted(resources_of(configured, routes.NOTIFIER, action)) == sorted([APNS_ENDPOINTS, FCM_ENDPOINTS])


def test_notifier_reads_and_writes_the_table(synth: Synth) -> None:
    # profiles, memberships and devices are read; ledger items are claimed and released; dead devices deleted
    assert {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
            "dynamodb:DeleteItem"} <= actions(synth, routes.NOTIFIER, "dynamodb:")


def test_notifier_pushes_in_the_configured_content_mode(configured: Synth) -> None:
    variables = configured.resource(f"Functions/{routes.NOTIFIER}")["Properties"]["Environment"]["Variables"]
    assert variables["PARLEY_PUSH_CONTENT"] == "ids"
