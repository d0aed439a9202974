"""The promises of docs/protocol.md "Delivery guarantees", over real sockets against the local stack:
delivery handed off when send runs out of time, resends recognised however late, one's own messages never
unread, and a block that holds in groups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack, StackThread
from parley_client import ServerError
from tests.e2e.harness import connected, eventually, generous_rate_limits, run

DELIVERY_BUDGET_MS = 300


@pytest.fixture(scope="module")
def handler_env() -> dict[str, str]:
    # a short delivery budget: a slow @connections post makes send hand the rest to the delivery queue
    return {"PARLEY_RATE_LIMITS": generous_rate_limits(), "PARLEY_DELIVERY_BUDGET_MS": str(DELIVERY_BUDGET_MS)}


def test_a_delivery_that_outruns_send_is_finished_by_the_deliver_function(
        stack_thread: StackThread, stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    deliver = next(t for t in stack.triggers if t.function == "deliver")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            before = deliver.invoked
            # given API Gateway is slow to post to bob, slower than send's delivery budget
            stack.gateway.faults.slow_posts[bob_id] = 3 * DELIVERY_BUDGET_MS / 1000
            # when alice sends: she is acked, and the deliver function (fed by the queue) posts to bob again
            ack = await alice.send(cid, "are you there?")
            message = await bob.next_message(timeout=10)
            assert (message.seq, message.message_id) == (ack.seq, ack.message_id)
            await eventually(lambda: deliver.invoked > before)
            # bob's app shows it once, although it may have been posted twice
            with pytest.raises(TimeoutError):
                await bob.next_message(timeout=0.5)
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_a_resend_is_recognised_after_fifty_other_messages(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            # given alice's app sent a message whose ack it never saw (it queued it offline, say)
            first = await alice.send(cid, "queued while offline", client_msg_id="outbox-1")
            # and 50 messages arrive before it flushes its outbox again
            for i in range(50):
                await bob.send(cid, f"message {i}")
            # when the app sends it again with the same clientMsgId (and the lastSeq it first sent it with)
            again = await alice.send(cid, "queued while offline", client_msg_id="outbox-1")
            # then it is the same stored message, stored once
            assert (again.seq, again.message_id) == (first.seq, first.message_id)
            texts = [m.text async for page in alice.history_pages(cid, after=0) for m in page.messages]
            assert texts.count("queued while offline") == 1 and len(texts) == 51
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_your_own_messages_are_never_unread_for_you(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            await alice.send(cid, "one")
            await alice.send(cid, "two")
            assert (await alice.unread_counts()).total == 0
            await bob.send(cid, "three")
            counts = await alice.unread_counts()
            assert counts.total == 1 and [c.unread for c in counts.conversations] == [1]
            listed = [c for c in (await alice.list_conversations()).conversations if c.conversation_id == cid]
            assert [c.unread for c in listed] == [1]
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_a_block_holds_in_groups(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, carol_id, mallory_id = user("alice"), user("carol"), user("mallory")

    async def scenario() -> None:
        alice, carol, mallory = (await connected(stack, alice_id), await connected(stack, carol_id),
                                 await connected(stack, mallory_id))
        try:
            group = (await carol.create_group([alice_id, mallory_id], "book club")).conversation_id
            await alice.block(mallory_id)
            # mallory can no longer put alice in a group of her own
            with pytest.raises(ServerError) as refused:
                await mallory.create_group([alice_id], "you cannot mute this")
            assert refused.value.code == "blocked"
            # in carol's group, alice sees nothing of what mallory writes: not live, not in history, not counted
            await mallory.send(group, "harassment")
            await carol.send(group, "hello all")
            message = await alice.next_message(timeout=5)
            assert message.sender_id == carol_id
            assert [m.sender_id for m in (await alice.history(group)).messages] == [carol_id]
            assert (await alice.unread_counts()).total == 1
            # and carol, who blocked nobody, sees both
            assert [m.sender_id for m in (await carol.history(group)).messages] == [mallory_id, carol_id]
        finally:
            await asyncio.gather(alice.close(), carol.close(), mallory.close())

    run(scenario())


@pytest.mark.parametrize("frame_format", ["compact", "full"])
def test_the_client_settles_a_stale_last_seq_itself(
        stack: Stack, user: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, frame_format: str) -> None:
    # the server checks 5 messages after lastSeq here, not 1,000: the client has to look itself (in history,
    # by its clientMsgId: the compact format names it on your own messages)
    monkeypatch.setattr("parley.messaging.RESEND_SCAN_MAX", 5)
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice = await connected(stack, alice_id, frame_format=frame_format)
        bob = await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            first = await alice.send(cid, "stored, ack lost", client_msg_id="outbox-stale-1", last_seq=0)
            for i in range(8):
                await bob.send(cid, f"message {i}")
            # a resend far behind: the server answers stale_last_seq, the client finds it in history
            again = await alice.send(cid, "stored, ack lost", client_msg_id="outbox-stale-1")
            assert (again.seq, again.message_id, again.sent_at) == (first.seq, first.message_id, first.sent_at)
            # a message never stored, sent with the same old lastSeq: the client sends it with a newer one
            fresh = await alice.send(cid, "never stored", client_msg_id="outbox-stale-2", last_seq=0)
            assert fresh.seq == 10
            texts = [m.text async for page in alice.history_pages(cid, after=0) for m in page.messages]
            assert texts.count("stored, ack lost") == 1 and texts.count("never stored") == 1 and len(texts) == 10
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())
