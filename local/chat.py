"""A terminal chat on the Python client: ``parley chat --as alice --to bob``.

It opens the direct conversation, shows its recent history and whether the peer is online, then prints
messages as they arrive (and when the peer types, reads, comes and goes) and sends each line typed. ``/read``
marks the conversation read; ``/reply <seq> <text>`` answers message #seq (shown with a short quote of it);
``@user`` in a message mentions that member. ``/group add <user>...`` makes a group of the chat (with the peer
and the users named) and adds users to it afterwards; ``/group remove <user>``, ``/group rename <name>`` and
``/group leave`` manage it; ``/edit``, ``/delete``, ``/react`` and ``/unreact`` change a message (your last
one, or the newest, unless a ``#seq`` names it). Edits, deletes, reactions and group changes are shown as they
come. Run it in two terminals (``--as alice --to bob`` and ``--as bob --to alice``).

While you type a message, the peer is told so (a ``typing`` frame, at most once per
``PARLEY_TYPING_INTERVAL_MS``, the server's own relay interval). On a terminal the chat reads keystroke by
keystroke to know it (it echoes and edits the line itself: Backspace, Enter, Ctrl-D on an empty line, Ctrl-C);
from a pipe or file it reads what arrives, so a line read counts as typing just before it is sent.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
REPLY_COMMAND = "/reply"
GROUP_COMMAND = "/group"
GROUP_USAGE = "/group add <user>... | /group remove <user> | /group rename <name> | /group leave"
CHANGE_COMMANDS = frozenset({"/edit", "/delete", "/react", "/unreact"})
TYPING_SHOWN_FOR_SECONDS = 5.0  # the protocol's advice: an indicator lasts about 5 s without a new one
QUOTE_SHOWN_CHARS = 40  # of a reply's quote, in the terminal
_MENTION = re.compile(r"(?<![\w@])@([^\s@#]+)")
_TRAILING = ".,:;!?)]}'\""


class Typing:
    """In the input queue: the user is composing a message (a keystroke, or a chunk read from a pipe)."""


TYPING = Typing()
Typed = str | None | Typing  # a line, the end of input (None), or typing


def _clock(epoch_ms: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch_ms / 1000))


def format_message(message: Message, me: str) -> str:
    who = "you" if message.sender_id == me else message.sender_id
    if message.deleted:
        return f"#{message.seq} [{_clock(message.sent_at)}] {who}: (deleted)"
    files = len(message.attachments)
    extra = f" [{files} attachment{'s' if files > 1 else ''}]" if files else ""
    if message.quote is not None:
        quote = message.quote
        if quote.deleted:
            extra += f" [re #{quote.seq}: deleted]"
        else:
            said = (quote.text or "")[:QUOTE_SHOWN_CHARS]
            said += "\N{HORIZONTAL ELLIPSIS}" if quote.text and len(quote.text) > QUOTE_SHOWN_CHARS else ""
            extra += f" [re #{quote.seq} {'you' if quote.sender_id == me else quote.sender_id}: \"{said}\"]"
    if me in message.mentions and message.sender_id != me:
        extra += " [mentions you]"
    if message.edited_at:
        extra += " (edited)"
    if message.reactions:
        extra += " " + " ".join(f"{r.emoji}{r.count}" for r in message.reactions)
    return f"#{message.seq} [{_clock(message.sent_at)}] {who}: {message.text}{extra}"


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
    return f"#{change.seq} [{_clock(change.at)}] * {who} {lines.get(change.kind, change.kind)}"


def format_entry(entry: Entry, me: str) -> str:
    return format_change(entry, me) if isinstance(entry, Change) else format_message(entry, me)


def mentioned(text: str, members: Iterable[str]) -> list[str]:
    """The members ``@name`` in ``text`` names (``@bob,`` too), each once; other ``@words`` are left alone."""
    known = set(members)
    found: list[str] = []
    for word in _MENTION.findall(text):
        name = word if word in known else word.rstrip(_TRAILING)
        if name in known and name not in found:
            found.append(name)
    return found


def composing(draft: str) -> bool:
    """Whether a draft line is a message being written (a command is not, but ``/reply``'s text is)."""
    text = draft.lstrip()
    return bool(text) and (not text.startswith("/") or text.startswith(REPLY_COMMAND + " "))


class TypingSignal:
    """When to tell the peer you are typing: at the first keystroke, then at most once per ``interval_s`` (the
    server relays no more often than that, ``PARLEY_TYPING_INTERVAL_MS``)."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval_s
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return False
        self._last = now
        return True


@dataclass
class Fed:
    lines: list[str | None]  # lines ended by Enter; None: the end of input (Ctrl-D on an empty line)
    typed: bool  # the draft changed and is a message being written
    echo: str  # what to write back to a terminal


class LineEditor:
    """Keystrokes to lines, for a terminal read key by key (and for any chunk of input): printable characters
    add to the draft, Backspace takes the last one off, Enter ends the line, Ctrl-D on an empty draft ends
    input."""

    def __init__(self) -> None:
        self.draft = ""

    def feed(self, chunk: str) -> Fed:
        fed = Fed(lines=[], typed=False, echo="")
        for char in chunk:
            if char in "\r\n":
                fed.lines.append(self.draft)
                fed.echo += "\n"
                self.draft = ""
            elif char in "\x7f\b":
                if self.draft:
                    self.draft = self.draft[:-1]
                    fed.echo += "\b \b"
            elif char == "\x04":
                if not self.draft:
                    fed.lines.append(None)
            elif char.isprintable():
                self.draft += char
                fed.echo += char
                fed.typed = fed.typed or composing(self.draft)
        return fed


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

    def sent(self, seq: int) -> None:
        self.mine.append(seq)
        self.newest = max(self.newest, seq)

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


@contextlib.contextmanager
def _keystrokes(stream: TextIO) -> Iterator[bool]:
    """On a terminal: read key by key, without the terminal's own echo (the chat echoes and edits the line
    itself); signals such as Ctrl-C still work. Yields whether it did (not on a pipe or a file)."""
    try:
        import termios
        import tty

        fd = stream.fileno()
        if not os.isatty(fd):
            raise OSError("not a terminal")
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError):
        yield False
        return
    try:
        tty.setcbreak(fd)
        mode = termios.tcgetattr(fd)
        mode[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSANOW, mode)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _offer(queue: asyncio.Queue[Typed], editor: LineEditor, chunk: str, echo: TextIO | None) -> None:
    fed = editor.feed(chunk)
    if echo is not None and fed.echo:
        echo.write(fed.echo)
        echo.flush()
    if fed.typed:
        queue.put_nowait(TYPING)
    for line in fed.lines:
        queue.put_nowait(line)


async def _stdin_lines(editor: LineEditor, echo: TextIO | None = None) -> asyncio.Queue[Typed]:
    """What is typed on stdin: ``TYPING`` as a message is being written, each line, ``None`` at end of input. A
    pipe reader where stdin allows it, else a daemon thread (that never keeps the process alive at exit).
    ``echo``: where a terminal read key by key shows what is typed."""
    queue: asyncio.Queue[Typed] = asyncio.Queue()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two reads
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        def pump() -> None:
            while chunk := os.read(sys.stdin.fileno(), 4096):
                loop.call_soon_threadsafe(_offer, queue, editor, decoder.decode(chunk), echo)
            loop.call_soon_threadsafe(_offer, queue, editor, "\n" if editor.draft else "", echo)
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="stdin", daemon=True).start()
        return queue

    async def pump_async() -> None:
        while chunk := await reader.read(4096):
            _offer(queue, editor, decoder.decode(chunk), echo)
        if editor.draft:
            _offer(queue, editor, "\n", echo)  # a last line without its newline
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
    members: tuple[str, ...]


async def chat(url: str, me: str, peer: str, token: str, *, history: int = 20, out: TextIO = sys.stdout,
               lines: asyncio.Queue[Typed] | None = None, typing_interval_s: float = 3.0) -> int:
    """``lines``: what is typed (default: stdin); ``typing_interval_s``: the server's typing relay interval."""
    with _keystrokes(sys.stdin) if lines is None else contextlib.nullcontext(False) as by_key:
        return await _chat(url, me, peer, token, history=history, out=out, lines=lines,
                           typing=TypingSignal(typing_interval_s), by_key=by_key)


