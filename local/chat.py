"""A terminal chat on the Python client: ``parley chat --as alice --to bob``.

It opens the direct conversation, shows its recent history, then prints messages as they arrive and sends
each line typed. Run it in two terminals (``--as alice --to bob`` and ``--as bob --to alice``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from parley_client import Frame, HandshakeRejected, Message, ParleyClient, ServerError

QUIT_COMMANDS = frozenset({"/quit", "/exit"})


def format_message(message: Message, me: str) -> str:
    at = time.strftime("%H:%M:%S", time.localtime(message.sent_at / 1000))
    who = "you" if message.sender_id == me else message.sender_id
    return f"[{at}] {who}: {message.text}"


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
        say(f"Chatting with {peer} as {me}. Type a message and press Enter; /quit or Ctrl-D to leave.")
        if page.has_more:
            say(f"  (showing the last {len(page.messages)} messages)")
        for message in page.messages:
            say(format_message(message, me))
        client.track(cid, page.messages[-1].seq if page.messages else 0)
        typed = lines or await _stdin_lines()
        receiving = asyncio.create_task(_show_incoming(client, cid, me, say))
        try:
            await _send_typed(client, cid, typed, say)
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
                      say: Callable[[str], None]) -> None:
    while (line := await typed.get()) is not None:
        text = line.strip()
        if text in QUIT_COMMANDS:
            return
        if not text:
            continue
        try:
            await client.send(cid, text, timeout=30)
        except ServerError as exc:
            say(f"* not sent: {exc.message} ({exc.code})")
        except TimeoutError:
            say("* not sent: no answer from the server within 30 s")


async def _show_incoming(client: ParleyClient, cid: str, me: str, say: Callable[[str], None]) -> None:
    async for item in client:
        if isinstance(item, Message):
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            say(prefix + format_message(item, me))
        elif isinstance(item, Frame) and item.type == "presence":
            for user in item.data.get("users", []):
                say(f"* {user.get('userId')} is {user.get('status')}")
