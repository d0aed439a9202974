"""The server API (docs/server-api.md): an HTTP API whose every route is authorized with AWS IAM (SigV4), one
``ANY /{proxy+}`` route to the ``server_api`` function, a ``$default`` stage with access logs and throttling,
and two IAM managed policies for the host app's backend to attach to its own role: read-only (``GET`` routes)
and full access. Given the principals that may call it (``callers``), it also makes a read-only and a full-access
role with those policies, which they assume."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jsii
from aws_cdk import CfnElement, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import compliance, constants

STAGE = "$default"
# One JSON object per request; never the body or the Authorization header.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId", "requestTime": "$context.requestTimeEpoch",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "caller": "$context.identity.userArn", "sourceIp": "$context.identity.sourceIp",
    "latencyMs": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))


class ServerApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, api_name: str,
                 log_retention: logs.RetentionDays = constants.LOG_RETENTION,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 callers: Sequence[iam.IPrincipal] = ()) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self, "Api", api_name=api_name, description="Parley server API (IAM-authorized)",
            create_default_stage=False, default_authorizer=authorizers.HttpIamAuthorizer())
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.stage = apigwv2.HttpStage(
            self, "Stage", http_api=self.api, stage_name=STAGE, auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=constants.SERVER_API_RATE_LIMIT,
                                              burst_limit=constants.SERVER_API_BURST_LIMIT),
            access_log_settings=_AccessLogSettings(self.access_logs))
        self.api.add_routes(path="/{proxy+}", methods=[apigwv2.HttpMethod.ANY],
                            integration=integrations.HttpLambdaIntegration("Function", function))
        self.url: str = self.api.api_endpoint
        self.read_only_policy = self._policy("ReadOnlyPolicy", "GET", "read-only: GET routes (reads, the audit log)")
        self.full_access_policy = self._policy("FullAccessPolicy", "*", "full access: every route")
        self.read_only_role: iam.Role | None = None
        self.full_access_role: iam.Role | None = None
        if callers:
            self.read_only_role = self._role("ReadOnlyRole", self.read_only_policy, callers, "read-only")
            self.full_access_role = self._role("FullAccessRole", self.full_access_policy, callers, "full access")

    def _role(self, construct_id: str, policy: iam.ManagedPolicy, callers: Sequence[iam.IPrincipal],
              what: str) -> iam.Role:
        return iam.Role(self, construct_id, assumed_by=iam.CompositePrincipal(*callers), managed_policies=[policy],
                        description=f"Parley server API, {what}: assumed by the host app's backend")

    def _arn_pattern(self, method: str) -> str:
        """The policy's resource as cdk-nag prints it (``<LogicalId>`` for the API's Ref)."""
        stack = Stack.of(self)
        api_resource = self.api.node.default_child
        assert isinstance(api_resource, CfnElement)
        api_logical_id = stack.resolve(stack.get_logical_id(api_resource))
        return (f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_logical_id}>/"
                f"{STAGE}/{method}/*")

    def _policy(self, construct_id: str, method: str, what: str) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self, construct_id, description=f"Parley server API, {what}",
            statements=[iam.PolicyStatement(actions=["execute-api:Invoke"],
                                            resources=[self.api.arn_for_execute_api(method, "/*", STAGE)])])
        compliance.acknowledge(
            policy, f"AwsSolutions-IAM5[Resource::{self._arn_pattern(method)}]",
            "execute-api:Invoke on this server API only: every path under /v1 (its ids are known at runtime), "
            + ("GET only." if method == "GET" else "every method."))
        return policy
