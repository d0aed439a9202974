"""An example host app: a team's own CDK app that places two Parley instances, dev and prod, in one of its
stacks, each in a nested stack of its own so that each has CloudFormation's 500 resources to itself
(docs/deploying.md). Run it from this folder once Parley is installed (``pip install <path or wheel>``):

    npx cdk synth        # cdk.json runs `python app.py`

The account, hosted zone, Cognito pool and addresses below are placeholders: put in your own.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import CfnOutput, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra import AuthConfig, AuthMode, ConcurrencyConfig, CustomDomain, Parley

STACK_NAME = "ChatHost"
COGNITO_POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
COGNITO_APP_CLIENTS = ("3n4b5urk1ft4fl3mg5e62d9ado",)


class ChatHostStack(Stack):
    """The host app's stack: its own on-call topic, and Parley twice."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The team's on-call topic. CloudWatch publishes to an encrypted topic only under a customer managed
        # key whose policy lets it.
        key = kms.Key(self, "OnCallKey", enable_key_rotation=True, description="On-call topic")
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")]))
        on_call = sns.Topic(self, "OnCall", master_key=key, enforce_ssl=True)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com")

        # dev: thrown away with the stack, cheap to keep, alarms to the developers' inbox.
        # Each instance in a nested stack: deployed and deleted with this stack, with a resource budget of its own.
        self.dev = Parley(
            NestedStack(self, "Dev"), "ChatDev", stage="dev",
            removal_policy=RemovalPolicy.DESTROY,
            log_retention=logs.RetentionDays.ONE_WEEK,
            tracing=False,
            concurrency=ConcurrencyConfig(reserved={}),  # reserve nothing: leave the account's pool to prod
            settings={"PARLEY_MAX_GROUP_MEMBERS": 20},
            alarm_email="chat-dev@example.com",
            tags={"cost-center": "chat-dev", "environment": "dev"},
        )
        # prod: the app's Cognito users (access tokens), its own domain, alarms to on-call, data kept.
        self.prod = Parley(
            NestedStack(self, "Prod"), "ChatProd", stage="prod",
            auth=AuthConfig(mode=AuthMode.JWKS, jwks_url=f"{COGNITO_POOL}/.well-known/jwks.json",
                            issuers=(COGNITO_POOL,), audiences=COGNITO_APP_CLIENTS, audience_claim="client_id"),
            domain=CustomDomain("chat.example.com", hosted_zone=zone),
            log_retention=logs.RetentionDays.THREE_MONTHS,
            alarm_topic=on_call,
            # roles for the shop's backend to assume and call the server API with (read-only, full access)
            server_api_callers=[iam.AccountRootPrincipal()],
            tags={"cost-center": "chat", "environment": "prod"},
        )
        # What the rest of the host app wires up, e.g. its mobile config and its own consumers.
        CfnOutput(self, "DevChatUrl", value=self.dev.web_socket_url)
        CfnOutput(self, "ProdChatUrl", value=self.prod.web_socket_url)
        CfnOutput(self, "ProdUnreadEvents", value=self.prod.unread_events_topic.topic_arn)


def build(app: cdk.App) -> ChatHostStack:
    stack = ChatHostStack(app, STACK_NAME, description="A host app with Parley dev and prod")
    # The host's own choice; Parley passes it. Acknowledged findings are written into the template, with reasons.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
