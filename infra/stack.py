"""Parley's stack: composes one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.attachments import Attachments
from infra.constructs.auth import Auth
from infra.constructs.delivery import Delivery
from infra.constructs.events import Events
from infra.constructs.functions import Functions
from infra.constructs.moderation import Moderation
from infra.constructs.monitoring import Monitoring
from infra.constructs.push import Push
from infra.constructs.storage import Storage
from infra.constructs.websocket_api import WebSocketApi
from infra.context import DeploymentConfig


class ParleyStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = Storage(self, "Storage", config=config.storage)
        auth = Auth(self, "Auth", config=config.auth, table=storage.table)
        api = WebSocketApi(self, "WebSocket", throttle=config.throttle)
        events = Events(self, "Events")
        push = Push(self, "Push", config=config.push, unread_events=events.unread_events)
        moderation = Moderation(self, "Moderation", config=config.moderation)
        attachments = Attachments(self, "Attachments", config=config.attachments,
                                  allowed_origins=config.auth.allowed_origins)
        delivery = Delivery(self, "Delivery")
        functions = Functions(self, "Functions", table=storage.table, auth=auth, stage=api.stage, events=events,
                              push=push, moderation=moderation, attachments=attachments, delivery=delivery,
                              concurrency=config.concurrency, tuned_settings=config.settings)
        api.add_routes(functions)
        Monitoring(self, "Monitoring", functions=[*functions.by_name.values(), *moderation.functions],
                   api=api.api, dead_letter_queues=[push.dead_letter_queue, attachments.dead_letter_queue,
                                                    delivery.dead_letter_queue])

        CfnOutput(self, "WebSocketUrl", value=api.stage.url,
                  description="Where chat clients connect (add ?token=<chat token>)")
        CfnOutput(self, "CallbackUrl", value=api.stage.callback_url,
                  description="The @connections management endpoint that delivering functions post to")
        if auth.secret is not None:
            CfnOutput(self, "TokenSecretArn", value=auth.secret.secret_arn,
                      description="The HS256 key the host app's backend signs chat tokens with")
        CfnOutput(self, "UnreadEventsTopicArn", value=events.unread_events.topic_arn,
                  description="message.unread events (docs/events.md): subscribe your own consumers here")
        CfnOutput(self, "ModerationTopicArn", value=events.moderation.topic_arn,
                  description="message.reported events (docs/events.md) for the host app's moderators")
        CfnOutput(self, "NotifierDeadLetterQueueUrl", value=push.dead_letter_queue.queue_url,
                  description="Unread events the push notifier failed on after its retries (kept 14 days)")
        CfnOutput(self, "DeliveryDeadLetterQueueUrl", value=delivery.dead_letter_queue.queue_url,
                  description="Deliveries of stored messages that failed every attempt (kept 14 days): redrive "
                              "them to the delivery queue once the cause is fixed")
        CfnOutput(self, "ThumbnailsDeadLetterQueueUrl", value=attachments.dead_letter_queue.queue_url,
                  description="Upload events the thumbnail maker failed on after its retries (kept 14 days)")
        CfnOutput(self, "UploadsBucketName", value=attachments.bucket.bucket_name,
                  description="Where apps upload photos and voice messages through presigned POSTs (private)")
