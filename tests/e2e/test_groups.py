"""Groups people can manage, over real sockets against the local stack: live change frames, catch-up of the
changes after a disconnect, and leaving means leaving."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack
from parley_client import Change, Entry, Message, ParleyClient, ServerError
from tests.e2e.harness import connected, received, run

pytestmark = pytest.mark.timeout(90)


async def next_change(client: ParleyClient, kind: str) -> Change:
    async with asyncio.timeout(5):
        async for item in client:
            if isinstance(item, Change) and item.kind == kind:
                return item
    raise AssertionError("the client closed")


async def next_entries(client: ParleyClient, count: int) -> list[Entry]:
    """The next ``count`` stream entries delivered (messages and changes), skipping other frames."""
    found: list[Entry] = []
    async with asyncio.timeout(5):
        async for item in client:
            if isinstance(item, Message | Change):
                found.append(item)
                if len(found) == count:
                    return found
    raise AssertionError("the client closed")


def shown(entry: Entry) -> tuple[int, str]:
    return entry.seq, entry.kind if isinstance(entry, Change) else entry.text


def test_group_changes_arrive_live_and_an_offline_member_catches_them_up_in_order(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id, dave_id = user("alice"), user("bob"), user("carol"), user("dave")

    async def scenario() -> None:
        alice, bob, dave = [await connected(stack, u) for u in (alice_id, bob_id, dave_id)]
        carol: ParleyClient | None = None
        try:
            # given alice's group with bob (online) and carol (offline)
            group = await alice.create_group([bob_id, carol_id], "team")
            cid = group.conversation_id
            assert group.roles == {alice_id: "owner"} and group.history_visibility == "joined"
            bob.track(cid)
            # when alice adds dave, renames the group, makes bob an admin, removes dave and says something
            added = await alice.add_members(cid, [dave_id])
            assert added.members == (alice_id, bob_id, carol_id, dave_id)
            await alice.rename_group(cid, "renamed")
            promoted = await alice.set_role(cid, bob_id, "admin")
            assert promoted.roles == {alice_id: "owner", bob_id: "admin"}
            arrived = await next_change(dave, "membersAdded")  # dave hears he was added
            assert arrived.users == (dave_id,)
            dave.track(cid, arrived.seq)
            removed = await bob.remove_member(cid, dave_id)  # an admin removes a member
            assert dave_id not in removed.members
            await alice.send(cid, "after the changes")
            # then bob got each change live, in order with the message (his own change answered him instead)
            seen = await next_entries(bob, 4)
            assert [shown(m) for m in seen] == [
                (1, "membersAdded"), (2, "renamed"), (3, "roleChanged"), (5, "after the changes")]
            assert isinstance(seen[1], Change) and seen[1].name == "renamed"
            # and dave got his removal live, then nothing more: not the message after it
            gone = await next_change(dave, "memberRemoved")
            assert gone.users == (dave_id,)
            await dave.ping()
            assert not [m for m in await received(dave) if isinstance(m, Message)]
            # and carol, connecting later, catches every change up from history, in order with the message
            carol = await connected(stack, carol_id)
            pages = [page async for page in carol.history_pages(cid, after=0)]
            entries = [m for page in pages for m in page.messages]
            assert [shown(m) for m in entries] == [
                (1, "membersAdded"), (2, "renamed"), (3, "roleChanged"), (4, "memberRemoved"),
                (5, "after the changes")]
            assert isinstance(entries[2], Change) and entries[2].users == (bob_id,) and entries[2].role == "admin"
            # and the change entries are never unread: carol has the one message unread
            listed = {c.conversation_id: c for c in (await carol.list_conversations()).conversations}
            assert listed[cid].unread == 1 and listed[cid].name == "renamed"
        finally:
            for client in (alice, bob, dave, carol):
                if client is not None:
                    await client.close()

    run(scenario())


def test_leaving_means_leaving_and_the_owner_passes_ownership_on(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob, carol = [await connected(stack, u) for u in (alice_id, bob_id, carol_id)]
        try:
            cid = (await alice.create_group([bob_id, carol_id], "team")).conversation_id
            bob.track(cid)
            await alice.send(cid, "hello")
            assert (await bob.next_message()).text == "hello"
            # when alice, the owner, leaves
            after = await alice.leave(cid)
            # then bob, the first to join after her, owns the group, and the others are told live
            assert after.members == (bob_id, carol_id) and after.roles == {bob_id: "owner"}
            left = await next_change(bob, "memberLeft")
            assert left.by == alice_id and left.owner == bob_id
            # and the server gives alice nothing more of it: not in her list, no history, no send
            assert cid not in [c.conversation_id for c in (await alice.list_conversations()).conversations]
            with pytest.raises(ServerError) as refused:
                await alice.history(cid, after=0)
            assert refused.value.code == "not_member"
            with pytest.raises(ServerError) as refused:
                await alice.send(cid, "still here?")
            assert refused.value.code == "not_member"
            # and a message after she left reaches the members, not her
            await bob.send(cid, "she left")
            assert (await carol.next_message(timeout=5)).text == "hello"
            await alice.ping()
            assert not [m for m in await received(alice) if isinstance(m, Message) and m.text == "she left"]
            assert (await alice.unread_counts()).of(cid) == 0
        finally:
            for client in (alice, bob, carol):
                await client.close()

    run(scenario())


def test_the_terminal_chat_makes_a_group_of_a_direct_chat_and_manages_it(stack: Stack,
                                                                        user: Callable[[str], str]) -> None:
    import io

    from local.chat import chat

    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        carol = await connected(stack, carol_id)
        try:
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            for line in (f"/group add {carol_id}", "/group rename Book club", f"/group remove {bob_id}",
                         "/group leave", "/group nonsense", None):
                lines.put_nowait(line)
            out = io.StringIO()
            # when alice, chatting with bob, types the /group commands
            code = await chat(stack.ws_url, alice_id, bob_id, stack.mint_token(alice_id), out=out, lines=lines)
            # then each was done, and carol saw the changes arrive
            assert code == 0, out.getvalue()
            shown = out.getvalue()
            for expected in (f"* now in a group with {alice_id}, {bob_id}, {carol_id}",
                             "* renamed the group to 'Book club'", f"* removed {bob_id}", "* you left the group",
                             "* usage: /group add"):
                assert expected in shown, shown
            kinds = [await next_change(carol, kind) for kind in ("renamed", "memberRemoved", "memberLeft")]
            assert kinds[2].owner == carol_id
        finally:
            await carol.close()

    run(scenario())
