"""docs/asyncapi.yaml, the protocol as data: up to date with the server's models, valid for the AsyncAPI parser,
and agreeing with the Python client (parley_client) on every request it sends and every frame field it reads."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import subprocess
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from websockets.protocol import State

from parley_client import client as client_module
from parley_client import frames as client_frames
from tools import asyncapi

ROOT = Path(__file__).resolve().parents[2]
DOC: dict[str, Any] = yaml.safe_load(asyncapi.DOCUMENT.read_text(encoding="utf-8"))
MESSAGES: dict[str, Any] = DOC["channels"]["parley"]["messages"]
# Values for the string patterns of the protocol (a generated example must match its schema).
PATTERN_EXAMPLES = {"^[A-Za-z0-9_.:-]+$": "d_Xq3Z8rT0kLmN2pQa", "^u/[A-Za-z0-9_.:/-]+$": "u/d_x/k1",
                    "^[a-z]+/[a-z0-9.+-]+$": "image/jpeg", "^[A-Za-z0-9_-]{8,64}$": "dev-alice-1"}


def validator(message: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/channels/parley/messages/{message}/payload",
                                 "channels": DOC["channels"], "components": DOC["components"]})


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = DOC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    if "allOf" in schema:  # a frame narrowed to one format: the overlay's choices replace the frame's
        merged = copy.deepcopy(resolve(schema["allOf"][0]))
        for overlay in schema["allOf"][1:]:
            merged = merge(merged, overlay)
        return merged
    return schema


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    base = copy.deepcopy(resolve(base))
    for key, value in overlay.items():
        if key == "properties":
            narrowed = {p: merge(base["properties"][p], v) for p, v in value.items()}
            base["properties"] = {**base["properties"], **narrowed}
        elif key == "items":
            base["items"] = merge(base["items"], value)
        else:
            base.pop("anyOf", None)
            base[key] = value
    return base


def example(schema: dict[str, Any]) -> Any:
    """A frame with every field the schema has, each with a value the schema allows."""
    schema = resolve(schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return example(next(b for b in schema["anyOf"] if b.get("type") != "null"))
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        if not props and isinstance(schema.get("additionalProperties"), dict):
            return {"k": example(schema["additionalProperties"])}
        return {name: example(sub) for name, sub in props.items()}
    if kind == "array":
        items = resolve(schema["items"])
        return [example(b) for b in items["anyOf"]] if "anyOf" in items else [example(items)]
    if kind == "string":
        if "pattern" in schema:
            return PATTERN_EXAMPLES[schema["pattern"]]
        return "x" * max(schema.get("minLength", 1), 3)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    raise AssertionError(f"no example for {schema}")


def property_names(schema: dict[str, Any]) -> set[str]:
    schema = resolve(schema)
    names = set(schema.get("properties", {}))
    for branch in schema.get("anyOf", []):
        names |= property_names(branch)
    if schema.get("type") == "array":
        names |= property_names(schema["items"])
    return names


def sub_schema(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """The schema of ``key`` in an object (or in one of its alternatives, or in an array's items)."""
    schema = resolve(schema)
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    for branch in [*schema.get("anyOf", []), *([schema["items"]] if "items" in schema else [])]:
        if found := sub_schema(branch, key):
            return found
    return {}


class Recorder(dict[str, Any]):
    """A frame that notes every key the client reads that its schema does not have."""

    def __init__(self, data: dict[str, Any], schema: dict[str, Any], path: str, misses: list[str]) -> None:
        super().__init__(data)
        self.schema, self.path, self.misses = schema, path, misses

    def _read(self, key: str, value: Any) -> Any:
        # ``type`` / ``t`` are probed to tell the formats apart (docs/protocol.md: read `type`, else `t`)
        if key not in property_names(self.schema) and key not in ("type", "t"):
            self.misses.append(f"{self.path}.{key}")
        return wrap(value, sub_schema(self.schema, key), f"{self.path}.{key}", self.misses)

    def __getitem__(self, key: str) -> Any:
        return self._read(key, super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._read(key, super().get(key, default))


def wrap(value: Any, schema: dict[str, Any], path: str, misses: list[str]) -> Any:
    if isinstance(value, dict):
        return Recorder(value, schema, path, misses)
    if isinstance(value, list):
        return [wrap(v, schema, path, misses) for v in value]
    return value


def typed_correctly(obj: Any) -> list[str]:
    """The fields of a parsed client object whose value is not of the type the client declares."""
    wrong = []
    hints = typing.get_type_hints(type(obj), vars(client_frames))
    for f in dataclasses.fields(obj):
        value, hint = getattr(obj, f.name), hints[f.name]
        allowed = get_types(hint)
        if not isinstance(value, allowed):
            wrong.append(f"{type(obj).__name__}.{f.name}: {value!r} is not {hint}")
        for item in value if isinstance(value, tuple) else [value]:
            if dataclasses.is_dataclass(item) and not isinstance(item, type):
                wrong += typed_correctly(item)
    return wrong


def get_types(hint: Any) -> tuple[type, ...]:
    if hint is Any:
        return (object,)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return tuple(t for h in typing.get_args(hint) for t in get_types(h))
    origin = typing.get_origin(hint)
    return (origin,) if origin is not None else (type(None),) if hint is None else (hint,)


def frame_messages(kind: str) -> list[str]:
    return sorted(n for n in MESSAGES if n in (f"{kind}Frame", f"{kind}FrameCompact", f"{kind}FrameFull"))


def read_as_client(message: str, parse: Any) -> Any:
    misses: list[str] = []
    frame = example(MESSAGES[message]["payload"])
    validator(message).validate(frame)  # the example itself is a frame the server may send
    parsed = parse(Recorder(frame, MESSAGES[message]["payload"], message, misses))
    assert misses == [], f"the client reads fields {message} does not have: {misses}"
    return parsed


# --- the document -----------------------------------------------------------------------------------------

def test_the_checked_in_document_is_what_the_models_generate() -> None:
    # given the server's models as they are now / when the document is generated again in memory
    generated = asyncapi.render()
    # then it is the checked-in one, byte for byte
    assert asyncapi.DOCUMENT.read_text(encoding="utf-8") == generated, (
        f"docs/asyncapi.yaml is stale: run `{asyncapi.COMMAND}` to update it")


def test_the_asyncapi_parser_finds_no_error_in_the_document() -> None:
    # when the AsyncAPI parser from npm reads the document
    run = subprocess.run(["node", "tools/asyncapi_validate.mjs", str(asyncapi.DOCUMENT)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    # then it reports no error (warnings are allowed; there are none today)
    report = json.loads(run.stdout)
    assert report["errors"] == [], run.stdout
    assert run.returncode == 0, run.stderr


def test_every_action_has_a_request_and_every_error_code_a_meaning() -> None:
    from parley import errors, routes

    actions = {name.removesuffix("Request") for name in MESSAGES if name.endswith("Request")}
    assert actions == {k for k in routes.ROUTE_KEYS if not k.startswith("$")}
    codes = DOC["components"]["schemas"]["ErrorCode"]
    assert errors.UnknownActionError.code in codes["enum"] and "internal_error" in codes["enum"]
    assert len(codes["x-enum-descriptions"]) == len(codes["enum"]) and all(codes["x-enum-descriptions"])


def test_field_rules_refuse_what_the_server_refuses() -> None:
    # a clientMsgId with a space, a history limit over 100, an unknown field: refused by the schema as by the server
    send = {"action": "send", "conversationId": "d_x", "clientMsgId": "a b", "body": {"text": "hi"}}
    assert not validator("sendRequest").is_valid(send)
    assert validator("sendRequest").is_valid({**send, "clientMsgId": "a-b"})
    assert not validator("historyRequest").is_valid({"action": "history", "conversationId": "d_x", "limit": 101})
    assert not validator("readRequest").is_valid({"action": "read", "conversationId": "d_x", "seq": 1, "x": 1})
    assert validator("pingRequest").is_valid({"action": "ping", "requestId": "anything goes"})


# --- the Python client against the document ---------------------------------------------------------------

class FakeSocket:
    """Records what the client sends and answers each request with a frame generated from the document."""

    state = State.OPEN

    def __init__(self, client: client_module.ParleyClient, answers: dict[str, str]) -> None:
        self.client, self.answers = client, answers
        self.sent: list[dict[str, Any]] = []

    async def send(self, text: str) -> None:
        frame = json.loads(text)
        self.sent.append(frame)
        action = frame["action"]
        if action == "ping":
            for pong in self.client._pings:
                pong.set_result(None)
            return
        if action == "typing":
            return
        key = frame.get("requestId") or frame["clientMsgId"]
        self.client._waiting[key].set_result(example(MESSAGES[self.answers[action]]["payload"]))


@pytest.mark.parametrize("frame_format", asyncapi.FORMATS)
def test_every_request_the_client_can_make_is_valid_for_the_document(frame_format: str) -> None:
    answers = {action: frame_messages(kinds[0])[-1 if frame_format == "full" else 0]
               for action, kinds in asyncapi.ANSWERS.items() if kinds}
    attachment = client_frames.Attachment(key="u/d_x/k1", content_type="image/jpeg", size=10, width=4, height=3)

    async def scenario() -> list[dict[str, Any]]:
        client = client_module.ParleyClient("ws://127.0.0.1:1", "token", frame_format=frame_format)  # type: ignore[arg-type]
        socket = FakeSocket(client, answers)
        client._ws = socket  # type: ignore[assignment]
        cid = "d_Xq3Z8rT0kLmN2pQa"
        await client.send(cid, "hi", attachments=[attachment], reply_to=3, mentions=["bob"], last_seq=2)
        await client.send(cid, "hi")
        await client.history(cid, before=9, after=2, limit=10)
        await client.open_direct("bob")
        await client.create_group(["bob", "carol"], "Book club", history_visibility="all")
        await client.add_members(cid, ["dave"])
        await client.remove_member(cid, "dave")
        await client.leave(cid)
        await client.rename_group(cid, "Club")
        await client.set_role(cid, "bob", "admin")
        await client.set_group_settings(cid, "joined")
        await client.list_conversations(10, cursor="abc")
        await client.ping()
        await client.read(cid, 4)
        await client.unread_counts()
        await client.presence(["bob"])
        await client.typing(cid)
        await client.get_preferences()
        await client.set_preferences(visibility="invisible", hide_read_receipts=True, notify="badge")
        await client.set_conversation_preferences(cid, notify=None, muted_until=1767225600000)
        await client.block("mallory")
        await client.unblock("mallory")
        await client.list_blocks()
        await client.report(cid, 3, "spam")
        await client.edit(cid, 3, "fixed")
        await client.delete(cid, 3)
        await client.react(cid, 3, "👍", remove=True)
        await client.register_device("apns", "0123456789abcdef")
        await client.unregister_device("0123456789abcdef")
        await client.request_upload(cid, "image/jpeg", 10)
        await client.attachment_urls(cid, ["u/d_x/k1"])
        return socket.sent

    # when the client makes every request it can make
    sent = asyncio.run(scenario())
    # then each is valid for its action's schema in the document, and every action is covered
    for frame in sent:
        errors = [e.message for e in validator(f"{frame['action']}Request").iter_errors(frame)]
        assert errors == [], f"{frame}: {errors}"
    assert {f["action"] for f in sent} | KEY_DIRECTORY_ACTIONS == set(asyncapi.ANSWERS)


# The key directory's requests are made by the Python client's e2e module (parley_client/e2e.py, built on its own
# branch): until it is merged this scenario cannot make them, and once it is they are checked like the rest.
KEY_DIRECTORY_ACTIONS = {"publishKeys", "removeDevice", "getKeys"}


def test_every_frame_the_client_reads_has_the_fields_it_reads_with_the_types_it_expects() -> None:
    parsers: dict[str, Any] = {
        "ack": lambda f: client_frames.Ack.from_frame(f, conversation_id="d_x"),
        "message": client_frames.entry_from_frame,
        "change": client_frames.entry_from_frame,
        "history": client_frames.HistoryPage.from_frame,
        "conversation": lambda f: client_frames.Conversation.from_frame(f["conversation"]),
        "conversations": client_frames.ConversationsPage.from_frame,
        "changed": client_frames.Changed.from_frame,
        **client_frames._TYPED,
    }
    wrong: list[str] = []
    for kind, parse in parsers.items():
        names = frame_messages(kind)
        assert names, f"the client reads a {kind!r} frame the document does not have"
        for name in names:
            parsed = read_as_client(name, parse)
            wrong += typed_correctly(parsed)
            for item in getattr(parsed, "messages", getattr(parsed, "conversations", ())):
                wrong += typed_correctly(item)
    assert wrong == []
    # the error frame: what the client reads of it (parley_client.client._call, frames.answered_send)
    error_fields = set(resolve(MESSAGES["errorFrame"]["payload"])["properties"])
    assert {"code", "message", "ref", "retryAfterMs", "clientMsgId"} <= error_fields


def test_the_client_reads_compact_frames_by_their_compact_keys() -> None:
    # given a compact message frame as the document defines it / when the client reads it
    message = read_as_client("messageFrameCompact", client_frames.entry_from_frame)
    frame = example(MESSAGES["messageFrameCompact"]["payload"])
    # then every compact key landed in its field
    assert (message.conversation_id, message.seq, message.sender_id, message.sent_at, message.client_msg_id) == (
        frame["c"], frame["s"], frame["f"], frame["at"], frame["r"])
    assert message.message_id == f"{frame['c']}.{frame['s']}"
