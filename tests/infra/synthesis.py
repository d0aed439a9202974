"""What the infra tests look at: the synthesized cloud assembly, and a way to read CloudFormation values."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.app import build
from infra.constants import CONSTRUCT_ID, REPO_ROOT
from infra.constants import STACK_NAME as STACK

__all__ = ["CONFIGURED_CONTEXT", "EXAMPLE_HOOK_CONTEXT", "NEW_ACCOUNT_CONTEXT", "NOTIFICATIONS_HANDLER", "REPO_ROOT",
           "STACK", "Synth", "render", "synth_example_host_app", "synth_in_process"]

# Every optional feature on, as `cdk deploy -c key=value ...` would set them.
CONFIGURED_CONTEXT = {
    "pushApnsApplicationArn": "arn:aws:sns:us-east-1:123456789012:app/APNS/parley-ios",
    "pushFcmApplicationArn": "arn:aws:sns:us-east-1:123456789012:app/GCM/parley-android",
    "pushContent": "ids",
    "PARLEY_MESSAGE_CREATED_EVENTS": "true",
    "authMaxTokenLifetimeSeconds": "900",
    "singleUseTokens": "true",
    "maxTokenLifetimeSeconds": "120",
    "allowedOrigins": "https://app.example,https://admin.example",
    "allowMissingOrigin": "false",
    "moderationFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:review-messages",
    "moderationTimeoutMs": "500",
    "moderationFailOpen": "false",
    "stageRateLimit": "50",
    "stageBurstLimit": "100",
    "uploadMaxBytes": "26214400",
    "uploadUrlTtlSeconds": "120",
    "downloadUrlTtlSeconds": "600",
    "thumbnailPx": "256",
    "attachmentRetentionDays": "365",
    "connectConcurrency": "80",
    "typingConcurrency": "10",
    "presenceConcurrency": "off",
}
EXAMPLE_HOOK_CONTEXT = {"deployExampleModerationHook": "true"}
# A trial deployment in a new account: a concurrency limit too low to reserve anything, a table one may delete.
NEW_ACCOUNT_CONTEXT = {"reservedConcurrency": "false", "tableDeletionProtection": "false"}
# The function CDK adds to every stack with S3 bucket notifications; it sets them at deploy time.
NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def render(value: Any) -> str:
    """A CloudFormation value as readable text: ``Ref X`` -> ``${X}``, ``GetAtt X.Arn`` -> ``${X.Arn}``,
    ``Fn::Join`` concatenated. Lets a test compare an ARN or URL with one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    return json.dumps(value, sort_keys=True)


@dataclass
class Synth:
    outdir: Path
    template_json: dict[str, Any]
    template: Template = field(repr=False)
    stack: str = STACK

    @classmethod
    def load(cls, outdir: Path, stack: str = STACK) -> Synth:
        template_json = json.loads((outdir / f"{stack}.template.json").read_text())
        return cls(outdir=outdir, template_json=template_json, template=Template.from_json(template_json),
                   stack=stack)

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack}.template.json"

    @property
    def template_paths(self) -> list[Path]:
        """The stack's template and those of its nested stacks (the example host app nests each instance)."""
        return [self.template_path, *sorted(self.outdir.glob(f"{self.stack}*.nested.template.json"))]

    @cached_property
    def nested_templates(self) -> dict[str, dict[str, Any]]:
        """Each nested stack's template, by the construct id of the nested stack (``Dev``)."""
        found = {}
        for path in self.template_paths[1:]:
            # <stack><nested stack id><8-character hash>.nested.template.json
            found[path.name.removeprefix(self.stack).removesuffix(".nested.template.json")[:-8]] = (
                json.loads(path.read_text()))
        return found

    @property
    def nag_report(self) -> dict[str, Any]:
        """cdk-nag's AWS Solutions report of this synth (the plugin fails the synth on any finding)."""
        (report,) = json.loads((self.outdir / "validation-report.json").read_text())["pluginReports"]
        return report

    def passed_in(self, value: Any) -> Any:
        """A nested stack's ``Ref`` to one of its parameters -> the value its parent passes in; else ``value``."""
        if isinstance(value, dict) and set(value) == {"Ref"}:
            for resource in self.template_json["Resources"].values():
                if resource["Type"] == "AWS::CloudFormation::Stack":
                    passed = resource["Properties"].get("Parameters", {})
                    if value["Ref"] in passed:
                        return passed[value["Ref"]]
        return value

    @cached_property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Every resource of the stack and of its nested stacks, by logical id."""
        merged = dict(self.template_json["Resources"])
        for nested in self.nested_templates.values():
            merged.update(nested["Resources"])
        return merged

    @cached_property
    def _logical_ids(self) -> dict[str, str]:
        metadata = json.loads((self.outdir / f"{self.stack}.metadata.json").read_text())
        return {path: entry["data"] for path, entries in metadata.items() for entry in entries
                if entry["type"] == "aws:cdk:logicalId"}

    def logical_id(self, construct_path: str) -> str:
        """``Functions/send`` (under the stack's Parley construct) or a path from the stack
        (``BucketNotificationsHandler...``) -> the logical id of its CloudFormation resource."""
        for root in (f"/{self.stack}/{CONSTRUCT_ID}/", f"/{self.stack}/"):
            for path in (f"{root}{construct_path}/Resource", f"{root}{construct_path}"):
                if path in self._logical_ids:
                    return self._logical_ids[path]
        raise KeyError(construct_path)

    def resource(self, construct_path: str) -> dict[str, Any]:
        return self.resources[self.logical_id(construct_path)]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


def synth_example_host_app(outdir: Path) -> Synth:
    """The example host app (``examples/host_app``: Parley dev and prod in one stack), synthesized in this
    process with its own cdk.json's flags and cdk-nag, as ``cdk synth`` in that folder would."""
    folder = REPO_ROOT / "examples" / "host_app"
    spec = importlib.util.spec_from_file_location("example_host_app", folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flags = json.loads((folder / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(outdir), context=flags)
    module.build(app)
    app.synth()  # raises when cdk-nag reports an unacknowledged finding
    return Synth.load(outdir, stack=module.STACK_NAME)


def synth_in_process(outdir: Path, context: Mapping[str, Any]) -> Synth:
    """What ``cdk synth -c key=value ...`` makes of the app, synthesized in this process: the same app code,
    cdk.json's feature flags and the cdk-nag plugin, without a second CLI start-up."""
    flags = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(outdir), context={**flags, **context})
    build(app)
    app.synth()  # raises when cdk-nag reports an unacknowledged finding
    return Synth.load(outdir)
