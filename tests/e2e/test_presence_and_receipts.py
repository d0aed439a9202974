"""Presence across devices, invisibility, unread counts and read receipts, over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from local.stack import Stack
from parley_client import Presence, PresenceStatus, Receipt, TypingIndicator, UnreadUpdate
from tests.e2e.harness import connected, next_frame, received, run, settled

pytestmark = pytest.mark.timeout(60)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _about(user_id: str) -> Callable[[Presence], bool]:
    return lambda frame: frame.of(user_id) is not None


def test_a_user_on_two_devices_stays_online_until_the_last_one_closes(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        # given bob, online, who shares a conversation with alice
        bob = await connected(stack, bob_id)
        await bob.open_direct(alice_id)
        phone = laptop = None
        try:
            # when alice connects her phone, bob sees her come online
            phone = await connected(stack, alice_id)
            online = await next_frame(bob, Presence, _about(alice_id))
            assert online.of(alice_id) == PresenceStatus(alice_id, "online")

            # when she opens her laptop too and then closes the phone
            laptop = await connected(stack, alice_id)
            before = stack.runtime.invocations
            await phone.close()
            await settled(stack, before)  # the phone's $disconnect has run

            # then bob heard nothing: she was online all along
            await bob.ping()
            assert [f for f in await received(bob) if isinstance(f, Presence)] == []
            assert (await bob.presence([alice_id])).of(alice_id) == PresenceStatus(alice_id, "online")

            # when the laptop closes too, she goes offline, last seen as it closed
            closing = _now_ms()
            await laptop.close()
            offline = (await next_frame(bob, Presence, _about(alice_id))).of(alice_id)
            assert offline is not None and offline.status == "offline"
            assert offline.last_seen is not None and closing - 100 <= offline.last_seen <= _now_ms()
            assert (await bob.presence([alice_id])).of(alice_id) == offline
        finally:
            await asyncio.gather(*(c.close() for c in (bob, phone, laptop) if c is not None))

    run(scenario())


def test_an_invisible_user_looks_offline_everywhere_yet_still_receives_messages(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        bob = await connected(stack, bob_id)
        phone = await connected(stack, alice_id)
        laptop = None
        try:
            cid = (await phone.open_direct(bob_id)).conversation_id
            # given alice goes invisible on her phone: to bob that looks like going offline, last seen now
            assert (await phone.set_preferences(visibility="invisible")).visibility == "invisible"
            gone = (await next_frame(bob, Presence, _about(alice_id))).of(alice_id)
            assert gone is not None and gone.status == "offline" and gone.last_seen is not None
            before = stack.runtime.invocations
            await phone.close()
            await settled(stack, before)

            # when she comes back on her laptop, she is still invisible: the setting is hers, not the phone's
            laptop = await connected(stack, alice_id)
            assert (await laptop.get_preferences()).visibility == "invisible"
            # and bob sees her offline, with the last-seen time of when she went invisible
            assert (await bob.presence([alice_id])).of(alice_id) == gone

            # when she types, bob is told nothing; his messages still reach her
            before = stack.runtime.invocations
            await laptop.typing(cid)
            await settled(stack, before)
            await bob.send(cid, "are you there?")
            assert (await laptop.next_message(timeout=5)).text == "are you there?"

            # when she leaves again
            before = stack.runtime.invocations
            await laptop.close()
            await settled(stack, before)

            # then nothing of her coming, typing or going reached bob, and her last seen never moved
            await bob.ping()
            leaked = [f for f in await received(bob) if isinstance(f, Presence | TypingIndicator)]
            assert leaked == []
            assert (await bob.presence([alice_id])).of(alice_id) == gone
        finally:
            await asyncio.gather(*(c.close() for c in (bob, phone, laptop) if c is not None))

    run(scenario())


def test_reading_on_one_device_clears_the_count_everywhere_and_sends_a_receipt(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        phone, laptop, bob = (await connected(stack, alice_id), await connected(stack, alice_id),
                              await connected(stack, bob_id))
        try:
            cid = (await bob.open_direct(alice_id)).conversation_id
            # given bob sent alice three messages
            for text in ("one", "two", "three"):
                await bob.send(cid, text)

            # then her unread counts say so (the badge too)
            counts = await phone.unread_counts()
            assert (counts.of(cid), counts.total) == (3, 3)

            # when she reads them on her phone
            update = await phone.read(cid, 3)
            assert (update.conversation_id, update.unread, update.last_read_seq) == (cid, 0, 3)

            # then bob gets a receipt, her laptop the new count, and the phone only its answer
            receipt = await next_frame(bob, Receipt)
            assert (receipt.conversation_id, receipt.user_id, receipt.seq) == (cid, alice_id, 3)
            pushed = await next_frame(laptop, UnreadUpdate)
            assert (pushed.conversation_id, pushed.unread, pushed.last_read_seq) == (cid, 0, 3)
            assert not [f for f in await received(phone) if isinstance(f, UnreadUpdate)]
            assert (await laptop.unread_counts()).total == 0
        finally:
            await asyncio.gather(phone.close(), laptop.close(), bob.close())

    run(scenario())
