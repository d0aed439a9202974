"""The Lambda functions, one per handler folder named in ``parley.routes``, with the layers they share
and, per function, no more access than its handler uses (``NEEDS``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import compliance, constants, dependencies
from infra.constructs.auth import Auth
from parley import routes
from parley.config import Settings
from parley.table import throttle_pk

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


class TableAccess(Enum):
    NONE = "none"
    READ = "read"
    READ_WRITE = "read_write"


@dataclass(frozen=True)
class Needs:
    """What one handler does with AWS, and so what its function may do."""

    table: TableAccess = TableAccess.NONE
    # Writes its own per-user rate-limit buckets (THROTTLE# items) although it only reads chat data.
    rate_limited: bool = False
    # Posts frames to connections: gets the callback URL and ManageConnections. Delivering also prunes
    # stale connections from the table, so it implies READ_WRITE.
    delivers: bool = False
    timeout: Duration = constants.TIMEOUT


# Every function parley.routes names needs an entry: a new handler's access is a decision, never a default.
NEEDS: Mapping[str, Needs] = {
    "connect": Needs(TableAccess.READ_WRITE, delivers=True),  # records the connection, announces presence
    "disconnect": Needs(TableAccess.READ_WRITE, delivers=True),
    "send": Needs(TableAccess.READ_WRITE, delivers=True, timeout=constants.SEND_TIMEOUT),
    "history": Needs(TableAccess.READ, rate_limited=True),
    "conversations": Needs(TableAccess.READ_WRITE),
    "presence": Needs(TableAccess.READ, rate_limited=True),
    "typing": Needs(TableAccess.READ_WRITE, delivers=True),
    "unread": Needs(TableAccess.READ_WRITE, delivers=True),  # read receipts
    "preferences": Needs(TableAccess.READ_WRITE, delivers=True),  # visibility changes are announced
    "blocks": Needs(TableAccess.READ_WRITE),
    "reports": Needs(TableAccess.READ_WRITE),
    "devices": Needs(TableAccess.READ_WRITE),  # push is off until the stack wires platform applications
    "default": Needs(),
    routes.AUTHORIZER: Needs(),  # reads the token secret only: see Auth.grant_verify
}

# Functions parley.routes names that this stack does not deploy yet, and why.
NOT_DEPLOYED: Mapping[str, str] = {
    "notifier": "push needs the unread-events SNS topic, the notifier's subscription with a dead-letter queue "
                "and the APNs/FCM platform applications; until the stack creates them nothing would invoke it",
}


def deployed_functions() -> list[str]:
    """The functions of ``parley.routes`` this stack deploys."""
    names = [name for name in routes.function_names() if name not in NOT_DEPLOYED]
    missing = sorted(set(names) - set(NEEDS))
    if missing:
        raise ValueError(f"functions {missing} have no entry in NEEDS (infra/constructs/functions.py): "
                         "declare what each may do before it is deployed")
    return names


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


def _connections_arn_pattern(stage: apigwv2.WebSocketStage) -> str:
    """The stage's @connections ARN as cdk-nag prints it (``<LogicalId>`` for the API's Ref)."""
    stack = Stack.of(stage)
    api_resource = stage.api.node.default_child
    assert isinstance(api_resource, CfnElement)
    api_logical_id = stack.resolve(stack.get_logical_id(api_resource))
    return (f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_logical_id}>/"
            f"{stage.stage_name}/*/@connections/*")


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table: dynamodb.ITable, auth: Auth,
                 stage: apigwv2.WebSocketStage, tuned_settings: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        names = deployed_functions()
        self._table = table
        self._stage = stage
        self._tuned_settings = tuned_settings
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

        self.by_name: dict[str, lambda_.Function] = {}
        for name in names:
            if name == routes.AUTHORIZER:
                function = self._function(name, NEEDS[name], settings_environment(auth.environment()),
                                          extra_layers=[self.authorizer_dependencies])
                auth.grant_verify(function)
            else:
                function = self._function(name, NEEDS[name], self._environment(NEEDS[name]))
                self._grant(function, NEEDS[name])
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
        return settings_environment(values)

    def _grant(self, function: lambda_.Function, needs: Needs) -> None:
        if needs.delivers and needs.table is not TableAccess.READ_WRITE:
            raise ValueError(f"{function.node.id}: delivering prunes stale connections, so it needs READ_WRITE")
        if needs.table is TableAccess.READ_WRITE:
            self._table.grant_read_write_data(function)
        elif needs.table is TableAccess.READ:
            self._table.grant_read_data(function)
            if needs.rate_limited:
                # Writes limited to the caller's rate-limit buckets: every other item stays read-only.
                iam.Grant.add_to_principal(
                    grantee=function, actions=["dynamodb:UpdateItem"], resource_arns=[self._table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [THROTTLE_KEYS]}})
        if needs.delivers:
            self._stage.grant_management_api_access(function)
            compliance.acknowledge(
                function.role or function,
                f"AwsSolutions-IAM5[Resource::{_connections_arn_pattern(self._stage)}]",
                "execute-api:ManageConnections on this API's stage only; the connection id at the end "
                "of the @connections path is known at runtime, so it has to be a wildcard.",
            )

    def _function(self, name: str, needs: Needs, environment: Mapping[str, str], *,
                  extra_layers: Sequence[lambda_.ILayerVersion] = ()) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{name}-logs", retention=constants.LOG_RETENTION)
        # An own role with write access to its own log group only, instead of the managed
        # AWSLambdaBasicExecutionRole (which may write to any log group).
        role = iam.Role(self, f"{name}-role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Parley {name} function")
        log_group.grant_write(role)
        handled = sorted(route for route, handler in routes.ROUTES.items() if handler == name)
        function = lambda_.Function(
            self, name,
            description=f"Parley {name}: " + (", ".join(handled) if handled else f"the {name}"),
            code=lambda_.Code.from_asset(str(constants.FUNCTIONS_DIR / name), exclude=constants.ASSET_EXCLUDES),
            handler=constants.HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=constants.MEMORY_MB,
            timeout=needs.timeout,
            role=role,
            layers=[self.parley_layer, self.powertools_layer, *extra_layers],
            environment={
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                **self._tuned_settings,
                **environment,
            },
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        compliance.acknowledge(
            role, "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions, so the only possible resource is '*'.",
        )
        compliance.acknowledge(
            function, "AwsSolutions-L1",
            "python3.13 on purpose: the pinned Powertools layer is its python313 build and the "
            "authorizer's compiled wheels (cryptography) are built for CPython 3.13.",
        )
        return function
