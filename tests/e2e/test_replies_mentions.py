"""Replies, mentions and typing end to end, over real sockets against the local stack: a reply arrives with its
quote, a mentioned offline member in passive mode is pushed an alert and counts the mention, catch-up after a
disconnect returns the reply with its quote, and ``parley chat`` sends typing, replies and mentions."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Callable

import pytest

from local.chat import TYPING, Typed, chat
from local.push import Push, pushes
from local.stack import Stack
from parley_client import Message, TypingIndicator
from tests.e2e.harness import connected, eventually, run, settled

pytestmark = pytest.mark.timeout(90)


def test_a_reply_arrives_live_with_its_quote_and_catch_up_returns_it_after_a_disconnect(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.create_group([bob_id, carol_id], "lunch")).conversation_id
            bob.track(cid)
            asked = await bob.send(cid, "pizza or sushi?")
            await alice.send(cid, "sushi", reply_to=asked.seq, mentions=[bob_id])
            got = await bob.next_message(timeout=10)
            while got.seq == asked.seq:
                got = await bob.next_message(timeout=10)
            # then bob sees what alice answered, quoted
            assert got.reply_to == asked.seq and got.mentions == (bob_id,)
            assert got.quote is not None and (got.quote.sender_id, got.quote.text) == (bob_id, "pizza or sushi?")
            # when carol was away and catches up
            carol = await connected(stack, carol_id)
            try:
                [page_first, page_rest] = [await carol.history(cid, after=0, limit=1),
                                           await carol.history(cid, after=1, limit=10)]
                assert [m.seq for m in page_first.messages] == [asked.seq] and page_first.has_more
                [reply] = page_rest.messages
                assert reply.reply_to == asked.seq and reply.quote is not None
                assert reply.quote.text == "pizza or sushi?"  # quoted though the page does not hold the original
            finally:
                await carol.close()
        finally:
            await alice.close()
            await bob.close()

    run(scenario(), timeout=60)


def test_a_mentioned_offline_member_in_passive_mode_is_pushed_and_counts_the_mention(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")
    bob_token, carol_token = secrets.token_hex(32), secrets.token_hex(32)

    async def pushed(token: str) -> list[Push]:
        found = await asyncio.to_thread(pushes, str(stack.aws_endpoint))
        return [p for p in found if p.token == token]

    async def scenario() -> None:
        alice = await connected(stack, alice_id)
        cid = (await alice.create_group([bob_id, carol_id], "standup")).conversation_id
        # given bob and carol set the group to passive on their phones and went offline
        for who, token in ((bob_id, bob_token), (carol_id, carol_token)):
            member = await connected(stack, who)
            await member.register_device("apns", token)
            await member.set_conversation_preferences(cid, notify="passive")
            before = stack.runtime.invocations
            await member.close()
            await settled(stack, before)
        try:
            # when alice mentions bob (only) and then sends a message that mentions no one
            await alice.send(cid, "you're up next", mentions=[bob_id])
            await alice.send(cid, "thanks all")

            async def bob_was_pushed() -> bool:
                return bool(await pushed(bob_token))

            # then bob's phone gets an alert for the mention, and carol's nothing
            await eventually(bob_was_pushed, timeout=15, interval=0.2)
            await asyncio.sleep(1.0)  # the second message's event, had it pushed anyone, has gone through
            [push] = await pushed(bob_token)
            assert push.payload["aps"]["alert"] == {"title": f"{alice_id} in standup", "body": "you're up next"}
            assert await pushed(carol_token) == []
        finally:
            await alice.close()
        # and bob's counts show the mention until he reads it
        bob = await connected(stack, bob_id)
        try:
            counts = await bob.unread_counts()
            [entry] = [c for c in counts.conversations if c.conversation_id == cid]
            assert (entry.unread, entry.mentions) == (2, 1)
            [listed] = [c for c in (await bob.list_conversations()).conversations if c.conversation_id == cid]
            assert listed.mentions == 1
            update = await bob.read(cid, entry.last_seq)
            assert (update.unread, update.mentions) == (0, 0)
        finally:
            await bob.close()

    run(scenario(), timeout=80)


def test_parley_chat_sends_typing_a_reply_and_a_mention(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        bob = await connected(stack, bob_id)
        try:
            cid = (await bob.open_direct(alice_id)).conversation_id
            bob.track(cid)
            asked = await bob.send(cid, "coffee?")
            typed: asyncio.Queue[Typed] = asyncio.Queue()
            out = io.StringIO()
            # when alice types in her terminal chat, then answers bob's message with /reply, naming him
            session = asyncio.create_task(chat(stack.ws_url, alice_id, bob_id, stack.mint_token(alice_id),
                                               out=out, lines=typed, typing_interval_s=3.0))
            await eventually(lambda: "Chatting with" in out.getvalue(), timeout=10)
            typed.put_nowait(TYPING)
            typed.put_nowait(TYPING)  # within the interval: not sent again
            typed.put_nowait(f"/reply {asked.seq} yes please @{bob_id}")
            typed.put_nowait("/reply x")
            received: list[object] = []

            async def bob_got_the_reply() -> bool:
                while True:
                    try:
                        item = await asyncio.wait_for(anext(bob), 0.2)
                    except TimeoutError:
                        break
                    received.append(item)
                return any(isinstance(m, Message) and m.reply_to == asked.seq for m in received)

            await eventually(bob_got_the_reply, timeout=15, interval=0.1)
            typed.put_nowait(None)
            assert await asyncio.wait_for(session, 15) == 0
            # then bob saw her typing once, and her reply with its quote and his mention
            indicators = [(i.conversation_id, i.user_id) for i in received if isinstance(i, TypingIndicator)]
            assert indicators == [(cid, alice_id)]
            [reply] = [m for m in received if isinstance(m, Message) and m.reply_to == asked.seq]
            assert reply.text == f"yes please @{bob_id}" and reply.mentions == (bob_id,)
            assert reply.quote is not None and reply.quote.text == "coffee?"
            assert "usage: /reply" in out.getvalue()
        finally:
            await bob.close()

    run(scenario(), timeout=60)
