"""Properties of the end-to-end encryption frames (docs/e2e.md): whatever a client sends as a key, a device id, a
key request or an envelope, the answer is a well-formed frame, and a refusal carries a stable code and changes
nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley import errors
from tests.integration.conftest import Chat, all_items, reset_caches
from tests.support.e2e import Device, envelope
from tests.support.events import message_event
from tests.support.handlers import invoke

KNOWN_CODES = {cls.code for cls in errors.error_classes()} - {"internal_error"}
PHONE = Device("dev-alice-01")

b64_like = (st.binary(min_size=0, max_size=100).map(lambda b: base64.b64encode(b).decode())
            | st.text(max_size=100) | st.integers() | st.none())
ids = st.text(max_size=80) | st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | st.integers()


@st.composite
def publish_frames(draw: st.DrawFn) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(json.dumps(PHONE.publish_frame()))
    field = draw(st.sampled_from(["deviceId", "identityKey", "prekey.id", "prekey.key", "prekey.sig", "prekey",
                                  "extra"]))
    if field == "deviceId":
        frame["deviceId"] = draw(ids)
    elif field == "identityKey":
        frame["identityKey"] = draw(b64_like)
    elif field.startswith("prekey."):
        part = field.removeprefix("prekey.")
        frame["prekey"][part] = draw(st.integers(min_value=-(2**40), max_value=2**40) | b64_like if part == "id"
                                     else b64_like)
    elif field == "prekey":
        frame["prekey"] = draw(b64_like)
    else:
        frame[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in frame))] = draw(b64_like)
    return frame


key_requests = st.one_of(
    st.fixed_dictionaries({"action": st.just("getKeys"), "userIds": st.lists(ids, max_size=60) | b64_like}),
    st.fixed_dictionaries({"action": st.just("getKeys"), "conversationId": ids}),
    st.fixed_dictionaries({"action": st.just("getKeys")}),
    st.fixed_dictionaries({"action": st.just("removeDevice"), "deviceId": ids}),
)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    sent: dict[str, Any] = envelope("dev-alice-01", [("bob", "dev-bob-001")])
    field = draw(st.sampled_from(["v", "sd", "e", "n", "c", "sig", "k", "k.0", "extra", "text"]))
    if field == "k.0":
        entry = sent["k"][0]
        entry[draw(st.sampled_from(["u", "d", "p", "n", "w", "x"]))] = draw(b64_like | ids)
    elif field == "extra":
        sent[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in sent))] = draw(b64_like)
    elif field != "text":
        sent[field] = draw(b64_like | ids | st.lists(b64_like, max_size=3))
    body: dict[str, Any] = {"e2e": sent}
    if field == "text":
        body["text"] = draw(st.text(min_size=1, max_size=20))
    return body


@pytest.fixture
def unlimited(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Rate limits off: each example's answer must depend on its frame alone, not on how many came before."""
    monkeypatch.setenv("PARLEY_RATE_LIMITS", "")
    reset_caches()
    return aws_env


def _answer(function: str, user: str, body: Any) -> dict[str, Any]:
    response = invoke(function, message_event(user, "a1", body))
    assert response["statusCode"] == 200
    frame: dict[str, Any] = json.loads(response["body"])
    assert isinstance(frame, dict) and isinstance(frame.get("type"), str)
    return frame


def _refused_or(frame: dict[str, Any], allowed: set[str], aws_env: Any, before: list[Any]) -> None:
    if frame["type"] == "error":
        assert frame["code"] in KNOWN_CODES, frame
        assert all_items(aws_env) == before
    else:
        assert frame["type"] in allowed, frame


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=publish_frames())
def test_a_malformed_publication_is_refused_with_a_stable_code_and_stores_nothing(unlimited: Any,
                                                                                  frame: dict[str, Any]) -> None:
    before = all_items(unlimited)
    answer = _answer("keys", "alice", frame)
    _refused_or(answer, {"keysPublished"}, unlimited, before)
    if answer["type"] == "error" and frame.get("deviceId") == PHONE.device_id \
            and frame.get("identityKey") == PHONE.identity_key and isinstance(frame.get("prekey"), dict):
        assert answer["code"] in ("invalid_frame", "invalid_key_signature")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=key_requests, as_user=st.sampled_from(["alice", "mallory"]))
def test_key_requests_answer_or_refuse_and_never_write(unlimited: Any, frame: dict[str, Any], as_user: str) -> None:
    before = all_items(unlimited)
    answer = _answer("keys", as_user, frame)
    _refused_or(answer, {"keys", "deviceRemoved"}, unlimited, before)
    assert all_items(unlimited) == before  # nobody had devices: even an answer changes nothing


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=envelopes())
def test_a_malformed_envelope_is_refused_with_a_stable_code_and_stores_nothing(unlimited: Any,
                                                                               body: dict[str, Any]) -> None:
    if not all_items(unlimited):
        Chat("alice", "a1").call("conversations", {"action": "openDirect", "userId": "bob", "e2e": True})
    [cid] = [i["cid"]["S"] for i in all_items(unlimited) if i["sk"]["S"] == "~META" and "cid" in i
             and i["pk"]["S"].startswith("CONV#")]
    before = all_items(unlimited)
    answer = _answer("send", "alice", {"action": "send", "conversationId": cid, "clientMsgId": "c-1", "body": body})
    _refused_or(answer, {"ack"}, unlimited, before)
    if "text" in body:
        assert answer["code"] in ("e2e_required", "invalid_frame")
