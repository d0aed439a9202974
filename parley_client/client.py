"""An asyncio client for Parley's WebSocket protocol, for app backends, bots, tests and benchmarks.

It keeps one connection open: it reconnects with exponential backoff and jitter, catches up every
tracked conversation after each reconnect (``history`` with ``after`` = the last seq seen, paging while
``hasMore``), delivers messages in ``seq`` order without duplicates, resends a message with the same
``clientMsgId`` until it is acked, and sends ``ping`` when the connection has been quiet for 5 minutes
(``parley_client.keepalive``), inside API Gateway's 10-minute idle timeout.

Every action of docs/protocol.md has a typed helper (``read``, ``presence``, ``set_preferences``,
``upload_file``, ...). Iterating the client yields messages and the other frames the server pushes,
typed (``Presence``, ``TypingIndicator``, ``Receipt``, ``UnreadUpdate``, ``AttachmentReady``, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Final, Literal, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.protocol import State

from parley_client import e2e
from parley_client.backoff import Backoff
from parley_client.e2e_session import E2ESession, KeyChange, image_preview, without_metadata
from parley_client.errors import ClientClosed, ConnectionLost, HandshakeRejected, ServerError
from parley_client.frames import (
    Ack,
    Attachment,
    AttachmentUrls,
    BlockList,
    Change,
    Changed,
    Conversation,
    ConversationPreferences,
    ConversationsPage,
    DeviceRegistration,
    Entry,
    Frame,
    HistoryPage,
    Incoming,
    Message,
    Preferences,
    Presence,
    Reported,
    UnreadCounts,
    UnreadUpdate,
    Upload,
    answered_send,
    entry_from_frame,
    frame_type,
    message_id_of,
    parse_frame,
)
from parley_client.keepalive import KEEPALIVE_INTERVAL_S, PONG_TIMEOUT_S, Keepalive
from parley_client.timeline import Timeline
from parley_client.uploads import get_file, post_file

log = logging.getLogger("parley_client")

USER_AGENT = "parley-client-python/0.1"
TokenProvider = Callable[[], str | Awaitable[str]]
FrameFormat = Literal["compact", "full"]  # docs/protocol.md, "Frame formats"
# Errors after which the same request may simply be sent again (``rate_limited`` after its ``retryAfterMs``).
RETRYABLE_CODES = frozenset({"throttled", "conflict", "internal_error", "rate_limited", "moderation_unavailable"})
HISTORY_PAGE_MAX = 100
_FILL_ROUNDS = 5
GAP_GRACE_SECONDS = 0.1
_AUTH_FAILURES_BEFORE_GIVING_UP = 3
_REMEMBERED_SENDS = 4096  # clientMsgIds whose first lastSeq a repeated send() reuses
UPLOAD_TIMEOUT_SECONDS = 120.0
E2E_KEYS_MAX_AGE_SECONDS = 60.0  # a conversation's member keys are fetched again after this (and on keysChanged)
_MEMBERSHIP_CHANGES = frozenset({"membersAdded", "memberRemoved", "memberLeft"})
# What iterating the client yields: messages (decrypted in e2e conversations), changes, other frames, and in
# e2e conversations the typed errors of messages that cannot be accepted (never shown as text).
Received = Incoming | e2e.E2EError


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET  # "leave unchanged", where None means "clear"


@dataclass
class ClientStats:
    connects: int = 0
    reconnects: int = 0
    recovered: int = 0  # messages delivered from a history catch-up rather than a push
    duplicates_dropped: int = 0
    resends: int = 0


class _End:
    """Ends the incoming stream."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class ParleyClient:
    def __init__(self, url: str, token: str | TokenProvider, *, auth_via: Literal["query", "header"] = "query",
                 keepalive_interval: float = KEEPALIVE_INTERVAL_S, request_timeout: float = 10.0,
                 ack_timeout: float = 5.0,
                 backoff: Backoff | None = None, reconnect: bool = True, open_timeout: float = 10.0,
                 max_size: int = 1 << 20, user_agent: str = USER_AGENT, frame_format: FrameFormat = "compact",
                 on_connection_change: Callable[[bool], None] | None = None, e2e: E2ESession | None = None) -> None:
        if frame_format not in ("compact", "full"):
            raise ValueError(f"frame_format is 'compact' or 'full', not {frame_format!r}")
        self._url = url
        self._frame_format = frame_format
        self._token = token
        self._auth_via = auth_via
        self._keepalive = Keepalive(keepalive_interval)
        self._request_timeout = request_timeout
        self._ack_timeout = ack_timeout
        self._backoff = backoff or Backoff()
        self._reconnect = reconnect
        self._open_timeout = open_timeout
        self._max_size = max_size
        self._user_agent = user_agent
        self._on_connection_change = on_connection_change

        self._ws: ClientConnection | None = None
        self._open = asyncio.Event()
        self._closing = False
        self._fatal: BaseException | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pings: list[asyncio.Future[None]] = []  # pings sent, oldest first: a pong answers the oldest
        self._incoming: asyncio.Queue[Incoming | _End] = asyncio.Queue()
        self._timelines: dict[str, Timeline] = {}
        self._filling: set[str] = set()
        self._sending: set[str] = set()  # clientMsgIds of our sends not acked yet
        self._first_sent_at: OrderedDict[str, int] = OrderedDict()  # clientMsgId -> its lastSeq
        self._ids = itertools.count(1)
        self.stats = ClientStats()
        # End-to-end encryption (docs/e2e.md): this device's session, the conversations known to be e2e, and
        # each one's members as of the last key fetch (with when it was fetched).
        self.e2e = e2e
        self._e2e_conversations: set[str] = set()
        self._plain_conversations: set[str] = set()  # the server said so (getKeys: e2e_not_enabled)
        self._published_prekey: int | None = None  # the prekey id this client last published
        self._e2e_members: dict[str, tuple[float, tuple[str, ...]]] = {}

    # -- connection lifecycle -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.state is State.OPEN

    @property
    def websocket(self) -> ClientConnection | None:
        """The current connection, if any (diagnostics and tests)."""
        return self._ws

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the first connection. A refused handshake raises :class:`HandshakeRejected` at once;
        later drops are repaired in the background."""
        if self._supervisor is not None:
            raise RuntimeError("already connected")
        ws = await self._open_connection()
        self.stats.connects += 1
        self._attach(ws)
        self._supervisor = asyncio.create_task(self._supervise(ws), name="parley-client")
        if self.e2e is not None:
            self.e2e.device.rotate_if_due()
            await self.publish_keys()

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._fail_waiting(ClientClosed("the client is closed"))
        self._incoming.put_nowait(_End())

    async def _open_connection(self) -> ClientConnection:
        token = self._token() if callable(self._token) else self._token
        if inspect.isawaitable(token):
            token = await token
        headers = {}
        query = [*parse_qsl(urlsplit(self._url).query), ("format", self._frame_format)]
        if self._auth_via == "header":
            headers["Authorization"] = f"Bearer {token}"
        else:
            query.append(("token", str(token)))
        url = urlunsplit(urlsplit(self._url)._replace(query=urlencode(query)))
        try:
            return await connect(url, additional_headers=headers, user_agent_header=self._user_agent,
                                 open_timeout=self._open_timeout, max_size=self._max_size, proxy=None)
        except InvalidStatus as exc:
            raise HandshakeRejected(exc.response.status_code) from None

    def _attach(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._e2e_members.clear()  # a keysChanged may have been missed while disconnected
        self._keepalive.active()
        self._open.set()

    async def _supervise(self, ws: ClientConnection) -> None:
        while True:
            keepalive = asyncio.create_task(self._keep_alive(ws))
            try:
                await self._read(ws)
            finally:
                keepalive.cancel()
                self._open.clear()
                self._ws = None
                if self._on_connection_change is not None and not self._closing:
                    self._on_connection_change(False)
                # Requests in flight lost their answer: senders resend, readers ask again.
                self._fail_waiting(ConnectionLost("the connection closed"))
            if self._closing or not self._reconnect:
                self._incoming.put_nowait(_End())
                return
            try:
                ws = await self._reconnect_with_backoff()
            except (HandshakeRejected, ClientClosed) as exc:  # gave up: the stream ends with the reason
                self._fatal = exc
                self._fail_waiting(exc)
                self._incoming.put_nowait(_End(self._fatal))
                return
            self.stats.reconnects += 1
            self._attach(ws)
            if self._on_connection_change is not None:
                self._on_connection_change(True)
            self._spawn(self._catch_up(list(self._timelines)))
            if self.e2e is not None:
                # A connection lives 2 hours at most: a prekey that came due meanwhile is rotated here, and one
                # not published yet (a failed try) is published.
                self.e2e.device.rotate_if_due()
                if self._published_prekey != self.e2e.device.current_prekey.id:
                    self._spawn(self._publish_quietly())

    async def _publish_quietly(self) -> None:
        try:
            await self.publish_keys()
        except (ServerError, ConnectionLost, ClientClosed) as exc:
            log.warning("publishing this device's keys failed (tried again at the next reconnect): %s", exc)

    async def _reconnect_with_backoff(self) -> ClientConnection:
        auth_failures = 0
        for attempt in itertools.count():
            await asyncio.sleep(self._backoff.delay(attempt))
            if self._closing:
                raise ClientClosed("the client is closed")
            try:
                return await self._open_connection()
            except HandshakeRejected as exc:
                if exc.banned:
                    raise  # refused until the ban ends: retrying only costs the server
                if exc.status not in (401, 403):
                    continue
                auth_failures += 1
                if auth_failures >= _AUTH_FAILURES_BEFORE_GIVING_UP:
                    raise
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.debug("reconnect attempt %d failed: %s", attempt + 1, exc)
        raise AssertionError("unreachable")

    async def _keep_alive(self, ws: ClientConnection) -> None:
        """A ``ping`` whenever the connection was quiet for the keepalive interval; no pong -> reconnect."""
        while ws.state is State.OPEN:
            wait = self._keepalive.due_in()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                await self._ping(ws, min(PONG_TIMEOUT_S, self._request_timeout))
            except (ConnectionLost, ConnectionClosed):
                return
            except TimeoutError:
                log.warning("no pong within %.0f s: reconnecting", min(PONG_TIMEOUT_S, self._request_timeout))
                ws.transport.abort()
                return

    async def _ping(self, ws: ClientConnection, timeout: float) -> None:
        """Send ``ping`` and wait for a ``pong``. API Gateway answers it itself, without ``ref``: a pong
        answers the oldest ping still waiting."""
        pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings.append(pong)
        try:
            await ws.send('{"action":"ping"}')
            self._keepalive.active()
            async with asyncio.timeout(timeout):
                await pong
        finally:
            if pong in self._pings:
                self._pings.remove(pong)

    # -- frames in -----------------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("ignored a frame that is not JSON")
                    continue
                self._keepalive.active()
                if isinstance(frame, dict):
                    self._dispatch(frame)
        except ConnectionClosed:
            pass

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame_type(frame)
        if kind == "pong":
            if self._pings:
                answered = self._pings.pop(0)
                if not answered.done():
                    answered.set_result(None)
            return
        # A send is answered by its clientMsgId (an ack, or an error to a send); anything else by its ref.
        key = answered_send(frame) or frame.get("ref")
        waiter = self._waiting.get(key) if isinstance(key, str) and kind not in ("message", "change") else None
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(frame)
            return
        if kind == "keysChanged":
            self._e2e_members.clear()  # the next send fetches keys again; iterating yields the notices
        if kind in ("message", "change"):
            self._on_message(entry_from_frame(frame), recovered=False)
        elif kind is None:
            # API Gateway's own answer when a handler failed: {"message": "Internal server error", ...}
            log.warning("gateway error frame: %s", frame.get("message"))
        else:
            self._incoming.put_nowait(parse_frame(frame))

    def _on_message(self, message: Entry, *, recovered: bool) -> None:
        if isinstance(message, Change) and message.kind in _MEMBERSHIP_CHANGES:
            self._e2e_members.pop(message.conversation_id, None)  # the next send fetches the members' keys
        # First news of a conversation: follow it from this message on.
        timeline = self._timelines.setdefault(message.conversation_id, Timeline(last_seq=None))
        before = timeline.duplicates
        # A catch-up can read our own message before its ack arrives: it is ours, not news.
        own = message.client_msg_id is not None and message.client_msg_id in self._sending
        arrived = timeline.acked(message.seq, message.message_id) if own else timeline.offer(message)
        for ready in arrived:
            if recovered and ready.message_id == message.message_id:
                self.stats.recovered += 1
            self._incoming.put_nowait(ready)
        self.stats.duplicates_dropped += timeline.duplicates - before
        if timeline.has_gap and not recovered:
            self._fill_soon(message.conversation_id)

    # -- catch-up -----------------------------------------------------------------------------------

    def track(self, conversation_id: str, last_seq: int = 0) -> None:
        """Follow a conversation after ``last_seq`` (0: from its first message): its messages are delivered
        in order, and after every reconnect the client reads what it missed. A conversation is also
        followed from its first pushed message on. Tracking again never moves backward."""
        timeline = self._timelines.setdefault(conversation_id, Timeline(last_seq=None))
        for ready in timeline.fast_forward(last_seq):
            self._incoming.put_nowait(ready)

    def last_seq(self, conversation_id: str) -> int | None:
        """The last seq delivered (or sent) in order; None for a conversation not followed yet."""
        timeline = self._timelines.get(conversation_id)
        return None if timeline is None else timeline.last_seq

    async def catch_up(self, conversation_id: str) -> None:
        """Read and deliver everything after the last seq seen (also done after every reconnect)."""
        await self._catch_up([conversation_id])

    def _fill_soon(self, conversation_id: str) -> None:
        if conversation_id not in self._filling:
            # Pushes and acks overtake one another: most gaps close by themselves within moments.
            self._spawn(self._catch_up([conversation_id], grace=GAP_GRACE_SECONDS))

    async def _catch_up(self, conversation_ids: Iterable[str], grace: float = 0.0) -> None:
        for cid in conversation_ids:
            if cid in self._filling:
                continue
            self._filling.add(cid)
            try:
                if grace:
                    await asyncio.sleep(grace)
                    if not self._timelines[cid].has_gap:
                        continue
                await self._fill(cid)
            except (ConnectionLost, ClientClosed):
                return  # the next reconnect catches up again
            except ServerError as exc:
                log.warning("catch-up of %s refused: %s", cid, exc)
            finally:
                self._filling.discard(cid)

    async def _fill(self, conversation_id: str) -> None:
        timeline = self._timelines[conversation_id]
        for _round in range(_FILL_ROUNDS):
            if timeline.last_seq is None:
                return  # nothing to start from yet: the first push sets it
            after = timeline.last_seq
            while True:
                page = await self.history(conversation_id, after=after, limit=HISTORY_PAGE_MAX)
                for message in page.messages:
                    self._on_message(message, recovered=True)
                if page.messages:
                    after = max(after, page.messages[-1].seq)
                if page.next_seq is not None:
                    after = max(after, page.next_seq)  # past messages hidden from us
                if not page.has_more or (page.next_seq is None and not page.messages):
                    break
            # Up to `after` history is complete: a seq it did not have does not exist.
            for ready in timeline.skip_missing(up_to=after):
                self._incoming.put_nowait(ready)
            if not timeline.has_gap:
                return
            # What is held back lies beyond what was stored when we read: its gap is in flight.
            await asyncio.sleep(0.05)

    # -- the incoming stream ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Received]:
        return self

    async def __anext__(self) -> Received:
        item = await self._incoming.get()
        if isinstance(item, _End):
            self._incoming.put_nowait(item)  # every later call ends too
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        if self.e2e is None:
            return item
        if isinstance(item, Frame) and item.type == "keysChanged":
            await self._on_keys_changed(str(item.data.get("userId")))
            return item
        return await self.decrypt(item) if isinstance(item, Message | Change) else item

    async def next_message(self, timeout: float | None = None) -> Message:
        """The next incoming chat message, skipping other frames."""
        async with asyncio.timeout(timeout):
            async for item in self:
                if isinstance(item, Message):
                    return item
        raise ClientClosed("the client is closed")

    # -- requests ---------------------------------------------------------------------------------

    async def send(self, conversation_id: str, text: str | None = None, *,
                   attachments: Sequence[Attachment] = (), client_msg_id: str | None = None,
                   last_seq: int | None = None, timeout: float | None = None, reply_to: int | None = None,
                   mentions: Sequence[str] = ()) -> Ack:
        """Send a message (text, attachments from :meth:`upload_file`, or both); resent with the same
        ``clientMsgId`` until acked (the server stores it once). ``timeout`` bounds the whole effort (None:
        until acked or the client gives up).

        Sending a ``client_msg_id`` again (an app's own outbox) is recognised as a resend however many
        messages arrived since: this client remembers the ``lastSeq`` it first sent it with; an app that
        restarted passes the ``last_seq`` it stored with the message.

        ``reply_to``: the seq of the message this one replies to (the members get it with a short quote);
        ``mentions``: user ids of members to mention (pushed even when their mode is ``badge`` or ``passive``)."""
        cmid = client_msg_id or secrets.token_hex(8)
        body: dict[str, Any] = {"text": text} if text else {}
        if attachments:
            body["attachments"] = [a.to_request() for a in attachments]
        if await self.is_e2e(conversation_id):
            body = await self._sealed_body(conversation_id, cmid, text, attachments)
        frame: dict[str, Any] = {"action": "send", "conversationId": conversation_id, "clientMsgId": cmid,
                                 "body": body}
        if reply_to is not None:
            frame["replyTo"] = reply_to
        if mentions:
            frame["mentions"] = list(dict.fromkeys(mentions))
        # The newest seq we have, fixed at the first attempt and sent unchanged with every resend: the server
        # then recognises a resend however many messages arrived in between.
        if last_seq is None:
            last_seq = self._first_sent_at.get(cmid, self.last_seq(conversation_id))
        if last_seq is not None:
            frame["lastSeq"] = last_seq
            self._first_sent_at[cmid] = last_seq
            while len(self._first_sent_at) > _REMEMBERED_SENDS:
                self._first_sent_at.popitem(last=False)
        self._sending.add(cmid)
        try:
            async with asyncio.timeout(timeout):
                ack = await self._send_until_acked(frame, cmid)
        finally:
            self._sending.discard(cmid)
        timeline = self._timelines.setdefault(conversation_id, Timeline(last_seq=None))
        for ready in timeline.acked(ack.seq, ack.message_id):
            self._incoming.put_nowait(ready)
        return ack

    async def _send_until_acked(self, frame: dict[str, Any], cmid: str) -> Ack:
        while True:
            try:
                reply = await self._call(frame, cmid, self._ack_timeout, retry=True)
                return Ack.from_frame(reply, conversation_id=frame["conversationId"])
            except ServerError as error:
                if error.code != "stale_last_seq":
                    raise
            # More than the server checks (1,000 messages) arrived after our lastSeq: look for the message
            # ourselves. Found: it was stored, so that is the ack. Not found: it never was, send it afresh.
            conversation_id, last_seq = frame["conversationId"], int(frame["lastSeq"])
            stored, newest = await self._find_sent(conversation_id, cmid, after=last_seq)
            if stored is not None:
                return Ack(conversation_id=conversation_id, client_msg_id=cmid, seq=stored.seq,
                           message_id=stored.message_id, sent_at=stored.sent_at)
            frame = {**frame, "lastSeq": newest}
            self._first_sent_at[cmid] = newest

    async def _find_sent(self, conversation_id: str, cmid: str, *, after: int) -> tuple[Message | None, int]:
        """The stored message with ``clientMsgId`` ``cmid`` after seq ``after`` (or None), and the newest
        seq read on the way."""
        newest = after
        async for page in self.history_pages(conversation_id, after=after):
            for message in page.messages:
                if isinstance(message, Message) and message.client_msg_id == cmid:
                    return message, max(newest, message.seq)
                newest = max(newest, message.seq)
            newest = max(newest, page.next_seq or 0)
        return None, newest

    async def request(self, action: str, *, retry: bool = True, timeout: float | None = None,
                      **fields: Any) -> dict[str, Any]:
        """Any request: returns the answering frame, raises :class:`ServerError` for an error frame.
        With ``retry`` it is sent again after a lost connection (for requests that are safe to repeat)."""
        request_id = f"r{next(self._ids)}-{secrets.token_hex(3)}"
        if action == "send" and "clientMsgId" in fields:
            # A send is answered by its clientMsgId (an ack, or an error naming it), never by a requestId.
            return await self._call({"action": action, **fields}, str(fields["clientMsgId"]),
                                    timeout or self._request_timeout, retry=retry)
        frame = {"action": action, "requestId": request_id, **fields}
        return await self._call(frame, request_id, timeout or self._request_timeout, retry=retry)

    async def history(self, conversation_id: str, *, before: int | None = None, after: int | None = None,
                      limit: int = 50) -> HistoryPage:
        fields: dict[str, Any] = {"conversationId": conversation_id, "limit": limit}
        if before is not None:
            fields["before"] = before
        if after is not None:
            fields["after"] = after
        return HistoryPage.from_frame(await self.request("history", **fields))

    async def history_pages(self, conversation_id: str, *, after: int | None = None,
                            limit: int = HISTORY_PAGE_MAX) -> AsyncIterator[HistoryPage]:
        """Page through history: forward from ``after`` (catch-up), else backward from the newest."""
        before: int | None = None
        while True:
            page = await self.history(conversation_id, before=before, after=after, limit=limit)
            yield page
            if not page.has_more:
                return
            if page.next_seq is not None:
                after, before = (page.next_seq, before) if after is not None else (after, page.next_seq)
            elif not page.messages:
                return
            elif after is not None:
                after = page.messages[-1].seq
            else:
                before = page.messages[0].seq

    async def open_direct(self, user_id: str, *, follow: bool = True, e2e: bool = False) -> Conversation:
        """Find or create the direct conversation with ``user_id`` (with ``e2e``: the pair's end-to-end
        encrypted one); with ``follow``, its new messages (from now on) are delivered and caught up after
        reconnects."""
        frame = await self.request("openDirect", userId=user_id, **({"e2e": True} if e2e else {}))
        conversation = self._seen(Conversation.from_frame(frame["conversation"]))
        if follow and self.last_seq(conversation.conversation_id) is None:
            newest = await self.history(conversation.conversation_id, limit=1)
            self.track(conversation.conversation_id, newest.messages[-1].seq if newest.messages else 0)
        return conversation

    async def create_group(self, members: list[str], name: str | None = None, *, follow: bool = True,
                           history_visibility: Literal["joined", "all"] | None = None,
                           e2e: bool = False) -> Conversation:
        fields: dict[str, Any] = {"members": members}
        if e2e:
            fields["e2e"] = True
        if name is not None:
            fields["name"] = name
        if history_visibility is not None:
            fields["historyVisibility"] = history_visibility
        # Not repeated after a lost connection: a second createGroup would make a second group.
        frame = await self.request("createGroup", retry=False, **fields)
        conversation = self._seen(Conversation.from_frame(frame["conversation"]))
        if follow:
            self.track(conversation.conversation_id, 0)
        return conversation

    # -- groups (docs/protocol.md, "addMembers" ... "setGroupSettings") --------------------------------------

    async def add_members(self, conversation_id: str, user_ids: list[str]) -> Conversation:
        return await self._group_change("addMembers", conversation_id, userIds=user_ids)

    async def remove_member(self, conversation_id: str, user_id: str) -> Conversation:
        return await self._group_change("removeMember", conversation_id, userId=user_id)

    async def leave(self, conversation_id: str) -> Conversation:
        return await self._group_change("leave", conversation_id)

    async def rename_group(self, conversation_id: str, name: str) -> Conversation:
        return await self._group_change("renameGroup", conversation_id, name=name)

    async def set_role(self, conversation_id: str, user_id: str,
                       role: Literal["owner", "admin", "member"]) -> Conversation:
        return await self._group_change("setRole", conversation_id, userId=user_id, role=role)

    async def set_group_settings(self, conversation_id: str,
                                 history_visibility: Literal["joined", "all"]) -> Conversation:
        return await self._group_change("setGroupSettings", conversation_id, historyVisibility=history_visibility)

    async def _group_change(self, action: str, conversation_id: str, **fields: Any) -> Conversation:
        """A group change: the group after it. Safe to repeat after a lost connection (asking for what already
        is changes nothing); the change entry it stored closes its seq in this client's timeline, as an ack does."""
        frame = await self.request(action, conversationId=conversation_id, **fields)
        seq = frame.get("seq")
        timeline = self._timelines.get(conversation_id)
        if isinstance(seq, int) and timeline is not None:
            for ready in timeline.acked(seq, message_id_of(conversation_id, seq)):
                self._incoming.put_nowait(ready)
        return self._seen(Conversation.from_frame(frame["conversation"]))

    async def list_conversations(self, limit: int = 50, cursor: str | None = None) -> ConversationsPage:
        fields: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            fields["cursor"] = cursor
        page = ConversationsPage.from_frame(await self.request("listConversations", **fields))
        for conversation in page.conversations:
            self._seen(conversation)
        return page

    def _seen(self, conversation: Conversation) -> Conversation:
        if conversation.e2e:
            self._e2e_conversations.add(conversation.conversation_id)
        return conversation

    async def ping(self) -> float:
        """Round trip of a ``ping``, in seconds (``TimeoutError`` without a pong within the request timeout)."""
        started = time.monotonic()
        await self._ping(await self._connection(), self._request_timeout)
        return time.monotonic() - started

    # -- read state, presence, typing -----------------------------------------------------------------

    async def read(self, conversation_id: str, seq: int) -> UnreadUpdate:
        """Mark the conversation read up to ``seq``; your other devices get the same ``UnreadUpdate`` and the
        other members a ``Receipt`` (unless you hide read receipts)."""
        return UnreadUpdate.from_frame(await self.request("read", conversationId=conversation_id, seq=seq))

    async def unread_counts(self) -> UnreadCounts:
        return UnreadCounts.from_frame(await self.request("unreadCounts"))

    async def presence(self, user_ids: Iterable[str]) -> Presence:
        """The presence of the users who share a conversation with you (the others are left out)."""
        return Presence.from_frame(await self.request("presence", userIds=list(user_ids)))

    async def typing(self, conversation_id: str) -> None:
        """Tell the other members you are typing (send it every few seconds while the user types). Nothing
        is answered; a refusal (``not_member``, ...) arrives through the iterator as an ``error`` frame."""
        ws = await self._connection()
        await ws.send(json.dumps({"action": "typing", "conversationId": conversation_id}, separators=(",", ":")))
        self._keepalive.active()

    # -- preferences, blocks, reports -----------------------------------------------------------------

    async def get_preferences(self) -> Preferences:
        return Preferences.from_frame(await self.request("getPreferences"))

    async def set_preferences(self, *, visibility: Literal["visible", "invisible"] | None = None,
                              hide_read_receipts: bool | None = None,
                              notify: Literal["push", "badge", "passive"] | None = None) -> Preferences:
        """Change the given settings (None leaves one unchanged); returns all of them."""
        given: dict[str, Any] = {"visibility": visibility, "hideReadReceipts": hide_read_receipts, "notify": notify}
        return Preferences.from_frame(await self.request(
            "setPreferences", **{k: v for k, v in given.items() if v is not None}))

    async def set_conversation_preferences(
            self, conversation_id: str, *, notify: Literal["push", "badge", "passive"] | _Unset | None = UNSET,
            muted_until: int | _Unset | None = UNSET) -> ConversationPreferences:
        """Override ``notify`` for one conversation and/or mute it until ``muted_until`` (epoch ms). Left out:
        unchanged; None: the override is cleared."""
        given: dict[str, Any] = {"notify": notify, "mutedUntil": muted_until}
        return ConversationPreferences.from_frame(await self.request(
            "setConversationPreferences", conversationId=conversation_id,
            **{k: v for k, v in given.items() if v is not UNSET}))

    async def block(self, user_id: str) -> BlockList:
        return BlockList.from_frame(await self.request("block", userId=user_id))

    async def unblock(self, user_id: str) -> BlockList:
        return BlockList.from_frame(await self.request("unblock", userId=user_id))

    async def list_blocks(self) -> BlockList:
        return BlockList.from_frame(await self.request("listBlocks"))

    async def report(self, conversation_id: str, seq: int, reason: str | None = None) -> Reported:
        """Report a message for the host app's moderators (stored once per reporter and message)."""
        fields: dict[str, Any] = {"conversationId": conversation_id, "seq": seq}
        if reason is not None:
            fields["reason"] = reason
        return Reported.from_frame(await self.request("report", **fields))

    # -- edits, deletes and reactions -----------------------------------------------------------------

    async def edit(self, conversation_id: str, seq: int, text: str) -> Changed:
        """Replace the text of your own message (within the server's edit window). Safe to retry. In an
        end-to-end encrypted conversation the new text is sealed like a message."""
        if self.e2e is None or not await self.is_e2e(conversation_id):
            return Changed.from_frame(await self.request("edit", conversationId=conversation_id, seq=seq, text=text))
        members = await self._e2e_recipients(conversation_id)
        envelope = self.e2e.seal(conversation_id, self.e2e.edit_payload(secrets.token_hex(8), seq, text), members)
        return Changed.from_frame(await self.request("edit", conversationId=conversation_id, seq=seq, e2e=envelope))

    async def delete(self, conversation_id: str, seq: int) -> Changed:
        """Delete a message for everyone (yours; in groups, any, if you are the owner or an admin)."""
        return Changed.from_frame(await self.request("delete", conversationId=conversation_id, seq=seq))

    async def react(self, conversation_id: str, seq: int, emoji: str, *, remove: bool = False) -> Changed:
        """Add (or with ``remove`` take off) your ``emoji`` on a message: one of each emoji per user."""
        fields: dict[str, Any] = {"conversationId": conversation_id, "seq": seq, "emoji": emoji}
        if remove:
            fields["remove"] = True
        return Changed.from_frame(await self.request("react", **fields))

    # -- push devices ---------------------------------------------------------------------------------

    async def register_device(self, platform: Literal["apns", "fcm"], token: str) -> DeviceRegistration:
        """Push notifications to this device while the user has no open connection."""
        return DeviceRegistration.from_frame(await self.request("registerDevice", platform=platform, token=token))

    async def unregister_device(self, token: str) -> DeviceRegistration:
        return DeviceRegistration.from_frame(await self.request("unregisterDevice", token=token))

    # -- attachments ----------------------------------------------------------------------------------

    async def request_upload(self, conversation_id: str, content_type: str, size: int) -> Upload:
        """A presigned POST for one file of this type and size (see :meth:`upload_file`)."""
        return Upload.from_frame(await self.request("requestUpload", conversationId=conversation_id,
                                                    contentType=content_type, size=size))

    async def upload_file(self, conversation_id: str, data: bytes, content_type: str, *,
                          width: int | None = None, height: int | None = None,
                          timeout: float = UPLOAD_TIMEOUT_SECONDS, preview: str | None = None) -> Attachment:
        """Upload a file straight to storage (never over the socket) and return the attachment to
        :meth:`send`. Raises ``ServerError`` (``unsupported_media``, ``file_too_large``, ...) or
        ``UploadFailed``. In an end-to-end encrypted conversation a JPEG loses its EXIF and XMP segments (the
        image data untouched), the file is encrypted, and ``preview``
        (a small ``data:`` URI; by default a 32-pixel JPEG of an image, made with Pillow when installed) is
        sealed with the message."""
        if self.e2e is not None and await self.is_e2e(conversation_id):
            # Encrypted before it leaves: storage gets an opaque blob, the key and the preview go in the payload.
            # A JPEG's EXIF and XMP go first: the server cannot strip what it cannot read.
            data = without_metadata(data, content_type)
            blob, file_key = e2e.encrypt_file(data)
            ticket = await self.request_upload(conversation_id, "application/octet-stream", len(blob))
            await asyncio.to_thread(post_file, ticket.url, ticket.fields, blob, "application/octet-stream", timeout)
            return Attachment(key=ticket.key, content_type=content_type, size=len(data), width=width, height=height,
                              preview=preview or image_preview(data, content_type), file_key=e2e.b64(file_key))
        ticket = await self.request_upload(conversation_id, content_type, len(data))
        await asyncio.to_thread(post_file, ticket.url, ticket.fields, data, content_type, timeout)
        return Attachment(key=ticket.key, content_type=content_type, size=len(data), width=width, height=height)

    async def download_attachment(self, conversation_id: str, attachment: Attachment, *,
                                  timeout: float = UPLOAD_TIMEOUT_SECONDS) -> bytes:
        """The file of an attachment; an encrypted one decrypted (:class:`parley_client.e2e.TamperedMessageError`
        if storage holds something else)."""
        link = (await self.attachment_urls(conversation_id, [attachment.key])).of(attachment.key)
        if link is None or link.url is None:
            raise ServerError("attachment_not_found", f"no download URL for {attachment.key}")
        data = await asyncio.to_thread(get_file, link.url, timeout)
        if attachment.file_key is None:
            return data
        plain = e2e.decrypt_file(data, e2e.unb64(attachment.file_key))
        if len(plain) != attachment.size:
            raise e2e.TamperedMessageError("the file is not the size its message says",
                                           conversation_id=conversation_id)
        return plain

    async def attachment_urls(self, conversation_id: str, keys: Iterable[str]) -> AttachmentUrls:
        """Short-lived download URLs (members only). A photo has no ``url`` until its copy without location
        data exists."""
        return AttachmentUrls.from_frame(await self.request("attachmentUrls", conversationId=conversation_id,
                                                            keys=list(keys)))

    # -- end-to-end encryption (docs/e2e.md) ----------------------------------------------------------

    def _session(self) -> E2ESession:
        if self.e2e is None:
            raise RuntimeError("this client has no E2ESession (ParleyClient(..., e2e=E2ESession(...)))")
        return self.e2e

    async def is_e2e(self, conversation_id: str) -> bool:
        """Whether the conversation is end-to-end encrypted (always False without an ``E2ESession``). Known from
        ``open_direct``, ``create_group`` and ``list_conversations``; else asked once (``getKeys``), so that no
        text of an encrypted conversation is ever sent in clear, not even to be refused."""
        if self.e2e is None or conversation_id in self._plain_conversations:
            return False
        if conversation_id in self._e2e_conversations:
            return True
        try:
            await self._e2e_recipients(conversation_id)
        except ServerError as error:
            if error.code != "e2e_not_enabled":
                raise
            self._plain_conversations.add(conversation_id)
            return False
        self._e2e_conversations.add(conversation_id)
        return True

    async def publish_keys(self) -> dict[str, Any]:
        """Publish this device's identity key and current prekey (done at connect; again after a rotation)."""
        fields = self._session().device.publish_fields()
        answer = await self.request("publishKeys", **fields)
        self._published_prekey = int(fields["prekey"]["id"])
        return answer

    async def rotate_prekey(self) -> dict[str, Any]:
        """A new prekey now (rather than after 7 days), published; the old one still opens for 30 days."""
        self._session().device.rotate_prekey()
        return await self.publish_keys()

    async def remove_device(self, device_id: str) -> bool:
        """Remove one of your devices from the key directory (a lost phone): other members stop writing to it
        and refuse what it sends from now on. True if it was there."""
        return bool((await self.request("removeDevice", deviceId=device_id)).get("removed"))

    async def get_keys(self, user_ids: Iterable[str]) -> list[e2e.DeviceKey]:
        """The users' current devices, fetched now; a :class:`KeyChange` is yielded for each user whose devices
        differ from what this device saw before."""
        frame = await self.request("getKeys", userIds=list(dict.fromkeys(user_ids)))
        users = frame.get("users", [])
        self._notify(self._session().learn(users))
        return [d for u in users for d in self._session().devices(str(u["userId"]))]

    async def safety_number(self, other_user_id: str, *, refresh: bool = True) -> str:
        """Your and ``other_user_id``'s safety number (12 groups of 5 digits): equal on both sides when
        neither of you sees other keys than the other has. ``refresh`` fetches both users' keys first."""
        if refresh:
            await self.get_keys([self._session().user_id, other_user_id])
        return self._session().safety_number(other_user_id)

    async def safety_qr_payload(self, other_user_id: str, *, refresh: bool = True) -> str:
        """The safety number as a QR code's text (``parley-sn:1:...``)."""
        if refresh:
            await self.get_keys([self._session().user_id, other_user_id])
        return self._session().safety_qr_payload(other_user_id)

    async def decrypt(self, entry: Entry) -> Entry | e2e.E2EError:
        """A message or an edit of an end-to-end encrypted conversation with its text (and files) from the
        envelope, or the typed error saying why it cannot be accepted. Anything else is returned as is.
        Iterating the client does this already; use it on ``history`` pages."""
        session = self.e2e
        if isinstance(entry, Message) and isinstance(entry.body.get("e2e"), dict) and not entry.deleted:
            kind, sender, target, cmid = "msg", entry.sender_id, None, entry.client_msg_id
            edited = entry.edited_at is not None
        elif isinstance(entry, Change) and entry.kind == "edited" and "e2e" in entry.fields:
            kind, sender, target, cmid, edited = "edit", entry.by, entry.target, None, False
        else:
            return entry
        if session is None:
            return e2e.NoKeyError("this client has no E2ESession", conversation_id=entry.conversation_id,
                                  seq=entry.seq, sender_id=sender)
        envelope = entry.body["e2e"] if isinstance(entry, Message) else entry.fields["e2e"]
        try:
            try:
                payload = session.open(entry.conversation_id, entry.seq, sender, envelope, kind=kind,
                                       client_msg_id=cmid, target=target, edited=edited)
            except e2e.UnknownDeviceError:
                await self.get_keys([sender])  # a device published since the last fetch; else it was removed
                payload = session.open(entry.conversation_id, entry.seq, sender, envelope, kind=kind,
                                       client_msg_id=cmid, target=target, edited=edited)
        except e2e.E2EError as error:
            return error
        text = payload.get("text") or ""
        if isinstance(entry, Change):
            return replace(entry, text=text)
        files = tuple(Attachment(key=f["key"], content_type=f["type"], size=f["size"], width=f.get("w"),
                                 height=f.get("h"), preview=f.get("preview"), file_key=f["fk"])
                      for f in payload.get("files", []))
        return replace(entry, text=text, attachments=files)

    async def _sealed_body(self, conversation_id: str, cmid: str, text: str | None,
                           attachments: Sequence[Attachment]) -> dict[str, Any]:
        session = self._session()
        files = []
        for a in attachments:
            if a.file_key is None:
                raise ValueError("an end-to-end encrypted conversation takes files from its own upload_file")
            file: dict[str, Any] = {"key": a.key, "fk": a.file_key, "type": a.content_type, "size": a.size}
            file.update({k: v for k, v in (("w", a.width), ("h", a.height), ("preview", a.preview)) if v is not None})
            files.append(file)
        members = await self._e2e_recipients(conversation_id)
        body: dict[str, Any] = {"e2e": session.seal(conversation_id, session.message_payload(cmid, text, files),
                                                    members)}
        if attachments:
            body["attachments"] = [a.to_request() for a in attachments]
        return body

    async def _e2e_recipients(self, conversation_id: str) -> tuple[str, ...]:
        """The conversation's members, their current devices learnt (one getKeys, reused for a minute)."""
        cached = self._e2e_members.get(conversation_id)
        if cached is not None and time.monotonic() - cached[0] < E2E_KEYS_MAX_AGE_SECONDS:
            return cached[1]
        frame = await self.request("getKeys", conversationId=conversation_id)
        users = frame.get("users", [])
        self._notify(self._session().learn(users))
        members = tuple(str(u["userId"]) for u in users)
        self._e2e_members[conversation_id] = (time.monotonic(), members)
        return members

    async def _on_keys_changed(self, user_id: str) -> None:
        self._e2e_members.clear()
        try:
            await self.get_keys([user_id])
        except (ServerError, ConnectionLost) as exc:
            log.warning("could not fetch the changed keys: %s", exc)

    def _notify(self, notices: list[KeyChange]) -> None:
        for notice in notices:
            self._incoming.put_nowait(notice)

    async def _call(self, frame: dict[str, Any], key: str, attempt_timeout: float, *, retry: bool) -> dict[str, Any]:
        for attempt in itertools.count():
            ws = await self._connection()
            try:
                reply = await self._exchange(ws, frame, attempt_timeout, key)
            except (ConnectionLost, ConnectionClosed, TimeoutError):
                if not retry:
                    raise ConnectionLost(f"{frame['action']}: the connection closed before the answer") from None
                self.stats.resends += 1
                await asyncio.sleep(self._backoff.delay(attempt) / 4)
                continue
            if reply.get("type") != "error":
                return reply
            code, message = str(reply.get("code")), str(reply.get("message"))
            if retry and code in RETRYABLE_CODES:
                self.stats.resends += 1
                wait_ms = reply.get("retryAfterMs")
                await asyncio.sleep(wait_ms / 1000 if isinstance(wait_ms, int | float) and wait_ms > 0
                                    else self._backoff.delay(attempt))
                continue
            raise ServerError(code, message, reply.get("ref"))
        raise AssertionError("unreachable")

    async def _exchange(self, ws: ClientConnection, frame: dict[str, Any], timeout: float,
                        key: str | None = None) -> dict[str, Any]:
        key = key or f"r{next(self._ids)}-{secrets.token_hex(3)}"
        if "requestId" not in frame and frame.get("action") != "send":
            frame = {**frame, "requestId": key}
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[key] = waiter
        try:
            await ws.send(json.dumps(frame, separators=(",", ":")))
            self._keepalive.active()
            async with asyncio.timeout(timeout):
                return await waiter
        finally:
            if self._waiting.get(key) is waiter:
                del self._waiting[key]

    async def _connection(self) -> ClientConnection:
        while True:
            if self._fatal is not None:
                raise self._fatal
            if self._closing:
                raise ClientClosed("the client is closed")
            ws = self._ws
            if ws is not None and ws.state is State.OPEN:
                return ws
            if self._supervisor is None:
                raise ClientClosed("connect() first")
            if self._open.is_set():
                await asyncio.sleep(0.02)  # closing: the supervisor is about to notice
            else:
                await self._open.wait()

    def _fail_waiting(self, error: BaseException) -> None:
        waiters: list[asyncio.Future[Any]] = [*self._waiting.values(), *self._pings]
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)
        self._pings.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
