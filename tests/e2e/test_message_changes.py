"""Edits, deletes and reactions over real sockets: live to members online, and in order through catch-up to a
member who was offline, each applying to the right message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from local.stack import Stack
from parley_client import Change, Message, ServerError
from tests.e2e.harness import connected, next_frame, run

pytestmark = pytest.mark.timeout(90)


def test_edit_delete_and_react_go_live_and_an_offline_member_catches_up_in_order(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        carol = await connected(stack, carol_id)
        try:
            # given a group with two messages, which carol has received before going offline
            group = await alice.create_group([bob_id, carol_id], name="changes")
            cid = group.conversation_id
            first = await alice.send(cid, "helo")
            second = await bob.send(cid, "a secret")
            for _ in range(2):
                await carol.next_message(timeout=5)
            carol_last = carol.last_seq(cid)
            assert carol_last == second.seq
            await carol.close()

            # when alice edits her message, bob reacts to it and alice (the owner) deletes bob's
            edited = await alice.edit(cid, first.seq, "hello")
            live_edit = await next_frame(bob, Change, lambda c: c.kind == "edited")
            reacted = await bob.react(cid, first.seq, "👍")
            live_reaction = await next_frame(alice, Change, lambda c: c.kind == "reacted")
            deleted = await alice.delete(cid, second.seq)
            live_delete = await next_frame(bob, Change, lambda c: c.kind == "deleted")

            # then members online got each change live, as the answers said
            assert (live_edit.seq, live_edit.target, live_edit.text, live_edit.by) == (edited.seq, first.seq,
                                                                                       "hello", alice_id)
            assert (live_reaction.seq, live_reaction.emoji, live_reaction.count) == (reacted.seq, "👍", 1)
            assert (live_delete.seq, live_delete.target, live_delete.by) == (deleted.seq, second.seq, alice_id)
            assert reacted.count == 1 and [edited.seq, reacted.seq, deleted.seq] == [3, 4, 5]

            # and carol, back, catches up on every change after her last seq, in order, each on its message
            carol = await connected(stack, carol_id)
            assert carol_last is not None
            carol.track(cid, carol_last)
            await carol.catch_up(cid)
            caught = [await next_frame(carol, Change) for _ in range(3)]
            assert [(c.seq, c.kind, c.target) for c in caught] == [
                (edited.seq, "edited", first.seq), (reacted.seq, "reacted", first.seq),
                (deleted.seq, "deleted", second.seq)]
            assert caught[0].text == "hello" and caught[1].emoji == "👍"

            # and history going back shows the messages as they are now (no change entries among them)
            page = await carol.history(cid)
            assert [m.seq for m in page.messages] == [first.seq, second.seq]
            now_first, now_second = page.messages
            assert isinstance(now_first, Message) and isinstance(now_second, Message)
            assert now_first.text == "hello" and now_first.edited_at == live_edit.edited_at
            assert [(r.emoji, r.count, r.me) for r in now_first.reactions] == [("👍", 1, False)]
            assert now_second.deleted and now_second.text == "" and now_second.attachments == ()
            mine = (await bob.history(cid)).messages[0]
            assert isinstance(mine, Message) and [(r.emoji, r.me) for r in mine.reactions] == [("👍", True)]
        finally:
            await asyncio.gather(alice.close(), bob.close(), carol.close())

    run(scenario())


def test_refused_changes_over_the_socket(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await connected(stack, alice_id), await connected(stack, bob_id)
        try:
            cid = (await alice.open_direct(bob_id)).conversation_id
            sent = await alice.send(cid, "mine")
            refusals = [(bob.edit(cid, sent.seq, "yours"), "not_allowed"),
                        (bob.delete(cid, sent.seq), "not_allowed"),
                        (bob.react(cid, sent.seq, "not an emoji"), "invalid_emoji")]
            for attempt, code in refusals:
                with pytest.raises(ServerError) as refused:
                    await attempt
                assert refused.value.code == code
            again = await alice.react(cid, sent.seq, "🎉")
            assert (await alice.react(cid, sent.seq, "🎉")).seq == again.seq  # one of each emoji per user
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario())


def test_the_terminal_chat_edits_deletes_and_reacts(stack: Stack, user: Callable[[str], str]) -> None:
    import io

    from local.chat import chat

    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        bob = await connected(stack, bob_id)
        try:
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            out = io.StringIO()
            # when alice, chatting with bob, sends two lines, edits the last, reacts to the first and deletes it
            for line in ("first", "secnod", "/edit second", "/react #1 👍", "/unreact #1 👍", "/react #1 🎉",
                         "/delete #1", "/react", None):
                lines.put_nowait(line)
            code = await chat(stack.ws_url, alice_id, bob_id, stack.mint_token(alice_id), out=out, lines=lines)
            shown = out.getvalue()
            assert code == 0, shown
            # then each command was done, on the message it named (or her last one), and said so
            for expected in ("* edited #2", "* 👍 on #1: 1", "* 👍 on #1: 0", "* 🎉 on #1: 1", "* deleted #1",
                             "* usage: /react [#seq] <emoji>"):
                assert expected in shown, shown
            # and bob, reading the conversation's history, sees the edit, the tombstone and the changes in order
            cid = (await bob.open_direct(alice_id)).conversation_id
            pages = [page async for page in bob.history_pages(cid, after=0)]
            entries = [e for page in pages for e in page.messages]
            kinds = [e.kind if isinstance(e, Change) else "message" for e in entries]
            assert kinds == ["message", "message", "edited", "reacted", "unreacted", "reacted", "deleted"], kinds
            now = await bob.history(cid)
            messages = [m for m in now.messages if isinstance(m, Message)]
            assert [m.deleted for m in messages] == [True, False] and messages[1].text == "second"
            assert messages[1].edited_at is not None
        finally:
            await bob.close()

    run(scenario())
