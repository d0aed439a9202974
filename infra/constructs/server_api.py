"""The server API (docs/server-api.md): an HTTP API whose every route is authorized with AWS IAM (SigV4), one
``ANY /{proxy+}`` route to the ``server_api`` function, a ``$default`` stage with access logs and throttling,
and two IAM managed policies for the host app's backend to attach to its own role: read-only (``GET`` routes)
and full access. Given the principals that may call it (``callers``), it also makes a read-only and a full-access
role with those policies, which they assume."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import compliance, constants
from infra.constructs.access_logs import JsonAccessLogs

STAGE = "$default"
# One JSON object per request; never the body or the Authorization header.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId", "requestTime": "$context.requestTimeEpoch",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "caller": "$context.identity.userArn", "sourceIp": "$context.identity.sourceIp",
    "latencyMs": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
}


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
            access_log_settings=JsonAccessLogs(self.access_logs, _ACCESS_LOG_FIELDS))
        # One integration and one invoke permission (any route of this API), shared with the admin console's route.
        self.integration = integrations.HttpLambdaIntegration("Function", function, scope_permission_to_route=False)
        self.api.add_routes(path="/{proxy+}", methods=[apigwv2.HttpMethod.ANY], integration=self.integration)
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

    def _policy(self, construct_id: str, method: str, what: str) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self, construct_id, description=f"Parley server API, {what}",
            statements=[iam.PolicyStatement(actions=["execute-api:Invoke"],
                                            resources=[self.api.arn_for_execute_api(method, "/*", STAGE)])])
        invoke = compliance.execute_api_pattern(self.api, f"{STAGE}/{method}/*")
        compliance.acknowledge(
            policy, f"AwsSolutions-IAM5[Resource::{invoke}]",
            "execute-api:Invoke on this server API only: every path under /v1 (its ids are known at runtime), "
            + ("GET only." if method == "GET" else "every method."))
        return policy
