"""The topics Parley publishes its public events to (docs/events.md), as ``infra/constructs/events.py``
makes them: unread events (the push notifier's, and the host app's) and message reports (moderators')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Topics:
    unread_events: str  # ARN, PARLEY_UNREAD_TOPIC_ARN
    moderation: str  # ARN, PARLEY_MODERATION_TOPIC_ARN


def provision_topics(sns: Any, prefix: str) -> Topics:
    """CreateTopic returns the existing topic of that name."""
    return Topics(unread_events=str(sns.create_topic(Name=f"{prefix}-unread-events")["TopicArn"]),
                  moderation=str(sns.create_topic(Name=f"{prefix}-moderation")["TopicArn"]))
