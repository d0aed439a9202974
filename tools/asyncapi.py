"""docs/asyncapi.yaml, the wire protocol as data (AsyncAPI 3.0), generated from the server's own pydantic models.

``.venv/bin/python -m tools.asyncapi`` writes the document; ``--check`` only compares it with the checked-in one
(exit 1 when stale). Every request and frame schema is the model's ``model_json_schema`` (requests in
``validation`` mode, frames in ``serialization`` mode, camelCase aliases), every error code comes from
``parley.errors``, and every action from ``parley.routes``: nothing in the document is kept by hand beside them.
The document describes the server: it *receives* the requests and *sends* the frames. docs/protocol.md is the
prose contract; tests/unit/test_asyncapi.py checks this document and the Python client against each other.
"""

from __future__ import annotations

import importlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from parley import errors, models, routes
from parley.protocol import _FEATURES
from parley.protocol.base import MAX_FRAME_BYTES, Inbound, Outbound
from tools import generated

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"
COMMAND = ".venv/bin/python -m tools.asyncapi"
SCHEMAS = "#/components/schemas/"
CHANNEL = "#/channels/parley"
FORMATS = ("compact", "full")
T = TypeVar("T")


class PingRequest(BaseModel):
    """``ping``: the keepalive. API Gateway answers it itself (no function runs) with ``pong``, whatever other
    fields it has: it is never refused and its answer carries no ``ref``."""

    model_config = ConfigDict(extra="allow")

    action: Literal["ping"]


# The action each request answers with (docs/protocol.md, "Frames"): frame types, in full-format names.
ANSWERS: dict[str, tuple[str, ...]] = {
    "send": ("ack",), "history": ("history",),
    "openDirect": ("conversation",), "createGroup": ("conversation",), "listConversations": ("conversations",),
    "addMembers": ("conversation",), "removeMember": ("conversation",), "leave": ("conversation",),
    "renameGroup": ("conversation",), "setRole": ("conversation",), "setGroupSettings": ("conversation",),
    "presence": ("presence",), "typing": (), "read": ("unread",), "unreadCounts": ("unreadCounts",),
    "getPreferences": ("preferences",), "setPreferences": ("preferences",),
    "setConversationPreferences": ("conversationPreferences",),
    "block": ("blocks",), "unblock": ("blocks",), "listBlocks": ("blocks",), "report": ("reported",),
    "registerDevice": ("device",), "unregisterDevice": ("device",),
    "requestUpload": ("upload",), "attachmentUrls": ("attachmentUrls",),
    "edit": ("changed",), "delete": ("changed",), "react": ("changed",),
    "publishKeys": ("keysPublished",), "removeDevice": ("deviceRemoved",), "getKeys": ("keys",),
    "ping": ("pong",),
}
# Frames the server sends unasked (docs/protocol.md, "Frames"), and what each is.
PUSHED: dict[str, str] = {
    "message": "a member sent a message (to every connection of every member but the sending one)",
    "change": "an edit, delete, reaction or group change was stored (to members' connections)",
    "presence": "a contact's first connection opened or last one closed",
    "typing": "a member is typing",
    "receipt": "a member read the conversation up to seq",
    "unread": "you read the conversation on another device",
    "attachment": "a sent attachment's thumbnail and preview are ready",
    "keysChanged": "a member of one of your end-to-end encrypted conversations added or removed a device",
}
# Outbound fields the models type as ``str`` whose values are one of an enum's.
ENUM_FIELDS: dict[tuple[str, str], type[StrEnum]] = {
    ("ChangeFrame", "kind"): models.ChangeKind,
    ("CompactChangeFrame", "k"): models.ChangeKind,
    ("ChangedFrame", "kind"): models.ChangeKind,
    ("ConversationInfo", "kind"): models.ConversationKind,
    ("ConversationInfo", "historyVisibility"): models.HistoryVisibility,
    ("PresenceEntry", "status"): models.PresenceStatus,
    ("PreferencesFrame", "visibility"): models.Visibility,
    ("PreferencesFrame", "notify"): models.NotifyMode,
    ("ConversationPreferencesFrame", "notify"): models.NotifyMode,
    ("DeviceFrame", "platform"): models.Platform,
}


