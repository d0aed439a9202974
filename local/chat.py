"""A terminal chat on the Python client: ``parley chat --as alice --to bob``.

It opens the direct conversation, shows its recent history and whether the peer is online, then prints
messages as they arrive (and when the peer types, reads, comes and goes) and sends each line typed. ``/read``
marks the conversation read. ``/group add <user>...`` makes a group of the chat (with the peer and the users
named) and adds users to it afterwards; ``/group remove <user>``, ``/group rename <name>`` and ``/group leave``
manage it. Run it in two terminals (``--as alice --to bob`` and ``--as bob --to alice``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from parley_client import (
    Change,
    Entry,
    HandshakeRejected,
    Message,
    ParleyClient,
    Presence,
    PresenceStatus,
    Receipt,
    ServerError,
    TypingIndicator,
)

QUIT_COMMANDS = frozenset({"/quit", "/exit"})
READ_COMMAND = "/read"
GROUP_COMMAND = "/group"
GROUP_USAGE = "/group add <user>... | /group remove <user> | /group rename <name> | /group leave"
TYPING_SHOWN_FOR_SECONDS = 5.0  # the protocol's advice: an indicator lasts about 5 s without a new one


def _clock(epoch_ms: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch_ms / 1000))


def format_message(message: Message, me: str) -> str:
    who = "you" if message.sender_id == me else message.sender_id
    if message.deleted:
        return f"[{_clock(message.sent_at)}] #{message.seq} {who}: (deleted)"
    files = len(message.attachments)
    extra = f" [{files} attachment{'s' if files > 1 else ''}]" if files else ""
    edited = " (edited)" if message.edited_at else ""
    reactions = " " + " ".join(f"{r.emoji}{r.count}" for r in message.reactions) if message.reactions else ""
    quote = ""
    if message.quote is not None:
        quoted = "deleted" if message.quote.deleted else f"{message.quote.sender_id}: {message.quote.text or ''}"
        quote = f" (re #{message.quote.seq} {quoted})"
    return f"[{_clock(message.sent_at)}] #{message.seq} {who}:{quote} {message.text}{extra}{edited}{reactions}"


def format_change(change: Change, me: str) -> str:
    """One line for a change entry (docs/protocol.md, "Stream entries and changes")."""
    who = "you" if change.by == me else change.by
    users = ", ".join(change.users)
    lines = {
        "edited": f"edited #{change.target}: {change.text}",
        "deleted": f"deleted #{change.target}",
        "reacted": f"reacted {change.emoji} to #{change.target}",
        "unreacted": f"took {change.emoji} off #{change.target}",
        "membersAdded": f"added {users}",
        "memberRemoved": f"removed {users}",
        "memberLeft": "left" + (f" ({change.owner} owns the group now)" if change.owner else ""),
        "renamed": f"renamed the group to {change.name!r}",
        "roleChanged": f"made {users} {change.role}",
        "settingsChanged": f"set the group's history for new members to {change.history!r}",
    }
    return f"[{_clock(change.at)}] * {who} {lines.get(change.kind, change.kind)}"


def format_entry(entry: Entry, me: str) -> str:
    return format_change(entry, me) if isinstance(entry, Change) else format_message(entry, me)


def format_presence(status: PresenceStatus) -> str:
    if status.online:
        return f"* {status.user_id} is online"
    seen = f" (last seen {_clock(status.last_seen)})" if status.last_seen else ""
    return f"* {status.user_id} is offline{seen}"


async def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines typed on stdin, ``None`` at end of input. A pipe reader where stdin allows it, else a daemon
    thread (that never keeps the process alive at exit)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        def pump() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="stdin", daemon=True).start()
        return queue

    async def pump_async() -> None:
        while line := await reader.readline():
            queue.put_nowait(line.decode(errors="replace").rstrip("\n"))
        queue.put_nowait(None)

    task = asyncio.create_task(pump_async())
    _background.add(task)  # keep a reference until it ends
    task.add_done_callback(_background.discard)
    return queue


_background: set[asyncio.Task[None]] = set()


@dataclass
class _Room:
    """The conversation the chat is in: the direct one, or the group ``/group add`` made of it."""

    conversation_id: str


async def chat(url: str, me: str, peer: str, token: str, *, history: int = 20, out: TextIO = sys.stdout,
               lines: asyncio.Queue[str | None] | None = None) -> int:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def connection_changed(up: bool) -> None:
        say("* reconnected" if up else "* connection lost, reconnecting ...")

    client = ParleyClient(url, token, on_connection_change=connection_changed)
    try:
        await client.connect()
    except HandshakeRejected as exc:
        say(f"The server refused the connection (HTTP {exc.status}): is the token right for this stack?")
        return 1
    except OSError as exc:
        say(f"Cannot reach {url} ({exc.strerror or exc}). Is the local stack running (make run)?")
        return 1
    try:
        conversation = await client.open_direct(peer)
        cid = conversation.conversation_id
        page = await client.history(cid, limit=history)
        say(f"Chatting with {peer} as {me}. Type a message and press Enter; {READ_COMMAND} marks it read, "
            "/quit or Ctrl-D leaves.")
        if page.has_more:
            say(f"  (showing the last {len(page.messages)} messages)")
        for entry in page.messages:
            say(format_entry(entry, me))
        client.track(cid, page.messages[-1].seq if page.messages else 0)
        room = _Room(cid)
        status = (await client.presence([peer])).of(peer)
        if status is not None:
            say(format_presence(status))
        typed = lines or await _stdin_lines()
        receiving = asyncio.create_task(_show_incoming(client, room, me, say))
        try:
            await _send_typed(client, room, peer, typed, say)
        finally:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving
    except ServerError as exc:
        say(f"Refused: {exc.message} ({exc.code})")
        return 1
    finally:
        await client.close()
    return 0


async def _send_typed(client: ParleyClient, room: _Room, peer: str, typed: asyncio.Queue[str | None],
                      say: Callable[[str], None]) -> None:
    while (line := await typed.get()) is not None:
        cid = room.conversation_id
        text = line.strip()
        if text in QUIT_COMMANDS:
            return
        if not text:
            continue
        try:
            if text == READ_COMMAND:
                await _mark_read(client, cid, say)
            elif text == GROUP_COMMAND or text.startswith(GROUP_COMMAND + " "):
                await _group(client, room, peer, text.split()[1:], say)
            else:
                await client.send(cid, text, timeout=30)
        except ServerError as exc:
            say(f"* not done: {exc.message} ({exc.code})")
        except TimeoutError:
            say("* not sent: no answer from the server within 30 s")


async def _mark_read(client: ParleyClient, cid: str, say: Callable[[str], None]) -> None:
    seq = client.last_seq(cid) or 0
    if not seq:
        say("* nothing to read yet")
        return
    update = await client.read(cid, seq)
    say(f"* read up to #{update.last_read_seq} ({update.unread} unread)")


async def _group(client: ParleyClient, room: _Room, peer: str, words: list[str],
                 say: Callable[[str], None]) -> None:
    """``/group add|remove|rename|leave``: on the group the chat is in; ``add`` in a direct chat makes a group of
    it (with the peer and the users named) and moves the chat there."""
    command, args = (words[0], words[1:]) if words else ("", [])
    cid = room.conversation_id
    if command == "add" and args and cid.startswith("d_"):
        group = await client.create_group([peer, *args])
        room.conversation_id = group.conversation_id
        say(f"* now in a group with {', '.join(m for m in group.members)} ({group.conversation_id})")
    elif command == "add" and args:
        await client.add_members(cid, args)
        say(f"* added {', '.join(args)}")
    elif command == "remove" and len(args) == 1:
        await client.remove_member(cid, args[0])
        say(f"* removed {args[0]}")
    elif command == "rename" and args:
        await client.rename_group(cid, " ".join(args))
        say(f"* renamed the group to {' '.join(args)!r}")
    elif command == "leave" and not args:
        await client.leave(cid)
        say("* you left the group; /quit to end the chat")
    else:
        say(f"* usage: {GROUP_USAGE}")


async def _show_incoming(client: ParleyClient, room: _Room, me: str, say: Callable[[str], None]) -> None:
    typing_shown: dict[str, float] = {}  # who -> when their indicator was last printed
    async for item in client:
        cid = room.conversation_id
        if isinstance(item, Message):
            typing_shown.pop(item.sender_id, None)  # they sent what they typed
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            say(prefix + format_message(item, me))
        elif isinstance(item, Change):
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            say(prefix + format_change(item, me))
        elif isinstance(item, TypingIndicator) and item.conversation_id == cid:
            # one line per burst of typing, not one per indicator
            now = time.monotonic()
            if now - typing_shown.get(item.user_id, -TYPING_SHOWN_FOR_SECONDS) >= TYPING_SHOWN_FOR_SECONDS:
                say(f"* {item.user_id} is typing\N{HORIZONTAL ELLIPSIS}")
            typing_shown[item.user_id] = now
        elif isinstance(item, Presence):
            for status in item.users:
                say(format_presence(status))
        elif isinstance(item, Receipt) and item.conversation_id == cid:
            say(f"* {item.user_id} read up to #{item.seq}")
