"""The $connect authorizer at the handshake: who gets in, and how the others are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from local.stack import Stack
from parley_client import HandshakeRejected, ParleyClient
from tests.e2e.harness import connected, run, stored_connection_ids

pytestmark = pytest.mark.timeout(60)


async def _handshake_status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        async with connect(url, additional_headers=headers, proxy=None, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_a_missing_token_is_refused_with_401(stack: Stack) -> None:
    assert run(_handshake_status(stack.ws_url)) == 401
    assert run(_handshake_status(f"{stack.ws_url}/{stack.settings.stage}?other=1")) == 401


@pytest.mark.parametrize("forge", [
    pytest.param(lambda s, uid: s.mint_token(uid, secret="another-secret-of-at-least-32-bytes!!"), id="bad-signature"),
    pytest.param(lambda s, uid: s.mint_token(uid, ttl_seconds=-3600), id="expired"),
    pytest.param(lambda s, uid: s.mint_token(uid, audience="someone-else"), id="wrong-audience"),
    pytest.param(lambda s, uid: s.mint_token(uid, issuer="someone-else"), id="wrong-issuer"),
    pytest.param(lambda s, uid: "not.a.jwt", id="garbage"),
])
def test_an_invalid_token_is_refused_with_403_and_leaves_no_connection(
        stack: Stack, user: Callable[[str], str], forge: Callable[[Stack, str], str]) -> None:
    eve = user("eve")
    client = ParleyClient(stack.ws_url, forge(stack, eve))
    with pytest.raises(HandshakeRejected) as refused:
        run(client.connect())
    assert refused.value.status == 403
    assert stored_connection_ids(stack, eve) == set()


def test_a_valid_token_connects_and_records_the_connection(stack: Stack, user: Callable[[str], str]) -> None:
    alice = user("alice")

    async def scenario() -> None:
        client = await connected(stack, alice)
        try:
            assert await client.ping() >= 0
            assert len(stored_connection_ids(stack, alice)) == 1
        finally:
            await client.close()

    run(scenario())


def test_a_bearer_token_in_the_authorization_header_connects(stack: Stack, user: Callable[[str], str]) -> None:
    token = stack.mint_token(user("native-app"))
    assert run(_handshake_status(stack.ws_url, {"Authorization": f"Bearer {token}"})) == 101


def test_the_wrong_stage_is_forbidden(stack: Stack, user: Callable[[str], str]) -> None:
    token = stack.mint_token(user("alice"))
    assert run(_handshake_status(f"{stack.ws_url}/not-{stack.settings.stage}?token={token}")) == 403
    assert run(_handshake_status(f"{stack.ws_url}/{stack.settings.stage}?token={token}")) == 101
