"""SNS publishing of Parley's public events (reports for moderators; unread events for push)."""

from __future__ import annotations

import json

from parley.aws import client
from parley.ports import EventPublisher


class SnsPublisher(EventPublisher):
    def __init__(self, topic_arn: str) -> None:
        self._topic = topic_arn

    def publish(self, event: dict[str, object], event_type: str) -> None:
        client("sns").publish(
            TopicArn=self._topic, Message=json.dumps(event, separators=(",", ":")),
            MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}})
