"""``Parley``: the whole chat backend as one construct (L3), for a host app to place in a stack of its own.

    from infra import AuthConfig, Parley

    chat = Parley(self, "Chat", stage="dev", removal_policy=RemovalPolicy.DESTROY,
                  auth=AuthConfig(mode=AuthMode.JWKS, jwks_url=..., issuers=(...,), audiences=(...,)))
    CfnOutput(self, "ChatUrl", value=chat.web_socket_url)

Every prop is typed and checked when the construct is built: a typo fails ``cdk synth``. docs/deploying.md
describes each. Several instances may share an account, a region and even a stack: nothing has a fixed
physical name, and each instance's ``stage`` (unique within its stack) tells their metrics apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.constructs.admin_console import ADMIN_GROUP, AdminConsole
from infra.constructs.attachments import Attachments
from infra.constructs.auth import Auth
from infra.constructs.delivery import Delivery
from infra.constructs.events import Events
from infra.constructs.functions import NEEDS, Functions
from infra.constructs.jobs import Jobs
from infra.constructs.moderation import Moderation
from infra.constructs.monitoring import Monitoring
from infra.constructs.push import Push
from infra.constructs.runtime import RuntimeOptions
from infra.constructs.server_api import ServerApi
from infra.constructs.storage import Storage
from infra.constructs.websocket_api import CustomDomain, WebSocketApi
from infra.context import (
    AttachmentsConfig,
    AuthConfig,
    ConcurrencyConfig,
    ModerationConfig,
    PushConfig,
    ThrottleConfig,
    tuned_settings,
)
from parley import routes

_TAG_KEY = re.compile(r"[\w.:/=+@ -]{1,128}")


class Parley(Construct):
    """Parley's resources under one construct. Attributes for the host app to wire up: ``web_socket_url``,
    ``callback_url``, ``server_api_url`` (with ``server_api_read_only_policy`` and
    ``server_api_full_access_policy``, and the roles ``server_api_read_only_role`` and ``server_api_full_access_role``
    when ``server_api_callers`` is given), ``table``, ``uploads_bucket``, ``unread_events_topic``, ``moderation_topic``,
    ``token_secret`` (hs256 mode), ``alarm_topic``, ``alarms``, ``dashboard``, the dead-letter queues and
    ``admin_console`` (its ``url``, ``user_pool``, ``distribution``; None when turned off)."""

    def __init__(self, scope: Construct, construct_id: str, *,
                 stage: str = constants.STAGE_NAME,
                 auth: AuthConfig | None = None,
                 push: PushConfig | None = None,
                 moderation: ModerationConfig | None = None,
                 attachments: AttachmentsConfig | None = None,
                 throttle: ThrottleConfig | None = None,
                 concurrency: ConcurrencyConfig | None = None,
                 settings: Mapping[str, str | int | bool] | None = None,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 table_deletion_protection: bool | None = None,
                 log_retention: logs.RetentionDays = constants.LOG_RETENTION,
                 tracing: bool = True,
                 tags: Mapping[str, str] | None = None,
                 alarm_topic: sns.ITopic | None = None,
                 alarm_email: str | None = None,
                 domain: CustomDomain | None = None,
                 server_api_callers: Sequence[iam.IPrincipal] = (),
                 admin_console: bool = True,
                 console_full_access: bool = False,
                 outputs: bool = True) -> None:
        """
        :param stage: the API stage's name (``wss://.../<stage>``), and with the stack's name the
            ``deployment`` dimension of every custom metric; unique among the Parley instances of a stack.
        :param auth: how chat tokens are checked (default: hs256 with a generated secret).
        :param push: SNS platform applications for APNs / FCM (default: push off).
        :param moderation: a moderation hook (default: none).
        :param attachments: upload limits and retention.
        :param throttle: the stage's rate and burst limits.
        :param concurrency: reserved concurrency per function.
        :param settings: tunable ``PARLEY_*`` settings (``{"PARLEY_MAX_GROUP_MEMBERS": 50}``).
        :param removal_policy: RETAIN (default) keeps the table and the buckets when the stack is deleted or
            the construct removed; DESTROY deletes them, with their contents (dev stages).
        :param table_deletion_protection: DynamoDB deletion protection; default: on exactly when retained.
        :param log_retention: how long the functions' logs and the API's access logs are kept.
        :param tracing: X-Ray active tracing of every function (Lambda samples it; docs/deploying.md), or off.
        :param tags: cost-allocation tags for every resource of the construct (``service=parley`` and
            ``parley:stage=<stage>`` are always added).
        :param alarm_topic: an SNS topic every alarm (and its return to OK) is sent to.
        :param alarm_email: or an address: the construct makes an encrypted topic and subscribes it.
        :param domain: a custom domain for the WebSocket API.
        :param server_api_callers: principals (your backend's role or account) that may assume a read-only and a
            full-access role for the server API; none (default): only the two managed policies are made.
        :param admin_console: the admin console (docs/admin.md): its pages behind CloudFront, its operators' Cognito
            user pool and the server API's ``/console`` route; False: none of it.
        :param console_full_access: the console's conversation page shows every message's text, not only reported
            messages' (``PARLEY_CONSOLE_FULL_ACCESS``; each read is audited).
        :param outputs: whether to add CloudFormation outputs (the URLs, topics, queues and bucket).
        """
        super().__init__(scope, construct_id)
        self._check(stage, alarm_topic, alarm_email, tags or {})
        self.stage_name = stage
        self.deployment = f"{_root_stack(self).stack_name}-{stage}"
        auth = auth or AuthConfig()
        push = push or PushConfig()
        moderation = moderation or ModerationConfig()
        attachments = attachments or AttachmentsConfig()
        tuned = tuned_settings({key: value for key, value in (settings or {}).items()}.get)
        if not tracing and tuned.get("PARLEY_XRAY_SUBSEGMENTS") == "true":
            raise ValueError("PARLEY_XRAY_SUBSEGMENTS=true needs tracing on")
        runtime = RuntimeOptions(log_retention=log_retention, tracing=tracing, removal_policy=removal_policy)
        self._runtime = runtime

        storage = Storage(self, "Storage", removal_policy=removal_policy,
                          deletion_protection=table_deletion_protection)
        self.auth = Auth(self, "Auth", config=auth, table=storage.table)
        api = WebSocketApi(self, "WebSocket", throttle=throttle or ThrottleConfig(), stage_name=stage,
                           api_name=f"parley-{self.deployment}", log_retention=log_retention,
                           removal_policy=removal_policy, domain=domain)
        events = Events(self, "Events")
        push_ = Push(self, "Push", config=push, unread_events=events.unread_events)
        moderation_ = Moderation(self, "Moderation", config=moderation, runtime=runtime)
        attachments_ = Attachments(self, "Attachments", config=attachments, allowed_origins=auth.allowed_origins,
                                   removal_policy=removal_policy)
        delivery = Delivery(self, "Delivery")
        self.functions = Functions(
            self, "Functions", table=storage.table, auth=self.auth, stage=api.stage, events=events, push=push_,
            moderation=moderation_, attachments=attachments_, delivery=delivery,
            # erasure and export batches; one dead-letter queue with the delivery queue's: fewer resources
            jobs=Jobs(self, "Jobs", worker_timeout=NEEDS[routes.SERVER_API].timeout,
                      dead_letter_queue=delivery.dead_letter_queue),
            concurrency=concurrency or ConcurrencyConfig(),
            tuned_settings={**tuned, "PARLEY_DEPLOYMENT": self.deployment}, runtime=runtime)
        api.add_routes(self.functions)
        server_api = ServerApi(self, "ServerApi", function=self.functions.by_name[routes.SERVER_API],
                               api_name=f"parley-{self.deployment}-server", log_retention=log_retention,
                               removal_policy=removal_policy, callers=server_api_callers)
        self.admin_console = self._console(admin_console, console_full_access, server_api, attachments_.access_logs,
                                           [push_.dead_letter_queue, attachments_.dead_letter_queue,
                                            delivery.dead_letter_queue])
        self.monitoring = Monitoring(
            self, "Monitoring", functions=[*self.functions.by_name.values(), *moderation_.functions], api=api.api,
            dead_letter_queues=[push_.dead_letter_queue, attachments_.dead_letter_queue,
                                delivery.dead_letter_queue],
            deployment=self.deployment, alarm_topic=alarm_topic, alarm_email=alarm_email,
            removal_policy=removal_policy)

        # --- what the host app wires up ---
        self.api: apigwv2.WebSocketApi = api.api
        self.api_stage: apigwv2.WebSocketStage = api.stage
        self.custom_domain: apigwv2.DomainName | None = api.domain_name
        self.web_socket_url: str = api.url
        self.callback_url: str = api.stage.callback_url
        self.table: dynamodb.Table = storage.table
        self.uploads_bucket: s3.Bucket = attachments_.bucket
        self.unread_events_topic: sns.Topic = events.unread_events
        self.moderation_topic: sns.Topic = events.moderation
        self.token_secret: secretsmanager.Secret | None = self.auth.secret
        self.notifier_dead_letter_queue: sqs.Queue = push_.dead_letter_queue
        self.delivery_dead_letter_queue: sqs.Queue = delivery.dead_letter_queue  # the jobs queue's too
        self.thumbnails_dead_letter_queue: sqs.Queue = attachments_.dead_letter_queue
        self.alarm_topic: sns.ITopic | None = self.monitoring.alarm_topic
        self.alarms: list[cloudwatch.Alarm] = self.monitoring.alarms
        self.dashboard: cloudwatch.Dashboard = self.monitoring.dashboard
        self._expose(server_api)

        Tags.of(self).add("service", constants.SERVICE_NAME)
        Tags.of(self).add("parley:stage", stage)
        for key, value in (tags or {}).items():
            Tags.of(self).add(key, value)
        if outputs:
            self._outputs()

    def _console(self, wanted: bool, full_access: bool, server_api: ServerApi, access_logs: s3.IBucket,
                 dead_letter_queues: list[sqs.Queue]) -> AdminConsole | None:
        if not wanted:
            if full_access:
                raise ValueError("console_full_access needs admin_console")
            return None
        function = self.functions.by_name[routes.SERVER_API]
        for name, value in {"PARLEY_CONSOLE_ADMIN_GROUP": ADMIN_GROUP,
                            "PARLEY_CONSOLE_FULL_ACCESS": "true" if full_access else "false",
                            "PARLEY_CONSOLE_DEAD_LETTER_QUEUES": ",".join(q.queue_name for q in dead_letter_queues)
                            }.items():
            function.add_environment(name, value)
        return AdminConsole(self, "AdminConsole", http_api=server_api.api, integration=server_api.integration,
                            function=function,
                            access_logs=access_logs, deployment=self.deployment,
                            removal_policy=self._runtime.removal_policy, log_retention=self._runtime.log_retention)

    def _expose(self, server_api: ServerApi) -> None:
        """The server API's attributes for the host app."""
        self.server_api: apigwv2.HttpApi = server_api.api
        self.server_api_url: str = server_api.url
        self.server_api_read_only_policy: iam.ManagedPolicy = server_api.read_only_policy
        self.server_api_full_access_policy: iam.ManagedPolicy = server_api.full_access_policy
        self.server_api_read_only_role: iam.Role | None = server_api.read_only_role
        self.server_api_full_access_role: iam.Role | None = server_api.full_access_role

    def _check(self, stage: str, alarm_topic: sns.ITopic | None, alarm_email: str | None,
               tags: Mapping[str, str]) -> None:
        """Props refused before anything is built."""
        if not re.fullmatch(constants.STAGE_NAME_PATTERN, stage):
            raise ValueError(f"stage {stage!r}: 1-64 letters, digits, '-' or '_'")
        root = _root_stack(self)
        for sibling in root.node.find_all():
            if isinstance(sibling, Parley) and sibling is not self and sibling.stage == stage:
                raise ValueError(f"two Parley instances in stack {root.stack_name} with stage {stage!r}: "
                                 "their metrics would be one series; give each its own stage")
        if alarm_topic is not None and alarm_email is not None:
            raise ValueError("alarm_topic and alarm_email: subscribe the address to your topic, or give only "
                             "the address")
        for key, value in tags.items():
            if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:") or len(value) > 256:
                raise ValueError(f"tag {key!r}: 1-128 characters (letters, digits, spaces, _.:/=+-@), not aws:, "
                                 "and a value of at most 256")

    @property
    def stage(self) -> str:
        return self.stage_name

    def _outputs(self) -> None:
        CfnOutput(self, "WebSocketUrl", value=self.web_socket_url,
                  description="Where chat clients connect (add ?token=<chat token>)")
        CfnOutput(self, "CallbackUrl", value=self.callback_url,
                  description="The @connections management endpoint that delivering functions post to")
        if self.token_secret is not None:
            CfnOutput(self, "TokenSecretArn", value=self.token_secret.secret_arn,
                      description="The HS256 key the host app's backend signs chat tokens with")
        CfnOutput(self, "UnreadEventsTopicArn", value=self.unread_events_topic.topic_arn,
                  description="message.unread events (docs/events.md): subscribe your own consumers here")
        CfnOutput(self, "ModerationTopicArn", value=self.moderation_topic.topic_arn,
                  description="message.reported, conversation.created, member.added/removed, message.deleted, "
                              "user.banned (and opt-in message.created) events (docs/events.md)")
        CfnOutput(self, "NotifierDeadLetterQueueUrl", value=self.notifier_dead_letter_queue.queue_url,
                  description="Unread events the push notifier failed on after its retries (kept 14 days)")
        CfnOutput(self, "DeliveryDeadLetterQueueUrl", value=self.delivery_dead_letter_queue.queue_url,
                  description="Deliveries of stored messages, and erasure or export batches, that failed every "
                              "attempt (kept 14 days): redrive them to their source queues once the cause is fixed")
        CfnOutput(self, "ThumbnailsDeadLetterQueueUrl", value=self.thumbnails_dead_letter_queue.queue_url,
                  description="Upload events the thumbnail maker failed on after its retries (kept 14 days)")
        CfnOutput(self, "UploadsBucketName", value=self.uploads_bucket.bucket_name,
                  description="Where apps upload photos and voice messages through presigned POSTs (private)")
        CfnOutput(self, "TableName", value=self.table.table_name,
                  description="Parley's DynamoDB table (retained with the stack unless removal_policy=DESTROY)")
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name,
                  description="The CloudWatch dashboard of this Parley deployment")
        CfnOutput(self, "ServerApiUrl", value=self.server_api_url,
                  description="The server API for the host app's backend (IAM, SigV4): docs/server-api.md")
        CfnOutput(self, "ServerApiReadOnlyPolicyArn", value=self.server_api_read_only_policy.managed_policy_arn,
                  description="Attach to a role that may read the server API (GET routes, the audit log)")
        CfnOutput(self, "ServerApiFullAccessPolicyArn", value=self.server_api_full_access_policy.managed_policy_arn,
                  description="Attach to the role of the backend that calls the server API (every route)")
        if self.admin_console is not None:
            CfnOutput(self, "AdminConsoleUrl", value=self.admin_console.url,
                      description="The admin console (docs/admin.md): operators sign in with the user pool below")
            CfnOutput(self, "AdminConsoleUserPoolId", value=self.admin_console.user_pool.user_pool_id,
                      description="The console's operators: add a user, then to the 'admins' group")
        for name, role in (("ServerApiReadOnlyRoleArn", self.server_api_read_only_role),
                           ("ServerApiFullAccessRoleArn", self.server_api_full_access_role)):
            if role is not None:
                CfnOutput(self, name, value=role.role_arn,
                          description="Assumed by the host app's backend (server_api_callers) to call the server API")


def _root_stack(scope: Construct) -> Stack:
    """The deployed stack a construct is in: its own stack, or for a nested stack the top-level one, whose
    name is known at synth (a nested stack's own name is not; metrics and API names use the top-level one)."""
    stack = Stack.of(scope)
    while stack.nested_stack_parent is not None:
        stack = stack.nested_stack_parent
    return stack
