"""The Lambda functions, one per handler folder named in ``parley.routes``, with the layers they share
and, per function, no more access than its handler uses (``NEEDS``): table, connections, event topics,
push endpoints, the moderation hook and the attachments bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import compliance, constants, dependencies
from infra.constructs.attachments import AttachmentAccess, Attachments
from infra.constructs.auth import Auth
from infra.constructs.delivery import Delivery
from infra.constructs.events import Events
from infra.constructs.jobs import Jobs
from infra.constructs.moderation import Moderation
from infra.constructs.push import Push, PushAccess
from infra.constructs.runtime import ARCHITECTURE, DEFAULT_RUNTIME, RUNTIME, RuntimeOptions, lambda_function
from infra.context import ConcurrencyConfig
from parley import routes
from parley.config import Settings
from parley.table import TABLE, throttle_pk


class TableAccess(Enum):
    NONE = "none"
    READ = "read"
    READ_WRITE = "read_write"


@dataclass(frozen=True)
class Needs:
    """What one handler does with AWS, and so what its function may do."""

    table: TableAccess = TableAccess.NONE
    # Queries the table's one secondary index (parley.table.INDEX): reports, audit, bans. Granted on that index
    # by name, not on index/*.
    queries_index: bool = False
    # Writes its own per-user rate-limit buckets (THROTTLE# items) although it only reads chat data.
    rate_limited: bool = False
    # Posts frames to connections: gets the callback URL and ManageConnections. Delivering also prunes
    # stale connections from the table, so it implies READ_WRITE.
    delivers: bool = False
    timeout: Duration = constants.TIMEOUT
    # Publishes one message.unread event per stored message with offline members (docs/events.md).
    publishes_unread_events: bool = False
    # Hands the delivery work it could not finish to the delivery queue (send).
    hands_off_delivery: bool = False
    # Fed by the delivery queue (deliver).
    consumes_deliveries: bool = False
    # Subscribed to the unread-events topic instead of a route: a failed event is retried, then dead-lettered.
    consumes_unread_events: bool = False
    # Publishes to the moderation topic (docs/events.md): message.reported, conversation.created, member.added,
    # member.removed, message.deleted, user.banned, and message.created when the deployment asks for it.
    publishes_events: bool = False
    # Has each message reviewed by the moderation hook, when the deployment has one.
    reviews_messages: bool = False
    # Starts erasure and export jobs and runs their batches, fed by the jobs queue (the server API).
    runs_jobs: bool = False
    # What it does with SNS platform endpoints, when the deployment has push platform applications.
    push: PushAccess = PushAccess.NONE
    # What it does with the attachments bucket; PROCESS also brings the imaging layer (Pillow, pillow-heif).
    attachments: AttachmentAccess = AttachmentAccess.NONE
    # Verifies Ed25519 signatures (the key directory's prekeys): brings the authorizer's dependency layer, whose
    # ``cryptography`` does it.
    verifies_signatures: bool = False
    memory_mb: int = constants.MEMORY_MB  # Lambda gives CPU in proportion


# Every function parley.routes names needs an entry: a new handler's access is a decision, never a default.
NEEDS: Mapping[str, Needs] = {
    "connect": Needs(TableAccess.READ_WRITE, delivers=True),  # records the connection, announces presence
    "disconnect": Needs(TableAccess.READ_WRITE, delivers=True),
    "send": Needs(TableAccess.READ_WRITE, delivers=True, timeout=constants.SEND_TIMEOUT,
                  publishes_unread_events=True, reviews_messages=True, attachments=AttachmentAccess.LINK,
                  hands_off_delivery=True, publishes_events=True,  # message.created, when asked for
                  memory_mb=constants.FUNCTION_MEMORY_MB["send"]),
    # Not a route: finishes what send handed off (connections, unread events, attachment links).
    routes.DELIVER: Needs(TableAccess.READ_WRITE, delivers=True, timeout=constants.DELIVER_TIMEOUT,
                          publishes_unread_events=True, attachments=AttachmentAccess.MARK_SENT,
                          consumes_deliveries=True, memory_mb=constants.FUNCTION_MEMORY_MB[routes.DELIVER]),
    # edit, delete, react: change a message in place, store and deliver the change entry (handing off what it
    # cannot finish, as send does); edits are reviewed like messages; a delete deletes the attachments' files.
    "changes": Needs(TableAccess.READ_WRITE, delivers=True, timeout=constants.SEND_TIMEOUT, reviews_messages=True,
                     hands_off_delivery=True, attachments=AttachmentAccess.DISCARD, publishes_events=True,
                     memory_mb=constants.FUNCTION_MEMORY_MB["changes"]),
    "history": Needs(TableAccess.READ, rate_limited=True),
    "conversations": Needs(TableAccess.READ_WRITE, publishes_events=True),  # conversation.created
    # group changes: one transaction (the group, its change entry, memberships), delivered live like a message
    "groups": Needs(TableAccess.READ_WRITE, delivers=True, hands_off_delivery=True, publishes_events=True),
    "presence": Needs(TableAccess.READ, rate_limited=True),
    "typing": Needs(TableAccess.READ_WRITE, delivers=True),
    "unread": Needs(TableAccess.READ_WRITE, delivers=True),  # read receipts
    "preferences": Needs(TableAccess.READ_WRITE, delivers=True),  # visibility changes are announced
    "blocks": Needs(TableAccess.READ_WRITE),
    "reports": Needs(TableAccess.READ_WRITE, publishes_events=True),
    "devices": Needs(TableAccess.READ_WRITE, push=PushAccess.REGISTER),
    # The key directory of end-to-end encryption (publishKeys, removeDevice, getKeys): its items, memberships and
    # conversations read to tell members of a device change (keysChanged, delivered live), prekey signatures.
    "keys": Needs(TableAccess.READ_WRITE, delivers=True, verifies_signatures=True),
    # Reads memberships and upload records, charges its rate limit, signs uploads and downloads.
    "uploads": Needs(TableAccess.READ, rate_limited=True, attachments=AttachmentAccess.PRESIGN),
    # Not a route: S3 invokes it for every upload. Updates upload records, tells members a sent attachment
    # is ready.
    routes.THUMBNAILS: Needs(TableAccess.READ_WRITE, delivers=True, attachments=AttachmentAccess.PROCESS,
                             timeout=constants.THUMBNAILS_TIMEOUT,
                             memory_mb=constants.FUNCTION_MEMORY_MB[routes.THUMBNAILS]),
    # profiles, memberships, devices and the push ledger; not a route: the unread-events topic invokes it
    routes.NOTIFIER: Needs(TableAccess.READ_WRITE, consumes_unread_events=True, push=PushAccess.DELIVER,
                           timeout=constants.NOTIFIER_TIMEOUT),
    # The server API (not a socket route): conversations, group changes and system messages (stored and
    # delivered like a member's, handing off what it cannot finish), its audit log, reports and bans (read on the
    # index); moderation: bans close connections (DeleteConnection), a delete for everyone deletes the message's
    # files, and both publish their events (user.banned, message.deleted, conversation.created, member.*) to
    # the moderation topic. Also runs erasure and export jobs (docs/server-api.md, "Erasure and export"):
    # deletes a user's device endpoints and files (USER_DATA includes DISCARD's deletes), writes and signs
    # exports, publishes user.erased.
    routes.SERVER_API: Needs(TableAccess.READ_WRITE, queries_index=True, delivers=True, publishes_unread_events=True,
                             hands_off_delivery=True, publishes_events=True, runs_jobs=True, push=PushAccess.ERASE,
                             attachments=AttachmentAccess.USER_DATA, timeout=constants.SEND_TIMEOUT),
    "default": Needs(),
    routes.AUTHORIZER: Needs(),  # reads the token secret only: see Auth.grant_verify
}

# Functions parley.routes names that this stack does not deploy yet, and why.
NOT_DEPLOYED: Mapping[str, str] = {}


def deployed_functions() -> list[str]:
    """The functions of ``parley.routes`` this stack deploys."""
    names = [name for name in routes.function_names() if name not in NOT_DEPLOYED]
    missing = sorted(set(names) - set(NEEDS))
    if missing:
        raise ValueError(f"functions {missing} have no entry in NEEDS (infra/constructs/functions.py): "
                         "declare what each may do before it is deployed")
    return names


# Key-addressed reads and writes only. CDK's grant_read_data/grant_read_write_data include dynamodb:Scan;
# no request path may scan (its cost would grow with the whole table), so no function may.
TABLE_READS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
TABLE_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")

# The partition keys of every rate-limit bucket: any kind, any user, any scope.
THROTTLE_KEYS = throttle_pk("*", "*", "*")


def settings_environment(values: Mapping[str, str]) -> dict[str, str]:
    """Environment variables from ``parley.config.Settings`` field names: the variable names come from
    the model the handlers read, so a renamed or misspelt setting fails synth instead of a deployment."""
    environment = {}
    for name, value in values.items():
        alias = Settings.model_fields[name].alias  # KeyError: Settings has no such field
        if not alias:
            raise ValueError(f"Settings.{name} has no environment variable name")
        environment[alias] = value
    return environment


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table: dynamodb.ITable, auth: Auth,
                 stage: apigwv2.WebSocketStage, events: Events, push: Push, moderation: Moderation,
                 attachments: Attachments, delivery: Delivery, jobs: Jobs, concurrency: ConcurrencyConfig,
                 tuned_settings: Mapping[str, str], runtime: RuntimeOptions = DEFAULT_RUNTIME) -> None:
        super().__init__(scope, construct_id)
        names = deployed_functions()
        unknown = sorted(set(concurrency.reserved) - set(names))
        if unknown:
            raise ValueError(f"reserved concurrency for functions this stack does not deploy: {unknown}")
        self._concurrency = concurrency
        self._table = table
        self._stage = stage
        self._events = events
        self._push = push
        self._moderation = moderation
        self._attachments = attachments
        self._delivery = delivery
        self._jobs = jobs
        self._tuned_settings = tuned_settings
        self._runtime = runtime
        self.parley_layer = lambda_.LayerVersion(
            self, "ParleyLayer",
            code=lambda_.Code.from_asset(str(constants.PARLEY_LAYER_DIR), exclude=constants.ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Parley's core (/opt/python/parley)",
        )
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", constants.POWERTOOLS_LAYER_ARN.format(region=Stack.of(self).region))
        self.authorizer_dependencies = lambda_.LayerVersion(
            self, "AuthorizerDependencies",
            code=lambda_.Code.from_asset(str(dependencies.layer_folder()), exclude=constants.ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="PyJWT[crypto] for the $connect authorizer (linux arm64, CPython 3.13 wheels)",
        )
        self.imaging_layer = lambda_.LayerVersion(
            self, "ImagingDependencies",
            code=lambda_.Code.from_asset(str(dependencies.layer_folder(constants.THUMBNAILS_REQUIREMENTS)),
                                         exclude=constants.ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Pillow and pillow-heif for the thumbnail maker (linux arm64, CPython 3.13 wheels)",
        )

        self.by_name: dict[str, lambda_.Function] = {}
        for name in names:
            if name == routes.AUTHORIZER:
                function = self._function(name, NEEDS[name], settings_environment(auth.environment()),
                                          extra_layers=[self.authorizer_dependencies])
                auth.grant_verify(function)
            else:
                processes = NEEDS[name].attachments is AttachmentAccess.PROCESS
                layers = [self.imaging_layer] if processes else []
                layers += [self.authorizer_dependencies] if NEEDS[name].verifies_signatures else []
                function = self._function(name, NEEDS[name], self._environment(NEEDS[name]), extra_layers=layers)
                self._grant(function, NEEDS[name])
                if processes:
                    attachments.process_uploads_with(function)
            if NEEDS[name].consumes_unread_events:
                push.subscribe(function)
            if NEEDS[name].consumes_deliveries:
                delivery.feed(function)
            if NEEDS[name].runs_jobs:
                jobs.run_with(function)
            self.by_name[name] = function

    @property
    def authorizer(self) -> lambda_.Function:
        return self.by_name[routes.AUTHORIZER]

    def _environment(self, needs: Needs) -> dict[str, str]:
        values: dict[str, str] = {}
        if needs.table is not TableAccess.NONE:
            values["table_name"] = self._table.table_name
        if needs.delivers:
            values["callback_url"] = self._stage.callback_url
        if needs.publishes_unread_events:
            values["unread_topic_arn"] = self._events.unread_events.topic_arn
            values["push_content"] = self._push.config.content  # whether events carry the text
        if needs.publishes_events:
            values["moderation_topic_arn"] = self._events.moderation.topic_arn
        if needs.hands_off_delivery:
            values.update(self._delivery.environment())
        if needs.runs_jobs:
            values.update(self._jobs.environment())
        if needs.reviews_messages:
            values.update(self._moderation.review_environment())
        values.update(self._push.environment(needs.push))
        values.update(self._attachments.environment(needs.attachments))
        return settings_environment(values)

    def _grant(self, function: lambda_.Function, needs: Needs) -> None:
        if needs.delivers and needs.table is not TableAccess.READ_WRITE:
            raise ValueError(f"{function.node.id}: delivering prunes stale connections, so it needs READ_WRITE")
        # On the table's own ARN: Table.grant would add index/* as soon as the table has an index.
        if needs.table is TableAccess.READ_WRITE:
            iam.Grant.add_to_principal(grantee=function, actions=[*TABLE_READS, *TABLE_WRITES],
                                       resource_arns=[self._table.table_arn])
        elif needs.table is TableAccess.READ:
            iam.Grant.add_to_principal(grantee=function, actions=list(TABLE_READS),
                                       resource_arns=[self._table.table_arn])
            if needs.rate_limited:
                # Writes limited to the caller's rate-limit buckets: every other item stays read-only.
                iam.Grant.add_to_principal(
                    grantee=function, actions=["dynamodb:UpdateItem"], resource_arns=[self._table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [THROTTLE_KEYS]}})
        if needs.queries_index:
            iam.Grant.add_to_principal(grantee=function, actions=["dynamodb:Query"],
                                       resource_arns=[f"{self._table.table_arn}/index/{TABLE.index.name}"])
        if needs.delivers:
            self._stage.grant_management_api_access(function)
            connections = compliance.execute_api_pattern(self._stage.api, f"{self._stage.stage_name}/*/@connections/*")
            compliance.acknowledge(
                function.role or function, f"AwsSolutions-IAM5[Resource::{connections}]",
                "execute-api:ManageConnections on this API's stage only; the connection id at the end "
                "of the @connections path is known at runtime, so it has to be a wildcard.",
            )
        if needs.publishes_unread_events:
            self._events.unread_events.grant_publish(function)
        if needs.publishes_events:
            self._events.moderation.grant_publish(function)
        if needs.hands_off_delivery:
            self._delivery.grant_hand_off(function)
        if needs.reviews_messages:
            self._moderation.grant_review(function)
        self._push.grant(function, needs.push)
        self._attachments.grant(function, needs.attachments)

    def _function(self, name: str, needs: Needs, environment: Mapping[str, str], *,
                  extra_layers: Sequence[lambda_.ILayerVersion] = ()) -> lambda_.Function:
        handled = sorted(route for route, handler in routes.ROUTES.items() if handler == name)
        dead_letters = self._dead_letters(needs)
        return lambda_function(
            self, name,
            code=constants.FUNCTIONS_DIR / name,
            description=f"Parley {name}: " + (", ".join(handled) if handled else f"the {name}"),
            timeout=needs.timeout,
            memory_mb=needs.memory_mb,
            layers=[self.parley_layer, self.powertools_layer, *extra_layers],
            environment={
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                **self._tuned_settings,
                **environment,
            },
            runtime_reason="python3.13 on purpose: the pinned Powertools layer is its python313 build, and the "
                           "compiled wheels of the authorizer (cryptography) and the thumbnail maker (Pillow) "
                           "are built for CPython 3.13.",
            dead_letter_queue=dead_letters[0] if dead_letters else None,
            retry_attempts=dead_letters[1] if dead_letters else None,
            reserved_concurrency=self._concurrency.reserved.get(name),
            options=self._runtime,
        )

    def _dead_letters(self, needs: Needs) -> tuple[sqs.IQueue, int] | None:
        """For a function invoked asynchronously (by SNS or S3, not a route): where an event ends after how
        many retries. A route's caller gets the error instead."""
        if needs.consumes_unread_events:
            return self._push.dead_letter_queue, constants.NOTIFIER_RETRY_ATTEMPTS
        if needs.attachments is AttachmentAccess.PROCESS:
            return self._attachments.dead_letter_queue, constants.THUMBNAILS_RETRY_ATTEMPTS
        return None