class _WireSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, as the frames are on the wire: frames are written without their ``None`` fields
    (``Outbound.to_json``), so in serialization mode an optional field is absent, never null, and a field
    with a non-None default (``type``) is always there. Properties carry no generated titles."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        schema = field["schema"]
        if self.mode == "serialization" and schema["type"] == "default":
            return "default_factory" in schema or schema.get("default") is not None
        return super().field_is_required(field, total)

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        if self.mode == "serialization":
            return self.generate_inner(schema["schema"])
        return super().nullable_schema(schema)

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        value = super().default_schema(schema)
        if self.mode == "serialization" and value.get("default", ...) is None:
            del value["default"]
        return value

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _subclasses(cls: type[T]) -> list[type[T]]:
    found: list[type[T]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _literal(model: type[BaseModel], field: str) -> tuple[str, ...]:
    info = model.model_fields.get(field)
    return tuple(get_args(info.annotation)) if info is not None else ()


def _requests() -> dict[str, type[BaseModel]]:
    """action -> its request model, for every action the gateway routes (ping included)."""
    found: dict[str, type[BaseModel]] = {"ping": PingRequest}
    for model in _subclasses(Inbound):
        for action in _literal(model, "action"):
            found[action] = model
    expected = {k for k in routes.ROUTE_KEYS if not k.startswith("$")}
    if set(found) != expected or set(ANSWERS) != expected:
        raise SystemExit(f"actions and models disagree: routes {sorted(expected)}, models {sorted(found)}, "
                         f"answers {sorted(ANSWERS)}")
    return dict(sorted(found.items()))


def _frames() -> dict[str, dict[str, type[Outbound]]]:
    """frame type (full-format name) -> {"": model} or {"compact": model, "full": model}."""
    outbound = _subclasses(Outbound)
    by_name = {m.__name__: m for m in outbound}
    compact = {m: by_name[m.__name__.removeprefix("Compact")] for m in outbound if _literal(m, "t")}
    found: dict[str, dict[str, type[Outbound]]] = {}
    for model in outbound:
        if (kind := _literal(model, "type")) and model not in compact.values():
            found[kind[0]] = {"": model}
    for model, full in compact.items():
        found[_literal(full, "type")[0]] = {"compact": model, "full": full}
    return dict(sorted(found.items()))


def _error_codes() -> dict[str, str]:
    """Every stable error code and its meaning (the error class's docstring)."""
    codes = {errors.ParleyError.code: errors.error_message(Exception())}
    for cls in errors.error_classes()[1:]:
        if not cls.socket:
            continue  # the server API's own codes (docs/openapi.json)
        if cls.code in codes and cls.code != errors.ParleyError.code:
            raise SystemExit(f"error code {cls.code} is used twice")
        codes.setdefault(cls.code, " ".join((cls.__doc__ or "").split()).replace("``", "`"))
    return dict(sorted(codes.items()))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _narrow(schema: dict[str, Any], defs: dict[str, Any], other: set[str]) -> dict[str, Any] | None:
    """A schema to put beside ``schema`` (``allOf``) that keeps only one format's frames wherever ``schema``
    allows both; None when nothing in it depends on the format. ``other`` names the other format's frames."""
    def only_other(branch: dict[str, Any]) -> bool:
        if "$ref" in branch:
            return branch["$ref"].removeprefix(SCHEMAS) in other
        if branch.get("type") == "array":
            items = branch.get("items", {})
            return all(only_other(b) for b in items.get("anyOf", [items]))
        return False

    if "$ref" in schema:
        return _narrow(defs[schema["$ref"].removeprefix(SCHEMAS)], defs, other)
    if "anyOf" in schema:
        kept = [b for b in schema["anyOf"] if not only_other(b)]
        return {"anyOf": kept} if len(kept) < len(schema["anyOf"]) else None
    if schema.get("type") == "array" and "items" in schema:
        items = _narrow(schema["items"], defs, other)
        return {"items": items} if items else None
    overlay = {name: n for name, prop in schema.get("properties", {}).items()
               if (n := _narrow(prop, defs, other)) is not None}
    return {"properties": overlay} if overlay else None


def _schemas(requests: dict[str, type[BaseModel]], frames: dict[str, dict[str, type[Outbound]]],
             codes: dict[str, str]) -> dict[str, Any]:
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in {*requests.values()}]
    inputs += [(m, "serialization") for variants in frames.values() for m in variants.values()]
    inputs.sort(key=lambda pair: pair[0].__name__)
    _, generated = models_json_schema(inputs, by_alias=True, ref_template=SCHEMAS + "{model}",
                                      schema_generator=_WireSchema)
    defs: dict[str, Any] = generated["$defs"]
    for (model, field), enum in ENUM_FIELDS.items():
        prop = defs[model]["properties"][field]
        defs[model]["properties"][field] = {**prop, "enum": [e.value for e in enum]}
    defs["ErrorFrame"]["properties"]["code"] = _ref("ErrorCode")
    defs["ErrorCode"] = {
        "title": "ErrorCode", "type": "string", "enum": list(codes),
        "x-enum-descriptions": list(codes.values()),
        "description": "The stable, machine-readable code of an `error` frame (`message` is for humans and may "
                       "change). docs/protocol.md, \"Error codes\", says what a client should do for each.\n\n"
                       + "\n".join(f"- `{code}`: {meaning}" for code, meaning in codes.items()),
    }
    defs["FrameFormat"] = {"title": "FrameFormat", "type": "string", "enum": [f.value for f in models.FrameFormat],
                           "default": models.FrameFormat.COMPACT.value}
    return defs


