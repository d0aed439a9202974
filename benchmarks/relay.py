"""A bare ``websockets`` relay: the ceiling the local stack is compared with. No storage, no auth, no
Lambda: a frame ``{"to", "conversationId", "clientMsgId", "text"}`` is numbered per conversation, pushed to
the peer's socket as a message frame and acked to the sender -- what Parley does, minus everything else.
It runs on its own event loop in a thread (like the local stack), bound to 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

LOOPBACK = "127.0.0.1"


class Relay:
    def __init__(self) -> None:
        self._sockets: dict[str, ServerConnection] = {}
        self._seq: dict[str, int] = {}

    async def handle(self, ws: ServerConnection) -> None:
        user = parse_qs(urlsplit(ws.request.path if ws.request else "").query).get("user", [""])[0]
        self._sockets[user] = ws
        try:
            async for raw in ws:
                frame = json.loads(raw)
                cid = frame["conversationId"]
                seq = self._seq[cid] = self._seq.get(cid, 0) + 1
                message = {"type": "message", "conversationId": cid, "seq": seq, "senderId": user,
                           "clientMsgId": frame["clientMsgId"], "body": {"text": frame["text"]}}
                peer = self._sockets.get(frame["to"])
                if peer is not None:
                    await peer.send(json.dumps(message, separators=(",", ":")))
                await ws.send(json.dumps({"type": "ack", "clientMsgId": frame["clientMsgId"], "seq": seq},
                                         separators=(",", ":")))
        except ConnectionClosed:
            pass
        finally:
            if self._sockets.get(user) is ws:
                del self._sockets[user]


class RelayThread:
    """The relay on its own loop and thread; ``url`` once started."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bench-relay", daemon=True)
        self._server: Server | None = None
        self.url = ""

    def __enter__(self) -> Self:
        self._thread.start()
        relay = Relay()

        async def start() -> Server:
            return await serve(relay.handle, LOOPBACK, 0, compression=None)

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://{LOOPBACK}:{port}"
        return self

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class RelayClient:
    """One user's connection to the relay: ``send`` waits for the ack; messages go to ``on_message``."""

    def __init__(self, url: str, user: str, on_message: Callable[[dict[str, Any]], None]) -> None:
        self._url = f"{url}/?user={user}"
        self._user = user
        self._on_message = on_message
        self._ws: ClientConnection | None = None
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._ws = await connect(self._url, compression=None, proxy=None)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                frame = json.loads(raw)
                if frame["type"] == "ack":
                    waiter = self._acks.pop(frame["clientMsgId"], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(frame)
                else:
                    self._on_message({"receiver": self._user, "conversation_id": frame["conversationId"],
                                      "seq": frame["seq"], "sender": frame["senderId"],
                                      "client_msg_id": frame["clientMsgId"]})
        except ConnectionClosed:
            pass

    async def send(self, conversation_id: str, to: str, text: str, client_msg_id: str) -> dict[str, Any]:
        assert self._ws is not None
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[client_msg_id] = waiter
        await self._ws.send(json.dumps({"to": to, "conversationId": conversation_id, "clientMsgId": client_msg_id,
                                        "text": text}, separators=(",", ":")))
        return await waiter

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