async def _chat(url: str, me: str, peer: str, token: str, *, history: int, out: TextIO,
                lines: asyncio.Queue[Typed] | None, typing: TypingSignal, by_key: bool) -> int:
    editor = LineEditor()

    def say(text: str) -> None:
        if by_key:  # over the line being typed, then that line again
            out.write(f"\r\x1b[K{text}\n{editor.draft}")
            out.flush()
        else:
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
        say(f"Chatting with {peer} as {me}. Type a message and press Enter (@{peer} mentions {peer}); "
            f"{REPLY_COMMAND} <#> <text> answers message #; /edit [#] <text>, /delete [#], /react [#] <emoji> and "
            f"/unreact [#] <emoji> change a message (your last one, or the newest); {GROUP_COMMAND} add <user> makes "
            f"a group; {READ_COMMAND} marks it read, /quit or Ctrl-D leaves.")
        if page.has_more:
            say(f"  (showing the last {len(page.messages)} messages)")
        seen = Seen(me)
        for entry in page.messages:
            if isinstance(entry, Message):
                seen.saw(entry)
            say(format_entry(entry, me))
        client.track(cid, page.messages[-1].seq if page.messages else 0)
        room = _Room(cid, conversation.members)
        status = (await client.presence([peer])).of(peer)
        if status is not None:
            say(format_presence(status))
        typed = lines or await _stdin_lines(editor, out if by_key else None)
        receiving = asyncio.create_task(_show_incoming(client, room, me, say, seen))
        try:
            await _send_typed(client, room, peer, typed, typing, say, seen)
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


