"""A burst over the user's send limit is paced by the server (``rate_limited`` + ``retryAfterMs``) and the client
still delivers every message, once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack
from tests.e2e.harness import connected, run

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def handler_env() -> dict[str, str]:
    # A bucket that refills slowly (production: 5 per second, bursts of 20), so that a burst of 22 sends is over
    # it however long the local stack takes to run them: it would need 12 s to refill the 12 sends past the burst.
    return {"PARLEY_RATE_LIMITS": "send=1:10"}


def test_a_burst_over_the_send_limit_is_paced_and_nothing_is_lost(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            await bob.open_direct(alice_id)
            texts = [f"burst {i}" for i in range(22)]
            # when alice fires more sends at once than her burst allows
            acks = await asyncio.gather(*(alice.send(cid, text) for text in texts))
            # then some were told to wait and were resent, each stored once ...
            assert alice.stats.resends > 0
            assert sorted(a.seq for a in acks) == list(range(1, 23))
            in_seq_order = [text for _, text in sorted(zip((a.seq for a in acks), texts, strict=True))]
            # ... and bob has all of them in seq order, once
            received = [await bob.next_message(timeout=10) for _ in texts]
            assert [m.text for m in received] == in_seq_order
            assert [m.seq for m in received] == list(range(1, 23))
            with pytest.raises(TimeoutError):
                await bob.next_message(timeout=0.3)
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario(), timeout=45)
