"""No request path issues a Scan: a full session's AWS calls are recorded by botocore's hooks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.integration.conftest import Chat, token
from tests.support.events import authorizer_event, disconnect_event
from tests.support.handlers import invoke


def test_a_whole_session_reads_by_key_only(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    invoke("authorizer", authorizer_event(query={"token": token("alice")}))
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    group = alice.call("conversations", {"action": "createGroup", "members": ["bob"]})
    alice.send(cid, "hi", "c1")
    alice.send(group["conversation"]["conversationId"], "hi all", "c2")
    bob.history(cid, after=0)
    bob.call("conversations", {"action": "listConversations"})
    invoke("disconnect", disconnect_event("bob", "b1"))
    assert calls["Query"] > 0 and calls["PutItem"] > 0
    assert calls["Scan"] == 0, calls
