"""cdk-nag's AWS Solutions checks, and the one way Parley acknowledges a finding: with its reason.

cdk-nag v3 runs as a CDK policy-validation plugin registered on the app; an unacknowledged finding fails
the synth. Acknowledgements are also written into the template's resource Metadata (``cdk_nag``), so the
reasons travel with the template for auditors.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_PACK = "AwsSolutions"


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one AWS Solutions finding (``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_PACK}::{rule}", reason=reason))


def execute_api_pattern(api: IConstruct, path: str) -> str:
    """An ``execute-api`` ARN under ``api`` as cdk-nag prints it in a finding (``<LogicalId>`` for the API's Ref):
    ``path`` is what follows the API id (``<stage>/<method>/<resource>``)."""
    stack = Stack.of(api)
    api_resource = api.node.default_child
    assert isinstance(api_resource, CfnElement)
    api_logical_id = stack.resolve(stack.get_logical_id(api_resource))
    return f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_logical_id}>/{path}"
