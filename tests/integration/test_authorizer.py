"""The $connect authorizer under moto: the HS256 secret comes from Secrets Manager."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import token
from tests.support.events import authorizer_event
from tests.support.handlers import invoke

pytestmark = pytest.mark.usefixtures("aws_env")


def effect(policy: dict[str, Any]) -> str:
    effect_value: str = policy["policyDocument"]["Statement"][0]["Effect"]
    return effect_value


def test_a_valid_query_token_is_allowed_and_carries_the_user_id() -> None:
    policy = invoke("authorizer", authorizer_event(query={"token": token("alice")}))
    assert effect(policy) == "Allow"
    assert policy["principalId"] == "alice"
    assert policy["context"] == {"userId": "alice"}


def test_a_valid_bearer_header_is_allowed() -> None:
    policy = invoke("authorizer", authorizer_event(headers={"Authorization": f"Bearer {token('bob')}"}))
    assert effect(policy) == "Allow" and policy["context"]["userId"] == "bob"


def test_no_token_is_401() -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", authorizer_event())


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: token("alice", key="not-the-secret-0123456789abcdef"), id="bad signature"),
    pytest.param(lambda: token("alice", exp=int(time.time()) - 60), id="expired"),
    pytest.param(lambda: token("alice", aud="another-app"), id="wrong aud"),
    pytest.param(lambda: token("alice", iss="another-issuer"), id="wrong iss"),
    pytest.param(lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", id="alg none"),
])
def test_a_bad_token_is_denied(bad: Any) -> None:
    policy = invoke("authorizer", authorizer_event(query={"token": bad()}))
    assert effect(policy) == "Deny"
    assert "context" not in policy or not policy["context"]
