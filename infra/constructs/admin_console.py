"""The admin console (docs/admin.md, "Deploying"): its pages in a private S3 bucket behind CloudFront (origin
access control), the same distribution forwarding ``/console/*`` to the server API uncached, a Cognito user pool
for the operators (no self sign-up, an ``admins`` group, TOTP MFA), the server API's ``ANY /console/{proxy+}``
route behind a JWT authorizer of that pool, and the security headers as CloudFront's response headers policy.

The server API checks the admins group itself on every call (``parley.server_api.callers``): the authorizer
proves who signed in, the function decides what they may do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import compliance, console_headers, constants

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSOLE_DIR = REPO_ROOT / "console"
CONSOLE_PATH = "/console/*"
ADMIN_GROUP = "admins"
# Never copied from console/: the bucket's config.json is the deployment's own (a local one would be stale).
_NOT_DEPLOYED = ["config.json"]


class AdminConsole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, http_api: apigwv2.HttpApi,
                 integration: apigwv2.HttpRouteIntegration, function: lambda_.IFunction, access_logs: s3.IBucket,
                 deployment: str,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 log_retention: logs.RetentionDays = constants.LOG_RETENTION, site_dir: Path = CONSOLE_DIR) -> None:
        super().__init__(scope, construct_id)
        if not (site_dir / "index.html").is_file():
            raise ValueError(f"the admin console's pages are missing ({site_dir}/index.html); pass "
                             "admin_console=False to deploy without it")
        destroy = removal_policy is RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self, "Site", block_public_access=s3.BlockPublicAccess.BLOCK_ALL, encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=False,
            server_access_logs_bucket=access_logs, server_access_logs_prefix="console-site/",
            removal_policy=removal_policy, auto_delete_objects=destroy)
        self.user_pool = self._user_pool(removal_policy)
        self.domain = self.user_pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=_domain_prefix(deployment, self)))
        cognito_url = self.domain.base_url()
        headers = _headers_policy(self, cognito_url)
        api_domain = Fn.select(2, Fn.split("/", http_api.api_endpoint))
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment=f"Parley admin console ({deployment})"[:128],
            default_root_object="index.html", minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100, http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED, response_headers_policy=headers),
            additional_behaviors={CONSOLE_PATH: cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin(api_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                                          origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2]),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                # Never cached; every viewer header but Host reaches the API, the Authorization header included.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=headers)})
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.client = self.user_pool.add_client(
            "Client", generate_secret=False, prevent_user_existence_errors=True,
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            auth_flows=cognito.AuthFlow(user_srp=True),
            id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(8), enable_token_revocation=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{self.url}/"], logout_urls=[f"{self.url}/"]))
        cognito.CfnUserPoolGroup(self, "Admins", user_pool_id=self.user_pool.user_pool_id, group_name=ADMIN_GROUP,
                                 description="Operators allowed to use the Parley admin console")
        http_api.add_routes(
            path="/console/{proxy+}", methods=[apigwv2.HttpMethod.ANY],
            integration=integration,
            authorizer=authorizers.HttpJwtAuthorizer(
                "ConsoleAuthorizer", self.user_pool.user_pool_provider_url,
                jwt_audience=[self.client.user_pool_client_id]))
        self.deployment = s3deploy.BucketDeployment(
            self, "Pages", destination_bucket=self.bucket, distribution=self.distribution,
            distribution_paths=["/*"], prune=True, memory_limit=256,
            role=self._deployment_role(removal_policy, log_retention), log_group=self.deployment_logs,
            sources=[s3deploy.Source.asset(str(site_dir), exclude=_NOT_DEPLOYED),
                     s3deploy.Source.json_data("config.json", {
                         "mode": "cognito", "apiBase": "/console",
                         "cognito": {"domain": cognito_url, "clientId": self.client.user_pool_client_id,
                                     "redirectUri": f"{self.url}/"}})])
        self._read_figures(function)
        self._acknowledge()

    def _deployment_role(self, removal_policy: RemovalPolicy, log_retention: logs.RetentionDays) -> iam.Role:
        """The role of CDK's BucketDeployment function: logs to its own group only (CDK's default role would get
        the managed AWSLambdaBasicExecutionRole, logs on every group); BucketDeployment grants it the rest."""
        self.deployment_logs = logs.LogGroup(self, "PagesDeploymentLogs", retention=log_retention,
                                             removal_policy=removal_policy)
        role = iam.Role(self, "PagesDeploymentRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="CDK's BucketDeployment of the admin console's pages")
        role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                               resources=[self.deployment_logs.log_group_arn]))
        self.deployment_role = role
        return role

    def _read_figures(self, function: lambda_.IFunction) -> None:
        """The overview's one ``GetMetricData`` call, in a policy of its own on the function's role: CloudWatch has
        no resource-level permission for it, so the resource is ``*``."""
        role = function.role
        assert role is not None
        policy = iam.Policy(self, "ReadFigures", statements=[
            iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"])])
        policy.attach_to_role(role)
        compliance.acknowledge(policy, "AwsSolutions-IAM5[Resource::*]",
                               "cloudwatch:GetMetricData, the admin console's figures, has no resource-level "
                               "permissions: the only possible resource is '*'")

    def _bucket_logical_id(self) -> str:
        stack = Stack.of(self)
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        return str(stack.resolve(stack.get_logical_id(bucket)))

    def _user_pool(self, removal_policy: RemovalPolicy) -> cognito.UserPool:
        return cognito.UserPool(
            self, "Operators", self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(username=True,
                                                                                              email=True),
            mfa=cognito.Mfa.REQUIRED, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=True,
                                                   temp_password_validity=Duration.days(3)),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY, deletion_protection=removal_policy
            is RemovalPolicy.RETAIN, removal_policy=removal_policy)

    def _acknowledge(self) -> None:
        compliance.acknowledge(self.user_pool, "AwsSolutions-COG8",
                               "the Plus feature plan (threat protection) is billed per user; the pool has no self "
                               "sign-up, requires TOTP MFA and a 12-character password, and every console call is "
                               "checked against the admins group")
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR1",
                               "operators sign in from wherever they work; the console is behind Cognito sign-in "
                               "with MFA and the admins-group check, not behind a country list")
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR2",
                               "no WAF web ACL by default (a fixed monthly cost): static pages, and an API that "
                               "refuses every request without a valid token of the console's user pool; attach your "
                               "own web ACL to the distribution if your policy asks for one")
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR3",
                               "the console's API calls are logged by the server API's access logs and its audit "
                               "log (who, what, when); the static pages' requests are not worth a log bucket with "
                               "ACLs enabled, which CloudFront's standard logs require")
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR4",
                               "the default *.cloudfront.net certificate: CloudFront then allows TLSv1 for "
                               "viewers whatever the minimum protocol version says; give the distribution your own "
                               "domain and certificate to enforce TLS 1.2")
        for finding in (*_DEPLOYMENT_WILDCARDS, f"Resource::<{self._bucket_logical_id()}.Arn>/*"):
            compliance.acknowledge(
                self.deployment_role, f"AwsSolutions-IAM5[{finding}]",
                "CDK's BucketDeployment function, run at deploy time: it reads the pages' asset from the CDK "
                "assets bucket, writes and prunes the pages in the console's bucket, invalidates the distribution")
        # CDK's BucketDeployment function itself (one per stack, beside this construct)
        for handler in Stack.of(self).node.children:
            if handler.node.id.startswith("Custom::CDKBucketDeployment"):
                compliance.acknowledge(handler, "AwsSolutions-L1",
                                       "CDK's BucketDeployment function, run at deploy time only: its runtime is "
                                       "CDK's choice, updated with aws-cdk-lib")


# What CDK's BucketDeployment grants its function on the assets and destination buckets (its own choice of actions).
_DEPLOYMENT_WILDCARDS = ("Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*",
                         "Action::s3:GetObject*", "Action::s3:List*", "Resource::*",
                         "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*")


def _headers_policy(scope: Construct, cognito_url: str) -> cloudfront.ResponseHeadersPolicy:
    """The console's security headers (one set, ``infra/console_headers.py``), with the Cognito domain the page
    exchanges its sign-in code at allowed in ``connect-src``, and HSTS."""
    wanted = console_headers.security_headers(connect_src=(cognito_url,), hsts=True)
    known = {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
             "Strict-Transport-Security"}
    return cloudfront.ResponseHeadersPolicy(
        scope, "SecurityHeaders", comment="Parley admin console: CSP and the other security headers",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=wanted["Content-Security-Policy"], override=True),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.seconds(console_headers.HSTS_MAX_AGE_SECONDS),
                include_subdomains=True, override=True)),
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=[
            cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
            for name, value in sorted(wanted.items()) if name not in known]))


def _domain_prefix(deployment: str, scope: Construct) -> str:
    """A Cognito domain prefix for this deployment (prefixes are shared by every account of a region: the digest of
    the stack, stage and construct path keeps two deployments apart): lower-case letters, digits and hyphens,
    never ``aws``, ``amazon`` or ``cognito``."""
    digest = hashlib.sha256(json.dumps([deployment, scope.node.path]).encode()).hexdigest()[:10]
    readable = "".join(c if c.isalnum() else "-" for c in deployment.lower())
    for word in ("aws", "amazon", "cognito"):
        readable = readable.replace(word, "x")
    return f"parley-{readable[:30].strip('-')}-{digest}"
