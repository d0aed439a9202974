"""The public event topics (docs/events.md): always there, KMS-encrypted, TLS only, and published to by the
functions that produce each event and no other."""

from __future__ import annotations

import pytest

from infra import constants
from infra.constructs.functions import deployed_functions
from parley import routes
from tests.infra.policies import actions, resources_of
from tests.infra.synthesis import Synth, render

pytestmark = pytest.mark.infra

TOPICS = ["Events/UnreadEventsTopic", "Events/ModerationTopic"]


def environment(synth: Synth, handler: str) -> dict:
    return synth.resource(f"Functions/{handler}")["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("path", TOPICS)
def test_topic_is_encrypted_with_kms(synth: Synth, path: str) -> None:
    # given a topic the host app may subscribe to / then messages are stored encrypted by SNS's KMS key
    key = render(synth.resource(path)["Properties"]["KmsMasterKeyId"])
    assert key.endswith(f":kms:${{AWS::Region}}:${{AWS::AccountId}}:{constants.SNS_MANAGED_KEY_ALIAS}")


@pytest.mark.parametrize("path", TOPICS)
def test_topic_refuses_publishing_without_tls(synth: Synth, path: str) -> None:
    # given the topic's resource policy
    topic = {"Ref": synth.logical_id(path)}
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"] == [topic]]
    # then a publish over plain HTTP is denied to everyone
    assert {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": topic,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}} in [
        {k: v for k, v in s.items() if k != "Sid"} for s in policy["PolicyDocument"]["Statement"]]


def test_send_publishes_unread_events_and_message_created_and_nothing_else_on_sns(synth: Synth) -> None:
    # given the send function / then it is told the unread-events topic, and the moderation topic (for
    # message.created, when the deployment asks for it)
    topic = synth.logical_id("Events/UnreadEventsTopic")
    events = synth.logical_id("Events/ModerationTopic")
    assert environment(synth, "send")["PARLEY_UNREAD_TOPIC_ARN"] == {"Ref": topic}
    assert environment(synth, "send")["PARLEY_MODERATION_TOPIC_ARN"] == {"Ref": events}
    # and it may publish there, and do nothing else with SNS
    assert actions(synth, "send", "sns:") == {"sns:Publish"}
    assert sorted(resources_of(synth, "send", "sns:Publish")) == sorted([f"${{{topic}}}", f"${{{events}}}"])


def test_reports_publishes_to_the_moderation_topic_only(synth: Synth) -> None:
    topic = synth.logical_id("Events/ModerationTopic")
    assert environment(synth, "reports")["PARLEY_MODERATION_TOPIC_ARN"] == {"Ref": topic}
    assert actions(synth, "reports", "sns:") == {"sns:Publish"}
    assert resources_of(synth, "reports", "sns:Publish") == [f"${{{topic}}}"]


def test_only_the_producers_may_publish_events(synth: Synth) -> None:
    # given a deployment without push / then only send (and deliver, which finishes its work), reports and the
    # functions whose actions have events (docs/events.md), the server API's included (its system messages are
    # unread like any message; bans, deletes and erasures are events), use SNS
    using_sns = {handler for handler in deployed_functions() if actions(synth, handler, "sns:")}
    assert using_sns == {"send", "reports", routes.DELIVER, routes.SERVER_API, "conversations", "groups", "changes"}


@pytest.mark.parametrize("handler", ["conversations", "groups", "changes"])
def test_the_lifecycle_events_go_to_the_moderation_topic_only(synth: Synth, handler: str) -> None:
    topic = synth.logical_id("Events/ModerationTopic")
    assert environment(synth, handler)["PARLEY_MODERATION_TOPIC_ARN"] == {"Ref": topic}
    assert resources_of(synth, handler, "sns:Publish") == [f"${{{topic}}}"]


def test_message_created_events_are_off_unless_asked_for(synth: Synth, configured: Synth) -> None:
    # given the default stack / then send publishes no message.created (the setting's default, false)
    assert "PARLEY_MESSAGE_CREATED_EVENTS" not in environment(synth, "send")
    # given -c PARLEY_MESSAGE_CREATED_EVENTS=true / then send is told to
    assert environment(configured, "send")["PARLEY_MESSAGE_CREATED_EVENTS"] == "true"


def test_events_leave_out_the_text_in_the_content_free_mode(configured: Synth) -> None:
    # given pushContent=ids / then send publishes unread events without the message text
    assert environment(configured, "send")["PARLEY_PUSH_CONTENT"] == "ids"


def test_outputs_name_the_topics_and_the_dead_letter_queue(synth: Synth) -> None:
    outputs = synth.template_json["Outputs"]
    assert outputs["UnreadEventsTopicArn"]["Value"] == {"Ref": synth.logical_id("Events/UnreadEventsTopic")}
    assert outputs["ModerationTopicArn"]["Value"] == {"Ref": synth.logical_id("Events/ModerationTopic")}
    assert outputs["NotifierDeadLetterQueueUrl"]["Value"] == {
        "Ref": synth.logical_id("Push/NotifierDeadLetterQueue")}
