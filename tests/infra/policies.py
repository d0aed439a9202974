"""Reading a function's IAM permissions out of a synthesized template."""

from __future__ import annotations

from typing import Any

from tests.infra.synthesis import Synth, render


def statements(synth: Synth, handler: str, path: str = "Functions") -> list[dict[str, Any]]:
    """Every policy statement attached to the role of the function ``<path>/<handler>``."""
    role_id = synth.resource(f"{path}/{handler}")["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def listed(value: Any) -> list[Any]:
    """IAM's "one value or a list of them", as a list."""
    return value if isinstance(value, list) else [value]


def actions(synth: Synth, handler: str, service: str = "", *, unconditional: bool = False) -> set[str]:
    return {action for s in statements(synth, handler) if not (unconditional and "Condition" in s)
            for action in listed(s["Action"]) if action.startswith(service)}


def resources_of(synth: Synth, handler: str, action: str) -> list[str]:
    return [render(r) for s in statements(synth, handler) if action in listed(s["Action"])
            for r in listed(s["Resource"])]


def statements_with(synth: Synth, handler: str, action: str) -> list[dict[str, Any]]:
    return [s for s in statements(synth, handler) if action in listed(s["Action"])]
