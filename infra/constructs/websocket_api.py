"""The WebSocket API: the routes, the $connect authorizer, the stage (``prod`` unless named otherwise: access
logs, throttling) and, optionally, a custom domain for it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from infra import compliance, constants
from infra.constructs.access_logs import JsonAccessLogs
from infra.constructs.functions import Functions
from infra.context import ThrottleConfig
from parley import routes

_ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "extendedRequestId": apigw.AccessLogField.context_extended_request_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "eventType": apigw.AccessLogField.context_event_type(),
    "routeKey": apigw.AccessLogField.context_route_key(),
    "connectionId": apigw.AccessLogField.context_connection_id(),
    "status": apigw.AccessLogField.context_status(),
    "sourceIp": apigw.AccessLogField.context_identity_source_ip(),
    "error": apigw.AccessLogField.context_error_message(),
    "authorizerError": apigw.AccessLogField.context_authorizer_error(),
    "principalId": apigw.AccessLogField.context_authorizer_principal_id(),  # the user id, once authorized
}


@dataclass(frozen=True)
class CustomDomain:
    """A domain of the host app's for the WebSocket API (``wss://chat.example.com``): API Gateway serves it with
    an ACM certificate in the stack's region, either ``certificate`` or, given only ``hosted_zone``, one the
    construct requests and validates through DNS. With ``hosted_zone`` the construct also adds the alias
    record; without, point a CNAME at the construct's ``domain_target`` yourself."""

    domain_name: str
    certificate: acm.ICertificate | None = None
    hosted_zone: route53.IHostedZone | None = None

    def __post_init__(self) -> None:
        if self.certificate is None and self.hosted_zone is None:
            raise ValueError(f"custom domain {self.domain_name}: give a certificate, or a hosted zone to "
                             "validate a new one in")


# Templates keyed "$default", selected by the static expression "\$default" (a literal, not a variable).
_TEMPLATE_KEY = "$default"
_STATIC_TEMPLATE_KEY = "\\$default"

_AFTER_CONNECT = ("WebSocket APIs authorize only the $connect route; frames on this route arrive on a "
                  "connection the Lambda authorizer already accepted, and the handler takes the user id "
                  "from that authorizer's context, never from the frame.")


class WebSocketApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, throttle: ThrottleConfig,
                 stage_name: str = constants.STAGE_NAME, api_name: str | None = None,
                 log_retention: logs.RetentionDays = constants.LOG_RETENTION,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN, domain: CustomDomain | None = None) -> None:
        super().__init__(scope, construct_id)
        self._integrations: dict[str, _FunctionIntegration] = {}
        self.api = apigwv2.WebSocketApi(
            self, "Api",
            api_name=api_name,
            description="Parley real-time chat",
            route_selection_expression=constants.ROUTE_SELECTION_EXPRESSION,
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.domain_name = self._domain(domain) if domain is not None else None
        self.stage = apigwv2.WebSocketStage(
            self, "Stage",
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit),
            access_log_settings=JsonAccessLogs(self.access_logs, _ACCESS_LOG_FIELDS),
            domain_mapping=apigwv2.DomainMappingOptions(domain_name=self.domain_name) if self.domain_name else None,
        )
        # Where clients connect: the custom domain's root maps to this stage, else the stage's own URL.
        self.url = f"wss://{domain.domain_name}" if domain is not None else self.stage.url

    def _domain(self, domain: CustomDomain) -> apigwv2.DomainName:
        certificate = domain.certificate or acm.Certificate(
            self, "Certificate", domain_name=domain.domain_name,
            validation=acm.CertificateValidation.from_dns(domain.hosted_zone))
        name = apigwv2.DomainName(self, "Domain", domain_name=domain.domain_name, certificate=certificate)
        if domain.hosted_zone is not None:
            route53.ARecord(self, "AliasRecord", zone=domain.hosted_zone, record_name=domain.domain_name,
                            target=route53.RecordTarget.from_alias(route53_targets.ApiGatewayv2DomainProperties(
                                name.regional_domain_name, name.regional_hosted_zone_id)))
        return name

    def add_routes(self, functions: Functions) -> None:
        """Every route of ``parley.routes`` to its function (two-way routes answer the caller), and the routes
        API Gateway answers itself to MOCK integrations."""
        connect_authorizer = authorizers.WebSocketLambdaAuthorizer("Authorizer", functions.authorizer)
        for route_key, name in routes.ROUTES.items():
            self._route(route_key, functions.by_name[name],
                        return_response=route_key in routes.TWO_WAY_ROUTES,
                        authorizer=connect_authorizer if route_key == routes.CONNECT else None)
        for route_key, answer in routes.GATEWAY_ANSWERS.items():
            self._answered_by_gateway(route_key, answer)
        self._without_identity_source()

    def _without_identity_source(self) -> None:
        """No identity source on the REQUEST authorizer: API Gateway would answer 401 itself unless *every*
        listed source is present, but the token may come from ?token= or the Authorization header. The
        property is optional for REQUEST authorizers (and CDK would list the Authorization header by default),
        so it is left out of the template; the authorizer answers 401 itself when both are missing."""
        for child in self.node.find_all():
            if isinstance(child, apigwv2.CfnAuthorizer):
                child.add_property_deletion_override("IdentitySource")

    def _answered_by_gateway(self, route_key: str, answer: str) -> None:
        """A MOCK integration: API Gateway answers every frame of this route with ``answer`` itself (no
        function runs). Its request template sets the status the integration response is selected by."""
        mock_id = f"{route_key}-mock"
        route = self.api.add_route(route_key, integration=integrations.WebSocketMockIntegration(
            mock_id, request_templates={_TEMPLATE_KEY: json.dumps({"statusCode": 200})},
            template_selection_expression=_STATIC_TEMPLATE_KEY), return_response=True)
        integration = route.node.find_child(mock_id)
        assert isinstance(integration, apigwv2.WebSocketIntegration)
        apigwv2.CfnIntegrationResponse(
            self, f"{route_key}-answer", api_id=self.api.api_id, integration_id=integration.integration_id,
            integration_response_key=_TEMPLATE_KEY, response_templates={_TEMPLATE_KEY: answer},
            template_selection_expression=_STATIC_TEMPLATE_KEY)
        compliance.acknowledge(route.node.default_child or route, "AwsSolutions-APIG4", _AFTER_CONNECT)

    def _route(self, route_key: str, handler: lambda_.IFunction, *, return_response: bool = False,
               authorizer: apigwv2.IWebSocketRouteAuthorizer | None = None) -> None:
        route = self.api.add_route(
            route_key,
            integration=self._integration(handler),
            authorizer=authorizer,
            return_response=return_response,
        )
        if authorizer is None:
            # On the route resource itself: the shared integration lives under the first route using it.
            compliance.acknowledge(route.node.default_child or route, "AwsSolutions-APIG4", _AFTER_CONNECT)

    def _integration(self, handler: lambda_.IFunction) -> _FunctionIntegration:
        # One integration and one invoke permission per function, shared by its routes: a function's routes
        # are all on this API, so one permission for the API's routes allows exactly them. (CDK's own
        # integration adds a permission per route: with 30-odd routes that was a CloudFormation resource per
        # route, and two instances in one stack went past CloudFormation's 500.)
        key = handler.node.addr
        if key not in self._integrations:
            self._integrations[key] = _FunctionIntegration(f"{handler.node.id}-integration", handler)
            handler.add_permission(
                "WebSocketApiInvoke", principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=Stack.of(self).format_arn(service="execute-api", resource=self.api.api_id,
                                                     resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME))
        return self._integrations[key]


class _FunctionIntegration(apigwv2.WebSocketRouteIntegration):
    """A Lambda proxy integration that, unlike CDK's ``WebSocketLambdaIntegration``, adds no invoke permission
    per route it is bound to (``WebSocketApi._integration`` adds one per function)."""

    def __init__(self, integration_id: str, handler: lambda_.IFunction) -> None:
        super().__init__(integration_id)
        self._handler = handler

    def bind(self, *, route: apigwv2.IWebSocketRoute, scope: Construct) -> apigwv2.WebSocketRouteIntegrationConfig:
        uri = Stack.of(route).format_arn(service="apigateway", account="lambda", resource="path/2015-03-31/functions",
                                         arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                                         resource_name=f"{self._handler.function_arn}/invocations")
        return apigwv2.WebSocketRouteIntegrationConfig(type=apigwv2.WebSocketIntegrationType.AWS_PROXY, uri=uri)
