"""The admin console's infrastructure: a private bucket read by CloudFront through origin access control, the
distribution's security headers and its uncached ``/console/*`` behaviour to the server API, the operators'
Cognito user pool (no self sign-up, an admins group, a PKCE client whose callback is the distribution), the
server API's JWT route, the pages' deployment with their config, and the prop that turns it all off."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra import Parley
from infra.console_headers import security_headers
from tests.infra.synthesis import Synth, render

pytestmark = pytest.mark.infra


def _one(synth: Synth, resource_type: str) -> dict:
    (found,) = synth.of_type(resource_type).values()
    return found["Properties"]


def test_the_pages_bucket_is_private_and_only_cloudfront_reads_it(synth: Synth) -> None:
    bucket = synth.resource("AdminConsole/Site")["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    site = synth.logical_id("AdminConsole/Site")
    policy = next(p["Properties"]["PolicyDocument"]["Statement"]
                  for p in synth.of_type("AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": site})
    # TLS only, and reads by the CloudFront service for this distribution only
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy)
    (reader,) = [s for s in policy if s["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in json.dumps(reader["Condition"])
    oac = _one(synth, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")


def test_the_distribution_forwards_console_calls_to_the_server_api_uncached_with_every_method(synth: Synth) -> None:
    config = _one(synth, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/console/*"
    assert len(api["AllowedMethods"]) == 7
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    api_origin = next(o for o in config["Origins"] if o["Id"] == api["TargetOriginId"])
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert synth.logical_id("ServerApi/Api") in json.dumps(api_origin["DomainName"])
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"


def test_every_response_carries_the_security_headers(synth: Synth) -> None:
    config = _one(synth, "AWS::CloudFront::Distribution")["DistributionConfig"]
    policy = {"Ref": synth.logical_id("AdminConsole/SecurityHeaders")}
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == policy
    assert config["CacheBehaviors"][0]["ResponseHeadersPolicyId"] == policy
    headers = synth.resource("AdminConsole/SecurityHeaders")["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = render(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
    # the page may call its own origin and the user pool's domain (the code exchange), nothing else
    assert "connect-src 'self' https://" in csp and ".amazoncognito.com" in csp
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    custom = {h["Header"]: h["Value"] for h in headers["CustomHeadersConfig"]["Items"]}
    expected = security_headers(hsts=True)
    assert {name: expected[name] for name in custom} == custom  # the one set, infra/console_headers.py


def test_operators_cannot_sign_themselves_up_and_need_mfa(synth: Synth) -> None:
    pool = synth.resource("AdminConsole/Operators")["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON"
    group = _one(synth, "AWS::Cognito::UserPoolGroup")
    assert group["GroupName"] == "admins"


def test_the_app_client_uses_the_code_flow_without_a_secret_and_returns_to_the_distribution(synth: Synth) -> None:
    client = _one(synth, "AWS::Cognito::UserPoolClient")
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["GenerateSecret"] is False
    distribution = synth.logical_id("AdminConsole/Distribution")
    assert [render(u) for u in client["CallbackURLs"]] == [f"https://${{{distribution}.DomainName}}/"]


def test_console_calls_reach_the_server_api_through_a_jwt_authorizer_of_the_pool(synth: Synth) -> None:
    api = {"Ref": synth.logical_id("ServerApi/Api")}
    (route,) = [r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
                if r["Properties"]["ApiId"] == api and r["Properties"]["RouteKey"] == "ANY /console/{proxy+}"]
    assert route["AuthorizationType"] == "JWT"
    (authorizer,) = [a["Properties"] for a in synth.of_type("AWS::ApiGatewayV2::Authorizer").values()
                     if a["Properties"]["ApiId"] == api]
    pool = synth.logical_id("AdminConsole/Operators")
    assert authorizer["JwtConfiguration"]["Issuer"] == {"Fn::GetAtt": [pool, "ProviderURL"]}
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": synth.logical_id("AdminConsole/Operators/Client")}]
    assert route["AuthorizerId"] == {"Ref": synth.logical_id("ServerApi/Api/ConsoleAuthorizer")}


def test_the_server_api_function_knows_the_group_and_may_read_the_figures(synth: Synth) -> None:
    function = synth.resource("Functions/server_api")["Properties"]
    env = function["Environment"]["Variables"]
    assert env["PARLEY_CONSOLE_ADMIN_GROUP"] == "admins"
    assert env["PARLEY_CONSOLE_FULL_ACCESS"] == "false"
    assert len(render(env["PARLEY_CONSOLE_DEAD_LETTER_QUEUES"]).split(",")) == 3
    figures = synth.resource("AdminConsole/ReadFigures")["Properties"]
    assert [s["Action"] for s in figures["PolicyDocument"]["Statement"]] == ["cloudwatch:GetMetricData"]
    assert figures["Roles"] == [{"Ref": synth.logical_id("Functions/server_api-role")}]


def test_the_pages_deployment_logs_to_its_own_group_only(synth: Synth) -> None:
    role = synth.resource("AdminConsole/PagesDeploymentRole")["Properties"]
    assert "ManagedPolicyArns" not in role
    logs = synth.logical_id("AdminConsole/PagesDeploymentLogs")
    statements = synth.resource("AdminConsole/PagesDeploymentRole/DefaultPolicy")["Properties"]["PolicyDocument"][
        "Statement"]
    logging = [s for s in statements if any(str(a).startswith("logs:") for a in s["Action"])]
    assert [render(s["Resource"]) for s in logging] == [f"${{{logs}.Arn}}"]
    (handler,) = [f["Properties"] for k, f in synth.of_type("AWS::Lambda::Function").items()
                  if k.startswith("CustomCDKBucketDeployment")]
    assert handler["LoggingConfig"]["LogGroup"] == {"Ref": logs}


def test_the_pages_and_their_config_are_deployed_and_the_cache_invalidated(synth: Synth) -> None:
    (deployment,) = synth.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": synth.logical_id("AdminConsole/Site")}
    assert props["DistributionPaths"] == ["/*"]
    assert len(props["SourceObjectKeys"]) == 2  # the pages, and config.json with the pool's values
    config = json.dumps(props)
    assert synth.logical_id("AdminConsole/Operators/Client") in config


def test_the_console_can_be_turned_off(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Host")
    chat = Parley(stack, "Chat", admin_console=False, outputs=False)
    template = app.synth().get_stack_by_name("Host").template
    types = {r["Type"] for r in template["Resources"].values()}
    assert chat.admin_console is None
    assert not types & {"AWS::CloudFront::Distribution", "AWS::Cognito::UserPool", "Custom::CDKBucketDeployment"}
    routes = [r["Properties"]["RouteKey"] for r in template["Resources"].values()
              if r["Type"] == "AWS::ApiGatewayV2::Route" and "RouteKey" in r["Properties"]
              and r["Properties"]["RouteKey"].startswith("ANY")]
    assert routes == ["ANY /{proxy+}"]


def test_full_access_needs_the_console() -> None:
    app = cdk.App()
    with pytest.raises(ValueError, match="console_full_access needs admin_console"):
        Parley(cdk.Stack(app, "Host"), "Chat", admin_console=False, console_full_access=True)