def _message(name: str, summary: str, payload: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    message = {"name": name, "title": name, "summary": summary, "contentType": "application/json",
               "payload": payload}
    if description:
        message["description"] = description
    return message


def _doc(model: type[BaseModel]) -> str | None:
    doc = model.__doc__
    if not doc or model.__module__ == "pydantic.main" or doc.startswith("!!!"):
        return None
    return " ".join(doc.split()).replace("``", "`")


def _messages(requests: dict[str, type[BaseModel]], frames: dict[str, dict[str, type[Outbound]]],
              defs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Every message of the channel, and each frame type's messages (one, or one per format)."""
    full_only = {v["full"].__name__ for v in frames.values() if "full" in v}
    compact_only = {v["compact"].__name__ for v in frames.values() if "compact" in v}
    messages: dict[str, Any] = {}
    for action, model in requests.items():
        payload: dict[str, Any] = _ref(model.__name__)
        if len(_literal(model, "action")) > 1:
            payload = {"allOf": [payload, {"properties": {"action": {"const": action}}}]}
        messages[f"{action}Request"] = _message(f"{action}Request", f"the `{action}` request", payload,
                                                _doc(model))
    frame_messages: dict[str, list[str]] = {}
    for kind, variants in frames.items():
        names = frame_messages.setdefault(kind, [])
        if "" not in variants:
            for f in FORMATS:
                names.append(name := f"{kind}Frame{f.title()}")
                messages[name] = _message(name, f"the `{kind}` frame, {f} format", _ref(variants[f].__name__),
                                          _doc(variants[f]))
            continue
        model = variants[""]
        overlays = {f: _narrow(_ref(model.__name__), defs, compact_only if f == "full" else full_only)
                    for f in FORMATS}
        if not all(overlays.values()):
            names.append(name := f"{kind}Frame")
            messages[name] = _message(name, f"the `{kind}` frame", _ref(model.__name__), _doc(model))
            continue
        for f in FORMATS:  # a frame that carries message or change frames: in each format, only its own
            names.append(name := f"{kind}Frame{f.title()}")
            messages[name] = _message(name, f"the `{kind}` frame, {f} format",
                                      {"allOf": [_ref(model.__name__), overlays[f]]}, _doc(model))
    return messages, frame_messages


def _operations(requests: dict[str, type[BaseModel]], frame_messages: dict[str, list[str]]) -> dict[str, Any]:
    def refs(names: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"{CHANNEL}/messages/{n}"} for n in names]

    operations: dict[str, Any] = {}
    for action in requests:
        answers = [n for kind in ANSWERS[action] for n in frame_messages[kind]]
        if action != "ping":
            answers += frame_messages["error"]
        operation: dict[str, Any] = {
            "action": "receive", "channel": {"$ref": CHANNEL}, "messages": refs([f"{action}Request"]),
            "summary": f"`{action}` (docs/protocol.md)",
        }
        if answers:
            operation["reply"] = {"channel": {"$ref": CHANNEL}, "messages": refs(answers)}
        operations[action] = operation
    operations["typing"]["description"] = "Nothing is answered; a refusal is an `error` frame."
    for kind, when in PUSHED.items():
        operations[f"push{kind[0].upper()}{kind[1:]}"] = {
            "action": "send", "channel": {"$ref": CHANNEL}, "messages": refs(frame_messages[kind]),
            "summary": f"pushed `{kind}`: {when}",
        }
    return dict(sorted(operations.items()))


def document() -> dict[str, Any]:
    for feature in _FEATURES:
        importlib.import_module(f"parley.protocol.{feature}")
    requests, frames, codes = _requests(), _frames(), _error_codes()
    defs = _schemas(requests, frames, codes)
    messages, frame_messages = _messages(requests, frames, defs)
    operations = _operations(requests, frame_messages)
    used = {m["$ref"].rsplit("/", 1)[1] for op in operations.values()
            for m in [*op["messages"], *op.get("reply", {}).get("messages", [])]}
    if unused := sorted(set(messages) - used):
        raise SystemExit(f"messages no operation uses: {unused}")

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Parley WebSocket protocol",
            "version": "1",
            "description": (
                "The contract between Parley and the apps that embed it, as data: generated from the server's "
                f"pydantic models by `{COMMAND}` (never edit it by hand); docs/protocol.md is the same contract "
                "in prose. It describes the server: it receives requests (`action`) and sends frames (`type`, "
                "or `t` for the compact format's frames). Frames are UTF-8 JSON text, at most "
                f"{MAX_FRAME_BYTES // 1024} KB. Each connection chooses its frame format at the handshake "
                "(`format`, compact by default): it changes the `ack`, `message` and `change` frames and the "
                "`history`, `conversation` and `conversations` answers that carry them, nothing else. Every "
                "request may carry a `requestId`, echoed as `ref` by its answer or its `error` frame; unknown "
                "fields are refused with `invalid_frame` (except in `ping`). Fields marked optional in a frame "
                "are absent, never null, when they have no value."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "aws": {
                "host": "{apiId}.execute-api.{region}.amazonaws.com", "pathname": "/{stage}", "protocol": "wss",
                "description": "A deployment (its `wss://` URL is a stack output).",
                "variables": {"apiId": {"description": "the WebSocket API's id"},
                              "region": {"description": "the AWS region", "default": "us-east-1"},
                              "stage": {"description": "the API stage", "default": "prod"}},
            },
            "local": {"host": "127.0.0.1:8080", "protocol": "ws",
                      "description": "`make run`: the local stack (docs/local-stack.md)."},
        },
        "channels": {
            "parley": {
                "title": "A chat connection",
                "description": ("One WebSocket connection, authorized at the handshake by a chat token "
                                "(docs/protocol.md, \"Connecting\"): 401 without a token, 403 for an invalid one "
                                "or an unknown `format`, 429 for too many connections."),
                "messages": {name: messages[name] for name in sorted(messages)},
                "bindings": {"ws": {
                    "bindingVersion": "0.1.0", "method": "GET",
                    "query": {"type": "object", "properties": {
                        "token": {"type": "string", "description": "the chat token (a JWT), when not sent as a "
                                                                   "header"},
                        "format": _ref("FrameFormat")}},
                    "headers": {"type": "object", "properties": {
                        "Authorization": {"type": "string", "pattern": "^Bearer .+$",
                                          "description": "the chat token, for clients that can set headers"}}},
                }},
            },
        },
        "operations": operations,
        "components": {"schemas": dict(sorted(defs.items()))},
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a schema used twice is written twice: no YAML anchors in a document tools read


def render() -> str:
    """The document as YAML: keys sorted, so the same models always give the same text."""
    return yaml.dump(document(), Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=120,
                     default_flow_style=False)


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, module="tools.asyncapi", description=__doc__.splitlines()[0], output=DOCUMENT,
                          render=render)


if __name__ == "__main__":
    sys.exit(main())
