"""Push notifications end to end: a device registered over the socket, a message sent while its user is
offline, the unread event through SNS -> SQS -> the notifier, and the alert in moto's platform endpoint."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import pytest

from local.push import Push, pushes
from local.stack import Stack
from tests.e2e.harness import connected, eventually, run, settled

pytestmark = pytest.mark.timeout(60)


def test_a_user_who_went_offline_gets_an_apns_alert_with_the_badge_and_unread_counts_agree(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    apns_token = secrets.token_hex(32)

    async def pushed_to_bob() -> list[Push]:
        found = await asyncio.to_thread(pushes, str(stack.aws_endpoint))
        return [p for p in found if p.token == apns_token]

    async def bob_was_pushed() -> bool:
        return bool(await pushed_to_bob())

    async def scenario() -> None:
        # given bob registered his iPhone, then went offline
        bob = await connected(stack, bob_id)
        registered = await bob.register_device("apns", apns_token)
        assert (registered.registered, registered.platform) == (True, "apns")
        cid = (await bob.open_direct(alice_id)).conversation_id
        before = stack.runtime.invocations
        await bob.close()
        await settled(stack, before)

        # when alice writes to him
        alice = await connected(stack, alice_id)
        try:
            await alice.send(cid, "are you there?")
            # then his phone is sent one alert from alice, with his unread count as the badge
            await eventually(bob_was_pushed, timeout=10, interval=0.1)
        finally:
            await alice.close()
        [push] = await pushed_to_bob()
        assert (push.user_id, push.platform) == (bob_id, "APNS")
        aps = push.payload["aps"]
        assert aps["alert"] == {"title": alice_id, "body": "are you there?"}
        # the badge: one conversation with unread messages; and this conversation's unread count
        assert (aps["badge"], aps["thread-id"], push.payload["parley"]["unread"]) == (1, cid, "1")

        # and when bob opens the app, unreadCounts answers the same badge
        bob = await connected(stack, bob_id)
        try:
            counts = await bob.unread_counts()
            assert (counts.total, counts.badge) == (1, 1)
        finally:
            await bob.close()

    run(scenario())
