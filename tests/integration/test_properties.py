"""Property: any frame, however malformed, gets a well-formed answer, and an error frame changes nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley import errors
from parley.routes import CONNECT, DISCONNECT, ROUTES
from tests.integration.conftest import Chat, all_items
from tests.support.events import message_event
from tests.support.handlers import invoke

KNOWN_CODES = {cls.code for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.ParleyError)} - {"internal_error"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

TEMPLATES: dict[str, dict[str, Any]] = {
    "send": {"action": "send", "conversationId": "CID", "clientMsgId": "c-1", "body": {"text": "hello"}},
    "history": {"action": "history", "conversationId": "CID", "after": 0, "limit": 10},
    "openDirect": {"action": "openDirect", "userId": "bob"},
    "createGroup": {"action": "createGroup", "members": ["bob"], "name": "g"},
    "listConversations": {"action": "listConversations", "limit": 5},
    "presence": {"action": "presence", "userIds": ["bob"]},
    "typing": {"action": "typing", "conversationId": "CID"},
    "read": {"action": "read", "conversationId": "CID", "seq": 1},
    "unreadCounts": {"action": "unreadCounts"},
    "getPreferences": {"action": "getPreferences"},
    "setPreferences": {"action": "setPreferences", "notify": "badge"},
    "setConversationPreferences": {"action": "setConversationPreferences", "conversationId": "CID", "notify": "push"},
    "edit": {"action": "edit", "conversationId": "CID", "seq": 1, "text": "edited"},
    "delete": {"action": "delete", "conversationId": "CID", "seq": 1},
    "react": {"action": "react", "conversationId": "CID", "seq": 1, "emoji": "👍", "remove": False},
}
FUNCTION_OF = {route: function for route, function in ROUTES.items() if route not in (CONNECT, DISCONNECT)}


@st.composite
def mutated_frames(draw: st.DrawFn) -> tuple[str, Any]:
    route = draw(st.sampled_from(sorted(TEMPLATES)))
    frame = json.loads(json.dumps(TEMPLATES[route]))
    field = draw(st.sampled_from([k for k in frame if k != "action"] + ["body.text", "extra"]))
    how = draw(st.sampled_from(["drop", "replace", "extra"]))
    if field == "body.text" and isinstance(frame.get("body"), dict):
        frame["body"] = {"text": draw(json_values.filter(lambda v: not isinstance(v, str))), "x": 1} \
            if how != "drop" else {}
    elif how == "drop" and field in frame:
        del frame[field]
    elif how == "replace" and field in frame:
        frame[field] = draw(json_values.filter(lambda v, old=frame[field]: type(v) is not type(old)))
    else:
        frame[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in frame))] = draw(json_values)
    return route, frame


frames = (
    mutated_frames()
    | st.tuples(st.sampled_from(sorted(FUNCTION_OF)), json_values)
    | st.tuples(st.sampled_from(sorted(FUNCTION_OF)), st.text(max_size=200))
    | st.tuples(st.just("send"), st.builds(lambda n: {**TEMPLATES["send"], "body": {"text": "x" * n}},
                                           st.integers(65, 5000)))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=frames, as_member=st.booleans())
def test_malformed_frames_get_error_frames_and_change_nothing(aws_env: Any, case: tuple[str, Any],
                                                              as_member: bool) -> None:
    if not all_items(aws_env):
        Chat("alice", "a1").connect()
        cid = Chat("alice", "a1").open_direct("bob")
        Chat("alice", "a1").send(cid, "first", "c-0")
        for template in TEMPLATES.values():
            if "conversationId" in template:
                template["conversationId"] = cid
    route, body = case
    function = FUNCTION_OF[route]
    before = all_items(aws_env)
    user = "alice" if as_member else "mallory"
    response = invoke(function, message_event(user, "a1", body, route_key=route))
    assert response["statusCode"] == 200
    if "body" not in response:  # typing answers nothing
        return
    frame = json.loads(response["body"])
    assert isinstance(frame, dict) and isinstance(frame.get("type"), str)
    if frame["type"] == "error":
        assert frame["code"] in KNOWN_CODES, frame
        assert all_items(aws_env) == before
