"""The repository's own stack (``npx cdk deploy``): one ``Parley`` construct, its props read from context
(``infra/context.py``). A host app places the construct in a stack of its own instead (docs/deploying.md)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants
from infra.construct import Parley
from infra.constructs.websocket_api import CustomDomain
from infra.context import DeploymentConfig


class ParleyStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ops = config.operations
        domain = None
        if ops.domain_name and ops.certificate_arn:
            domain = CustomDomain(ops.domain_name, certificate=acm.Certificate.from_certificate_arn(
                self, "DomainCertificate", ops.certificate_arn))
        self.parley = Parley(
            # "Default": left out of logical ids, so a stack deployed before the construct keeps its resources.
            self, constants.CONSTRUCT_ID, stage=ops.stage, auth=config.auth, push=config.push,
            moderation=config.moderation, attachments=config.attachments, throttle=config.throttle,
            concurrency=config.concurrency, settings=config.settings,
            removal_policy=config.storage.removal_policy,
            table_deletion_protection=config.storage.deletion_protection,
            log_retention=ops.log_retention, tracing=ops.tracing, tags=ops.tags,
            alarm_topic=sns.Topic.from_topic_arn(self, "AlarmTopic", ops.alarm_topic_arn)
            if ops.alarm_topic_arn else None,
            alarm_email=ops.alarm_email, domain=domain)