async def _send_typed(client: ParleyClient, room: _Room, peer: str, typed: asyncio.Queue[Typed],
                      typing: TypingSignal, say: Callable[[str], None], seen: Seen) -> None:
    while (line := await typed.get()) is not None:
        if isinstance(line, Typing):
            if typing.due():
                await client.typing(room.conversation_id)
            continue
        text = line.strip()
        if text in QUIT_COMMANDS:
            return
        if not text:
            continue
        try:
            await _do(client, room, peer, text, say, seen)
        except ServerError as exc:
            say(f"* not done: {exc.message} ({exc.code})")
        except TimeoutError:
            say("* not sent: no answer from the server within 30 s")


async def _do(client: ParleyClient, room: _Room, peer: str, text: str, say: Callable[[str], None],
              seen: Seen) -> None:
    """One line typed: a command, or a message to send."""
    cid, members, command = room.conversation_id, room.members, text.split(maxsplit=1)[0]
    if text == READ_COMMAND:
        await _mark_read(client, cid, say)
    elif command == GROUP_COMMAND:
        await _group(client, room, peer, text.split()[1:], say)
    elif command in CHANGE_COMMANDS:
        await _change(client, cid, text, seen, say)
    elif command == REPLY_COMMAND:
        _, seq, reply = [*text.split(maxsplit=2), "", ""][:3]
        if not seq.lstrip("#").isdigit() or not reply:
            say(f"* usage: {REPLY_COMMAND} <#> <text>, e.g. {REPLY_COMMAND} 12 sounds good")
            return
        seen.sent((await client.send(cid, reply, reply_to=int(seq.lstrip("#")), mentions=mentioned(reply, members),
                                     timeout=30)).seq)
    else:
        seen.sent((await client.send(cid, text, mentions=mentioned(text, members), timeout=30)).seq)


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


async def _group(client: ParleyClient, room: _Room, peer: str, words: list[str],
                 say: Callable[[str], None]) -> None:
    """``/group add|remove|rename|leave``: on the group the chat is in; ``add`` in a direct chat makes a group of
    it (with the peer and the users named) and moves the chat there."""
    command, args = (words[0], words[1:]) if words else ("", [])
    cid = room.conversation_id
    if command == "add" and args and cid.startswith("d_"):
        group = await client.create_group([peer, *args])
        room.conversation_id, room.members = group.conversation_id, group.members
        say(f"* now in a group with {', '.join(m for m in group.members)} ({group.conversation_id})")
    elif command == "add" and args:
        room.members = (await client.add_members(cid, args)).members
        say(f"* added {', '.join(args)}")
    elif command == "remove" and len(args) == 1:
        room.members = (await client.remove_member(cid, args[0])).members
        say(f"* removed {args[0]}")
    elif command == "rename" and args:
        await client.rename_group(cid, " ".join(args))
        say(f"* renamed the group to {' '.join(args)!r}")
    elif command == "leave" and not args:
        await client.leave(cid)
        say("* you left the group; /quit to end the chat")
    else:
        say(f"* usage: {GROUP_USAGE}")


async def _show_incoming(client: ParleyClient, room: _Room, me: str, say: Callable[[str], None],
                         seen: Seen | None = None) -> None:
    typing_shown: dict[str, float] = {}  # who -> when their indicator was last printed
    async for item in client:
        cid = room.conversation_id
        if isinstance(item, Change):
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            say(prefix + format_change(item, me))
        elif isinstance(item, Message):
            typing_shown.pop(item.sender_id, None)  # they sent what they typed
            prefix = "" if item.conversation_id == cid else f"({item.conversation_id}) "
            if seen is not None and item.conversation_id == cid:
                seen.saw(item)
            say(prefix + format_message(item, me))
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
