"""What the infra tests look at: the synthesized cloud assembly, and a way to read CloudFormation values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from infra.constants import REPO_ROOT
from infra.constants import STACK_NAME as STACK

__all__ = ["REPO_ROOT", "STACK", "Synth", "render"]


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

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template_json["Resources"]

    @cached_property
    def _logical_ids(self) -> dict[str, str]:
        metadata = json.loads((self.outdir / f"{STACK}.metadata.json").read_text())
        return {path: entry["data"] for path, entries in metadata.items() for entry in entries
                if entry["type"] == "aws:cdk:logicalId"}

    def logical_id(self, construct_path: str) -> str:
        """``Functions/send`` -> the logical id of its CloudFormation resource."""
        for path in (f"/{STACK}/{construct_path}/Resource", f"/{STACK}/{construct_path}"):
            if path in self._logical_ids:
                return self._logical_ids[path]
        raise KeyError(construct_path)

    def resource(self, construct_path: str) -> dict[str, Any]:
        return self.resources[self.logical_id(construct_path)]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}
