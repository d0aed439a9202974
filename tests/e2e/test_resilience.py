"""Connections that die: stale records are pruned at fan-out, and a client that was away catches up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from websockets.asyncio.client import connect

from local.stack import Stack, StackThread
from parley_client import Backoff, ParleyClient
from tests.e2e.conftest import PRUNE_GRACE_MS
from tests.e2e.harness import (
    connected,
    eventually,
    open_connection_ids,
    run,
    stored_connection_ids,
)

pytestmark = pytest.mark.timeout(60)


def test_a_connection_killed_without_a_close_handshake_is_pruned_at_the_next_fan_out(
        stack_thread: StackThread, stack: Stack, user: Callable[[str], str]) -> None:
    # given bob on two devices, whose second one will die without $disconnect (best effort in AWS)
    alice_id, bob_id = user("alice"), user("bob")
    stack.gateway.faults.lost_disconnects.add(bob_id)

    async def scenario() -> None:
        alice, bob_phone = await connected(stack, alice_id), await connected(stack, bob_id)
        bob_laptop = await connect(f"{stack.ws_url}?token={stack.mint_token(bob_id)}", proxy=None)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            await eventually(lambda: len(open_connection_ids(stack_thread, bob_id)) == 2)
            both = open_connection_ids(stack_thread, bob_id)

            # when the laptop's TCP connection is cut (no close frame) ...
            bob_laptop.transport.abort()
            await eventually(lambda: len(open_connection_ids(stack_thread, bob_id)) == 1)
            (phone_id,) = open_connection_ids(stack_thread, bob_id)
            (laptop_id,) = both - {phone_id}
            # ... its record outlives it, since its $disconnect was lost
            assert stored_connection_ids(stack, bob_id) == {phone_id, laptop_id}
            gone_before = stack.management.answered[410]
            await asyncio.sleep(PRUNE_GRACE_MS / 1000)  # past the grace a just-opened connection gets

            # and alice then writes to bob
            ack = await alice.send(cid, "still there?")

            # then the phone gets the message, @connections answered 410 for the laptop and its record is gone
            message = await bob_phone.next_message(timeout=5)
            assert (message.seq, message.text) == (ack.seq, "still there?")
            assert stack.management.answered[410] == gone_before + 1
            assert stored_connection_ids(stack, bob_id) == {phone_id}
        finally:
            await asyncio.gather(alice.close(), bob_phone.close(), bob_laptop.close())
            stack.gateway.faults.lost_disconnects.discard(bob_id)

    run(scenario())


def test_a_client_that_misses_50_messages_recovers_exactly_those_in_order_after_reconnecting(
        stack_thread: StackThread, stack: Stack, user: Callable[[str], str]) -> None:
    erin_id, frank_id = user("erin"), user("frank")

    async def scenario() -> None:
        online = asyncio.Event()
        online.set()

        async def token() -> str:  # erin's network: while it is down, reconnects wait here
            await online.wait()
            return stack.mint_token(erin_id)

        erin = ParleyClient(stack.ws_url, token, backoff=Backoff(initial=0.05, maximum=0.2))
        await erin.connect()
        frank = await connected(stack, frank_id)
        try:
            cid = (await frank.open_direct(erin_id)).conversation_id
            await erin.open_direct(frank_id)
            first = await frank.send(cid, "before the tunnel")
            assert (await erin.next_message(timeout=5)).seq == first.seq

            # when erin's connection drops without a close handshake and stays down ...
            online.clear()
            assert erin.websocket is not None
            erin.websocket.transport.abort()
            await eventually(lambda: not open_connection_ids(stack_thread, erin_id))
            await eventually(lambda: not stored_connection_ids(stack, erin_id))
            # ... while frank sends 50 messages
            missed = [f"missed {i}" for i in range(50)]
            acks = [await frank.send(cid, text) for text in missed]
            assert not erin.connected

            # and then her network comes back
            online.set()
            recovered = [await erin.next_message(timeout=10) for _ in missed]

            # then she gets exactly those 50, in order, through the catch-up, and nothing twice
            assert [m.text for m in recovered] == missed
            assert [m.seq for m in recovered] == [a.seq for a in acks] == list(range(first.seq + 1, first.seq + 51))
            assert erin.stats.reconnects == 1
            assert erin.stats.recovered == 50
            assert erin.last_seq(cid) == acks[-1].seq
            with pytest.raises(TimeoutError):
                await erin.next_message(timeout=0.3)

            # and she is live again
            after = await frank.send(cid, "welcome back")
            assert (await erin.next_message(timeout=5)).seq == after.seq
        finally:
            online.set()
            await asyncio.gather(erin.close(), frank.close())

    run(scenario(), timeout=45)


def test_pushes_arriving_out_of_order_are_delivered_in_seq_order(stack: Stack, user: Callable[[str], str]) -> None:
    # given a group in which two members send at once (their handlers race, so pushes may interleave)
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob, carol = (await connected(stack, alice_id), await connected(stack, bob_id),
                             await connected(stack, carol_id))
        try:
            group = await alice.create_group([bob_id, carol_id])
            cid = group.conversation_id
            await asyncio.gather(*(c.open_direct(alice_id) for c in (bob, carol)))
            carol.track(cid, 0)

            # when alice and bob each fire 5 sends without waiting for one another
            await asyncio.gather(*(alice.send(cid, f"a{i}") for i in range(5)),
                                 *(bob.send(cid, f"b{i}") for i in range(5)))

            # then carol sees seq 1..10 in order, each once
            received = [await carol.next_message(timeout=10) for _ in range(10)]
            assert [m.seq for m in received] == list(range(1, 11))
            with pytest.raises(TimeoutError):
                await carol.next_message(timeout=0.3)
        finally:
            await asyncio.gather(alice.close(), bob.close(), carol.close())

    run(scenario(), timeout=45)


def test_a_connection_reached_by_a_fan_out_during_its_connect_still_receives_once_open(
        stack_thread: StackThread, stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice = await connected(stack, alice_id)
        bob = await connected(stack, bob_id)
        cid = (await alice.open_direct(bob_id)).conversation_id
        await bob.close()
        stack.gateway.faults.connect_delays[bob_id] = 1.0
        bob = ParleyClient(stack.ws_url, stack.mint_token(bob_id))
        try:
            # given bob's connection whose $connect has run (its record exists) but which is not open yet
            connecting = asyncio.create_task(bob.connect())
            await eventually(lambda: bool(stored_connection_ids(stack, bob_id)))
            assert not open_connection_ids(stack_thread, bob_id)
            # when alice writes in that window (the push to bob gets 410) ...
            await alice.send(cid, "while you were connecting")
            await connecting
            # ... and again once bob is connected
            later = await alice.send(cid, "now that you are here")
            # then bob receives the second one live
            assert (await bob.next_message(timeout=2)).seq == later.seq
        finally:
            stack.gateway.faults.connect_delays.pop(bob_id, None)
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())
