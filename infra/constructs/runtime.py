"""How every Lambda function of the stack runs: python3.13 on arm64, JSON logs in a log group of its own
with retention, X-Ray (active tracing, or off) without responses or errors, and a role of its own that may
write to that log group only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import compliance, constants

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Powertools' Tracer records a traced function's response and exception in X-Ray unless told otherwise; both
# may carry message text. parley.observability's tracer never records them anyway; this also covers any other
# Tracer or traced method, and is set last so that no function's own environment can switch it back on.
CONTENT_FREE_TRACING = {
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
}

# With tracing off, Powertools' Tracer must not try to send segments either.
TRACING_OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}


@dataclass(frozen=True)
class RuntimeOptions:
    """What a Parley construct decides for every function it deploys (the ``Parley`` props of the same
    names): how long logs are kept, whether X-Ray traces them, and whether their log groups outlive them."""

    log_retention: logs.RetentionDays = constants.LOG_RETENTION
    tracing: bool = True
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN


DEFAULT_RUNTIME = RuntimeOptions()


def lambda_function(scope: Construct, construct_id: str, *, code: Path, description: str, timeout: Duration,
                    environment: Mapping[str, str], runtime_reason: str,
                    layers: Sequence[lambda_.ILayerVersion] = (), memory_mb: int = constants.MEMORY_MB,
                    dead_letter_queue: sqs.IQueue | None = None,
                    retry_attempts: int | None = None,
                    reserved_concurrency: int | None = None,
                    options: RuntimeOptions = DEFAULT_RUNTIME) -> lambda_.Function:
    """A function built from the folder ``code`` (handler ``handler.lambda_handler``).

    ``runtime_reason`` says why it stays on python3.13 (cdk-nag AwsSolutions-L1 asks for the newest runtime).
    ``dead_letter_queue`` and ``retry_attempts`` apply to asynchronous invocations (SNS, S3).
    ``reserved_concurrency``: executions kept for this function, and the most it may run at once.
    """
    log_group = logs.LogGroup(scope, f"{construct_id}-logs", retention=options.log_retention,
                              removal_policy=options.removal_policy)
    # An own role with write access to its own log group only, instead of the managed
    # AWSLambdaBasicExecutionRole (which may write to any log group).
    role = iam.Role(scope, f"{construct_id}-role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=f"Parley {construct_id} function")
    log_group.grant_write(role)
    function = lambda_.Function(
        scope, construct_id,
        description=description,
        code=lambda_.Code.from_asset(str(code), exclude=constants.ASSET_EXCLUDES),
        handler=constants.HANDLER,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        memory_size=memory_mb,
        timeout=timeout,
        role=role,
        layers=list(layers),
        environment={**environment, **CONTENT_FREE_TRACING, **({} if options.tracing else TRACING_OFF)},
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE if options.tracing else lambda_.Tracing.DISABLED,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=retry_attempts,
        reserved_concurrent_executions=reserved_concurrency,
    )
    if options.tracing:
        compliance.acknowledge(
            role, "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions, so the only possible resource is '*'.",
        )
    compliance.acknowledge(function, "AwsSolutions-L1", runtime_reason)
    return function
