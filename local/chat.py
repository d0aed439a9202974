"""A terminal chat on the Python client: ``parley chat --as alice --to bob``.

It opens the direct conversation, shows its recent history and whether the peer is online, then prints
messages as they arrive (and when the peer types, reads, comes and goes) and sends each line typed. ``/read``
marks the conversation read; ``/edit``, ``/delete``, ``/react`` and ``/unreact`` change a message (your last one, or
the newest, unless a ``#seq`` names it). Run it in two terminals (``--as alice --to bob`` and ``--as bob --to
alice``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from parley_client import (
    Change,
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
CHANGE_COMMANDS = frozenset({"/edit", "/delete", "/react", "/unreact"})
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
    reactions = "".join(f" {r.emoji}{r.count}" for r in message.reactions)
    return f"[{_clock(message.sent_at)}] #{message.seq} {who}: {message.text}{extra}{edited}{reactions}"


def format_change(change: Change, me: str) -> str:
    who = "you" if change.by == me else change.by
    target = f"#{change.target}"
    if change.kind == "edited":
        return f"* {who} edited {target}: {change.text}"
    if change.kind == "deleted":
        return f"* {who} deleted {target}"
    if change.kind in ("reacted", "unreacted"):
        verb = "reacted" if change.kind == "reacted" else "took back"
        return f"* {who} {verb} {change.emoji} on {target} ({change.count})"
    return f"* {who}: {change.kind}"


@dataclass
class Seen:
    """The seqs the change commands default to: your last message, and the newest message."""

    me: str
    mine: list[int] = field(default_factory=list)
    newest: int = 0

    def saw(self, message: Message) -> None:
        self.newest = max(self.newest, message.seq)
        if message.sender_id == self.me and not message.deleted:
            self.mine.append(message.seq)

    def target(self, words: list[str], own: bool) -> int | None:
        """The ``#seq`` at the start of ``words`` (taken off), else your last message or the newest one."""
        if words and words[0].startswith("#") and words[0][1:].isdigit():
            return int(words.pop(0)[1:])
        if own:
            return self.mine[-1] if self.mine else None
        return self.newest or None


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
            "/edit [#seq] <text>, /delete [#seq], /react [#seq] <emoji> and /unreact [#seq] <emoji> change a "
            "message (your last one, or the newest), /quit or Ctrl-D leaves.")
        if page.has_more:
            say(f"  (showing the last {len(page.messages)} messages)")
        seen = Seen(me)
        for message in page.messages:
            if isinstance(message, Message):
                seen.saw(message)
                say(format_message(message, me))
        client.track(cid, page.messages[-1].seq if page.messages else 0)
        status = (await client.presence([peer])).of(peer)
        if status is not None:
            say(format_presence(status))
        typed = lines or await _stdin_lines()
        receiving = asyncio.create_task(_show_incoming(client, cid, me, say, seen))
        try:
            await _send_typed(client, cid, typed, say, seen)
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


async def _send_typed(client: ParleyClient, cid: str, typed: asyncio.Queue[str | None],
                      say: Callable[[str], None], seen: Seen | None = None) -> None:
    seen = seen or Seen("")
    while (line := await typed.get()) is not None:
        text = line.strip()
        if text in QUIT_COMMANDS:
            return
        if not text:
            continue
        try:
            if text == READ_COMMAND:
                await _mark_read(client, cid, say)
            elif text.split(maxsplit=1)[0] in CHANGE_COMMANDS:
                await _change(client, cid, text, seen, say)
            else:
                ack = await client.send(cid, text, timeout=30)
                seen.mine.append(ack.seq)
                seen.newest = max(seen.newest, ack.seq)
        except ServerError as exc:
            say(f"* not done: {exc.message} ({exc.code})")
        except TimeoutError:
            say("* not sent: no answer from the server within 30 s")


async def _change(client: ParleyClient, cid: str, text: str, seen: Seen, say: Callable[[str], None]) -> None:
    """``/edit [#seq] <text>``, ``/delete [#seq]`` (your last message by default), ``/react [#seq] <emoji>`` and
    ``/unreact [#seq] <emoji>`` (the newest message by default)."""
    command, *words = text.split()
    seq = seen.target(words, own=command in ("/edit", "/delete"))
    rest = " ".join(words)
    if seq is None:
        say("* no message to change yet")
    elif command == "/delete":
        await client.delete(cid, seq)
        say(f"* deleted #{seq}")
    elif not rest:
        say(f"* usage: {command} [#seq] {'<new text>' if command == '/edit' else '<emoji>'}")
    elif command == "/edit":
        await client.edit(cid, seq, rest)
        say(f"* edited #{seq}")
    else:
        done = await client.react(cid, seq, rest, remove=command == "/unreact")
        say(f"* {rest} on #{seq}: {done.count if done.count is not None else 'unchanged'}")


async def _mark_read(client: ParleyClient, cid: str, say: Callable[[str], None]) -> None:
    seq = client.last_seq(cid) or 0
    if not seq:
        say("* nothing to read yet")
        return
    update = await client.read(cid, seq)
    say(f"* read up to #{update.last_read_seq} ({update.unread} unread)")


async def _show_incoming(client: ParleyClient, cid: str, me: str, say: Callable[[str], None],
                         seen: Seen | None = None) -> None:
    typing_shown: dict[str, float] = {}  # who -> when their indicator was last printed
    async for item in client:
        if isinstance(item, Message):
            typing_shown.pop(item.sender_id, None)  # they sent what they typed
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            if seen is not None and item.conversation_id == cid:
                seen.saw(item)
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
