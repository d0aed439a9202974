"""Moderation against the local stack, through the server SDK over real HTTP with SigV4 and real sockets: a
banned user's socket is closed and their reconnect refused (423) until the ban is lifted; the backend deletes
a message for everyone and the other member sees it go."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack
from parley_client import Backoff, HandshakeRejected, Message
from tests.e2e.harness import admin_for, client_for, connected, run

pytestmark = pytest.mark.timeout(90)


def test_a_banned_users_socket_closes_and_their_reconnect_is_refused(stack: Stack,
                                                                     user: Callable[[str], str]) -> None:
    mallory_id = user("mallory")
    admin = admin_for(stack)

    async def scenario() -> None:
        mallory = await connected(stack, mallory_id, backoff=Backoff(initial=0.05, maximum=0.2))
        try:
            # when the backend bans mallory
            banned = await asyncio.to_thread(admin.ban, mallory_id, reason="spam")
            assert (banned["connectionsClosed"], banned["connectionsLeftOpen"]) == (1, 0)
            # then her socket is closed, and her app's reconnect is refused as banned: its stream ends so
            with pytest.raises(HandshakeRejected) as refused:
                async with asyncio.timeout(10):
                    async for _ in mallory:
                        pass
            assert refused.value.status == 423 and refused.value.banned
            assert not mallory.connected
        finally:
            await mallory.close()
        # and a new connection is refused the same way
        with pytest.raises(HandshakeRejected) as again:
            await client_for(stack, mallory_id).connect()
        assert again.value.banned
        # and the ban is listed, with its history
        assert mallory_id in [b["userId"] for b in (await asyncio.to_thread(admin.bans))["bans"]]
        # when it is lifted / then she connects again
        assert (await asyncio.to_thread(admin.unban, mallory_id))["unbanned"] is True
        back = await connected(stack, mallory_id)
        await back.close()

    run(scenario())


def test_the_backend_deletes_a_message_for_everyone(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    admin = admin_for(stack)

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            conversation = await alice.open_direct(bob_id)
            bob.track(conversation.conversation_id)
            ack = await alice.send(conversation.conversation_id, "something I regret")
            async with asyncio.timeout(5):
                first = await bob.next_message()
            assert isinstance(first, Message) and first.seq == ack.seq
            # when the backend deletes it
            answer = await asyncio.to_thread(admin.delete_message, conversation.conversation_id, ack.seq)
            assert answer["changeSeq"] == ack.seq + 1
            # then bob's history shows a tombstone
            page = await bob.history(conversation.conversation_id, after=0)
            [deleted] = [m for m in page.messages if m.seq == ack.seq]
            assert deleted.deleted and not deleted.text
        finally:
            await alice.close()
            await bob.close()

    run(scenario())
