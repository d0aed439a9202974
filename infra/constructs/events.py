"""The SNS topics Parley publishes its public events to (docs/events.md): unread events, for push and the
host app's own consumers, and moderation and lifecycle events (reports, bans, conversations, members, deleted
and, when asked for, created messages), for its moderators and its own backend. Both always exist, so a host app can
subscribe whatever else the deployment has switched on."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # SNS's AWS managed key: the publishers are Parley's own functions, whose IAM policies suffice, and
        # SNS decrypts before it delivers, so subscribers (Lambda, SQS, HTTPS) need no key access either.
        # A customer managed key would only be needed for AWS services publishing (alarms, EventBridge).
        key = kms.Alias.from_alias_name(self, "SnsManagedKey", constants.SNS_MANAGED_KEY_ALIAS)
        self.unread_events = sns.Topic(
            self, "UnreadEventsTopic", display_name="Parley unread events (message.unread)",
            master_key=key, enforce_ssl=True)
        self.moderation = sns.Topic(
            self, "ModerationTopic", display_name="Parley moderation and lifecycle events (docs/events.md)",
            master_key=key, enforce_ssl=True)
