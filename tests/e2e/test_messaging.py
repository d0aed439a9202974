"""Chat over real sockets: order, completeness, membership."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack
from parley_client import Message, ParleyClient, ServerError
from tests.e2e.harness import connected, run

pytestmark = pytest.mark.timeout(90)


async def _receive(client: ParleyClient, count: int, conversation_id: str) -> list[Message]:
    received: list[Message] = []
    while len(received) < count:
        message = await client.next_message()
        if message.conversation_id == conversation_id:
            received.append(message)
    return received


async def _send_all(client: ParleyClient, conversation_id: str, texts: list[str]) -> list[int]:
    return [(await client.send(conversation_id, text)).seq for text in texts]


def test_two_users_exchange_100_messages_in_order_without_loss_or_duplicates(
        stack: Stack, user: Callable[[str], str]) -> None:
    # given alice and bob, each connected, in their direct conversation
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            assert (await bob.open_direct(alice_id)).conversation_id == cid
            alice_texts = [f"a{i}" for i in range(50)]
            bob_texts = [f"b{i}" for i in range(50)]

            # when both send 50 messages at the same time
            alice_seqs, bob_seqs, to_bob, to_alice = await asyncio.gather(
                _send_all(alice, cid, alice_texts), _send_all(bob, cid, bob_texts),
                _receive(bob, 50, cid), _receive(alice, 50, cid))

            # then each receives exactly the other's 50, in the order sent, with increasing seqs
            assert [m.text for m in to_bob] == alice_texts
            assert [m.text for m in to_alice] == bob_texts
            assert [m.seq for m in to_bob] == alice_seqs
            assert [m.seq for m in to_alice] == bob_seqs
            assert {m.sender_id for m in to_bob} == {alice_id}
            # the conversation holds 100 messages numbered 1..100
            assert sorted(alice_seqs + bob_seqs) == list(range(1, 101))
            pages = [page async for page in alice.history_pages(cid, after=0)]
            stored = [m for page in pages for m in page.messages]
            assert [m.seq for m in stored] == list(range(1, 101))
            assert [m.text for m in stored if m.sender_id == bob_id] == bob_texts
            # and nothing more arrives: no duplicates (a push that raced a gap fill is dropped by the client)
            for client in (alice, bob):
                with pytest.raises(TimeoutError):
                    await client.next_message(timeout=0.3)
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario(), timeout=80)


def test_a_resend_with_the_same_client_msg_id_is_stored_and_delivered_once(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            # when alice's client sends the same message twice (its first ack was lost)
            first = await alice.send(cid, "once", client_msg_id="retry-1")
            second = await alice.send(cid, "once", client_msg_id="retry-1")
            # then both acks name the same stored message and bob gets it once
            assert (second.seq, second.message_id) == (first.seq, first.message_id)
            assert (await bob.next_message(timeout=5)).message_id == first.message_id
            with pytest.raises(TimeoutError):
                await bob.next_message(timeout=0.3)
            assert [m.seq for m in (await bob.history(cid)).messages] == [first.seq]
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_a_non_member_can_neither_read_nor_send(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, mallory_id = user("alice"), user("bob"), user("mallory")

    async def scenario() -> None:
        alice, bob, mallory = (await connected(stack, alice_id), await connected(stack, bob_id),
                               await connected(stack, mallory_id))
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            await alice.send(cid, "private")
            await bob.next_message(timeout=5)

            # when mallory, not a member, reads and writes the conversation
            with pytest.raises(ServerError) as read:
                await mallory.history(cid)
            with pytest.raises(ServerError) as write:
                await mallory.send(cid, "let me in")

            # then both are refused with not_member, and nothing reached the members
            assert read.value.code == "not_member"
            assert write.value.code == "not_member"
            assert [m.text for m in (await alice.history(cid)).messages] == ["private"]
            with pytest.raises(TimeoutError):
                await bob.next_message(timeout=0.3)
        finally:
            await asyncio.gather(alice.close(), bob.close(), mallory.close())

    run(scenario())


def test_groups_and_conversation_listing(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob, carol = (await connected(stack, alice_id), await connected(stack, bob_id),
                             await connected(stack, carol_id))
        try:
            # when alice creates a group with bob and carol and writes to it
            group = await alice.create_group([bob_id, carol_id], name="Book club")
            ack = await alice.send(group.conversation_id, "welcome")

            # then both members receive it and see the group in their listing
            for member in (bob, carol):
                message = await member.next_message(timeout=5)
                assert (message.conversation_id, message.seq, message.text) == (group.conversation_id, ack.seq,
                                                                                 "welcome")
            listed = await carol.list_conversations()
            assert [(c.conversation_id, c.name) for c in listed.conversations] == [(group.conversation_id,
                                                                                     "Book club")]
            assert set(group.members) == {alice_id, bob_id, carol_id}
        finally:
            await asyncio.gather(alice.close(), bob.close(), carol.close())

    run(scenario())
