"""The handlers' edge: bad frames become error frames with stable codes, never exceptions."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from pydantic import BaseModel

from parley.edge import Caller, run_route
from parley.protocol import PongFrame, SendRequest
from tests.support.events import message_event
from tests.support.handlers import handler_module


def echo_route(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    SendRequest.model_validate(raw)
    return PongFrame()


def boom_route(caller: Caller, raw: dict[str, Any]) -> BaseModel:
    raise RuntimeError("database on fire")


def run(body: Any, route=echo_route, user: str | None = "alice") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = run_route(message_event(user, "conn-1", body, route_key="send"), route)
    assert response["statusCode"] == 200
    frame: dict[str, Any] = json.loads(response["body"])
    return frame


@pytest.mark.parametrize("body, code", [
    ("not json", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ('"a string"', "invalid_frame"),
    ("", "invalid_frame"),
    ("x" * 40_000, "frame_too_large"),
    ({"action": "send"}, "invalid_frame"),
    ({"action": "send", "conversationId": 7, "clientMsgId": "c", "body": {"text": "t"}}, "invalid_frame"),
    ({"action": "send", "conversationId": "c", "clientMsgId": "c", "body": {"text": "t"}, "senderId": "eve"},
     "invalid_frame"),
    ({"action": "send", "conversationId": "c", "clientMsgId": "c", "body": {"text": "t", "sentAt": 1}},
     "invalid_frame"),
])
def test_bad_frames_get_error_frames(body: Any, code: str) -> None:
    assert run(body) ["code"] == code


@pytest.mark.parametrize("digits", [4301, 20_000])
def test_a_number_too_long_to_parse_is_an_invalid_frame_not_an_internal_error(digits: int) -> None:
    # given a frame that is valid JSON but holds a number of more digits than Python converts (4300)
    body = '{"action": "send", "conversationId": "c", "clientMsgId": "c", "body": {"text": "t"}, "lastSeq": ' + (
        "9" * digits) + "}"
    # when it reaches a route, then it is refused as out of range, with the stable code for that
    frame = run(body)
    assert frame["code"] == "invalid_frame"
    assert "9999" not in frame["message"]


def test_an_error_echoes_the_request_id_as_ref_and_a_sends_client_msg_id() -> None:
    # given a send carrying both ids, when it is refused, then each comes back in its own field
    frame = run({"action": "send", "clientMsgId": "cm-1", "requestId": "rq-9"})
    assert (frame["ref"], frame["clientMsgId"]) == ("rq-9", "cm-1")
    # without a requestId there is no ref; only a send's error carries clientMsgId
    assert "ref" not in run({"action": "send", "clientMsgId": "cm-1"})
    assert "clientMsgId" not in run({"action": "history", "clientMsgId": "cm-1", "requestId": "rq-1"})
    # ids that are not well formed are never echoed back
    assert "clientMsgId" not in run({"action": "send", "clientMsgId": "bad id\n"})


def test_an_unexpected_failure_is_an_internal_error_frame_without_details() -> None:
    frame = run({"action": "x"}, route=boom_route)
    assert frame == {"type": "error", "code": "internal_error", "message": "Internal error; nothing was changed."}


def test_no_verified_identity_is_unauthorized() -> None:
    assert run({"action": "ping"}, user=None)["code"] == "unauthorized"


def test_validation_errors_never_echo_the_offending_value() -> None:
    frame = run({"action": "send", "conversationId": "c", "clientMsgId": "c", "body": {"text": 12345678}})
    assert "12345678" not in frame["message"]


@pytest.mark.parametrize("action", [None, 7, ["send"], {"x": 1}, ""])
def test_a_frame_without_a_string_action_is_invalid_frame_as_documented(action: Any) -> None:
    # docs/protocol.md: "a frame without one, or with a non-string one, is answered invalid_frame"
    body = {"conversationId": "c"} if action is None else {"action": action}
    assert run(body, route=handler_module("default").default)["code"] == "invalid_frame"


def test_client_msg_id_takes_exactly_the_documented_characters() -> None:
    # docs/protocol.md: 1-64 characters of A-Z a-z 0-9 _ . : -
    documented = set(string.ascii_letters + string.digits + "_.:-")
    for char in map(chr, range(0x20, 0x7F)):
        frame = run({"action": "send", "conversationId": "c", "clientMsgId": f"a{char}b", "body": {"text": "t"}})
        assert (frame["type"] == "pong") == (char in documented), repr(char)
    for cmid in ("", "x" * 64, "x" * 65):
        frame = run({"action": "send", "conversationId": "c", "clientMsgId": cmid, "body": {"text": "t"}})
        assert (frame["type"] == "pong") == (len(cmid) == 64)
