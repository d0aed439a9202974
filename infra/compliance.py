"""cdk-nag's AWS Solutions checks, and the one way Parley acknowledges a finding: with its reason.

cdk-nag v3 runs as a CDK policy-validation plugin registered on the app; an unacknowledged finding fails
the synth. Acknowledgements are also written into the template's resource Metadata (``cdk_nag``), so the
reasons travel with the template for auditors.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_PACK = "AwsSolutions"


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one AWS Solutions finding (``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_PACK}::{rule}", reason=reason))
