"""Push notifications (docs/push.md): the notifier's subscription to the unread-events topic with its
dead-letter queue, and what registering devices and pushing to them may do with the deploying team's
SNS platform applications. Without platform applications push is off and nothing may touch SNS endpoints."""

from __future__ import annotations

from enum import Enum

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import compliance, constants
from infra.context import PlatformApplication, PushConfig
from parley.unread_events import UNREAD_EVENT


class PushAccess(Enum):
    NONE = "none"
    # registerDevice / unregisterDevice: creates, re-enables, re-owns and deletes device endpoints.
    REGISTER = "register"
    # The notifier: publishes to device endpoints and deletes the ones the platform reports dead.
    DELIVER = "deliver"
    # The server API's erasure: deletes the erased user's device endpoints.
    ERASE = "erase"


_ACTIONS = {
    PushAccess.REGISTER: ["sns:SetEndpointAttributes", "sns:DeleteEndpoint"],
    PushAccess.DELIVER: ["sns:Publish", "sns:DeleteEndpoint"],
    PushAccess.ERASE: ["sns:DeleteEndpoint"],
}


class Push(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PushConfig,
                 unread_events: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self._unread_events = unread_events
        # Where an unread event ends when the notifier never handled it: Lambda puts it here after the
        # retries (with the error in the message attributes), SNS when it could not invoke the function.
        self.dead_letter_queue = sqs.Queue(
            self, "NotifierDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.DEAD_LETTER_RETENTION,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.config.applications)

    def subscribe(self, notifier: lambda_.IFunction) -> None:
        """The notifier receives the unread events (only those: the topic is the host app's too)."""
        self._unread_events.add_subscription(subscriptions.LambdaSubscription(
            notifier,
            filter_policy={"type": sns.SubscriptionFilter.string_filter(allowlist=[UNREAD_EVENT])},
            dead_letter_queue=self.dead_letter_queue,
        ))

    def environment(self, access: PushAccess) -> dict[str, str]:
        """Settings field name -> value, for a function with ``access``."""
        if access is PushAccess.REGISTER:
            values = {}
            if self.config.apns is not None:
                values["push_apns_application_arn"] = self.config.apns.arn
            if self.config.fcm is not None:
                values["push_fcm_application_arn"] = self.config.fcm.arn
            return values
        if access is PushAccess.DELIVER:
            return {"push_content": self.config.content}
        return {}

    def grant(self, function: lambda_.Function, access: PushAccess) -> None:
        """What ``access`` needs, on the configured platform applications and their endpoints only."""
        if access is PushAccess.NONE or not self.enabled:
            return
        if access is PushAccess.REGISTER:
            iam.Grant.add_to_principal(grantee=function, actions=["sns:CreatePlatformEndpoint"],
                                       resource_arns=[app.arn for app in self.config.applications])
        iam.Grant.add_to_principal(grantee=function, actions=_ACTIONS[access],
                                   resource_arns=[app.endpoints for app in self.config.applications])
        for app in self.config.applications:
            compliance.acknowledge(function.role or function, f"AwsSolutions-IAM5[Resource::{app.endpoints}]",
                                   _endpoints_reason(app))


def _endpoints_reason(app: PlatformApplication) -> str:
    return (f"SNS names a device endpoint endpoint/{app.platform}/{app.name}/<uuid> when a device registers, "
            f"so the endpoints of the {app.name} platform application can only be named with a wildcard for "
            "that uuid; no other application's endpoints, and no topic, match it.")
