"""clients/js/src/frames.ts, the TypeScript SDK's wire types, generated from docs/asyncapi.yaml.

``.venv/bin/python -m tools.ts_types`` writes the file; ``--check`` only compares it with the checked-in one (exit 1
when stale). Every schema of the document becomes a TypeScript type under the schema's name (objects as
interfaces, enums as string-literal unions, ``ErrorCode`` with the list of its codes), and the operations give
the maps from each action to its request (``Requests``) and to the frames that answer it (``Answers``). Nothing
in frames.ts is kept by hand: the document is generated from the server's models, and this from the document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from tools import generated

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"  # written by tools.asyncapi
OUTPUT = ROOT / "clients" / "js" / "src" / "frames.ts"
COMMAND = ".venv/bin/python -m tools.ts_types"
SCHEMAS = "#/components/schemas/"
MESSAGES = "#/channels/parley/messages/"
INDENT = "  "


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    lines = [line.rstrip() for line in text.replace("*/", "* /").replace("``", "`").strip().splitlines()]
    lines = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**", *[f"{indent} * {line}".rstrip() for line in lines], f"{indent} */"]


def ts_type(schema: dict[str, Any], indent: str = "") -> str:
    """The TypeScript type of one JSON Schema (the subset pydantic writes)."""
    if "$ref" in schema:
        return _name(schema["$ref"])
    combined = _combined(schema, indent)
    return combined if combined is not None else _structural(schema, indent)


def _combined(schema: dict[str, Any], indent: str) -> str | None:
    """A literal, an enum, or a union or intersection of schemas; None for anything else."""
    if "const" in schema:
        return _literal(schema["const"])
    if "enum" in schema:
        return " | ".join(_literal(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " | ".join(dict.fromkeys(_wrapped(ts_type(s, indent)) for s in schema["anyOf"]))
    if "allOf" in schema:
        return " & ".join(_wrapped(ts_type(s, indent)) for s in schema["allOf"])
    return None


def _structural(schema: dict[str, Any], indent: str) -> str:
    """An array, an object (a record without properties) or a primitive."""
    kind = schema.get("type")
    if kind == "array" or "items" in schema:
        return f"{_wrapped(ts_type(schema.get('items', {}), indent))}[]"
    if kind == "object" or "properties" in schema:
        if "properties" in schema:
            return _object_body(schema, indent)
        extra = schema.get("additionalProperties")
        return f"Record<string, {ts_type(extra, indent) if isinstance(extra, dict) else 'unknown'}>"
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
            "null": "null"}.get(str(kind), "unknown")


def _wrapped(text: str) -> str:
    return f"({text})" if (" | " in text or " & " in text) and not text.startswith("{") else text


def _object_body(schema: dict[str, Any], indent: str) -> str:
    required = set(schema.get("required", []))
    inner = indent + INDENT
    lines = ["{"]
    for field, sub in schema.get("properties", {}).items():
        lines += _comment(sub.get("description"), inner)
        optional = "" if field in required else "?"
        lines.append(f"{inner}{field}{optional}: {ts_type(sub, inner)};")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def _declaration(name: str, schema: dict[str, Any]) -> list[str]:
    out = _comment(schema.get("description") if name != "ErrorCode" else
                   "The stable, machine-readable code of an `error` frame (docs/protocol.md, \"Error codes\").", "")
    if schema.get("type") == "object" and "properties" in schema:
        out.append(f"export interface {name} {_object_body(schema, '')}")
    else:
        out.append(f"export type {name} = {ts_type(schema)};")
    if name == "ErrorCode":
        codes = ", ".join(_literal(v) for v in schema["enum"])
        out += ["", "/** Every error code of the protocol. */",
                f"export const ERROR_CODES: readonly ErrorCode[] = [{codes}];"]
    return out


def _message_type(doc: dict[str, Any], ref: str) -> str:
    message = doc["channels"]["parley"]["messages"][_name(ref)]
    return ts_type(message["payload"], INDENT)


def render(doc: dict[str, Any]) -> str:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    out = ["// Generated from docs/asyncapi.yaml by `" + COMMAND + "`: do not edit by hand.",
           "// The wire protocol's types: every request, every frame in both formats, every error code.",
           "/* eslint-disable */", ""]
    for name in sorted(schemas):
        out += _declaration(name, schemas[name])
        out.append("")
    operations: dict[str, Any] = doc["operations"]
    actions = sorted(name for name, op in operations.items() if op["action"] == "receive")
    out += ["/** Every action a client may send. */",
            "export type ActionName = " + " | ".join(_literal(a) for a in actions) + ";", "",
            "/** Each action's request frame. */", "export interface Requests {"]
    for action in actions:
        [request] = operations[action]["messages"]
        out.append(f"{INDENT}{action}: {_message_type(doc, request['$ref'])};")
    out += ["}", "", "/** The frames that may answer each action (an `error` frame included, except for `ping`). */",
            "export interface Answers {"]
    for action in actions:
        reply = operations[action].get("reply", {}).get("messages", [])
        types = dict.fromkeys(_wrapped(_message_type(doc, m["$ref"])) for m in reply)
        out.append(f"{INDENT}{action}: {' | '.join(types) or 'never'};")
    out += ["}", ""]
    pushed = sorted(name for name, op in operations.items() if op["action"] == "send")
    types = dict.fromkeys(_message_type(doc, m["$ref"]) for op in pushed for m in operations[op]["messages"])
    out += ["/** Every frame the server pushes unasked. */",
            "export type PushedFrame = " + " | ".join(types) + ";", ""]
    frames = sorted(name for name in schemas if name.endswith("Frame"))
    out += ["/** Every frame the server sends, in either format. */",
            "export type ServerFrame = " + " | ".join(frames) + ";", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, module="tools.ts_types", description=__doc__.splitlines()[0], output=OUTPUT,
                          render=lambda: render(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    sys.exit(main())
