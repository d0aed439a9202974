"""Part 5: bytes on the wire for one delivered 20-character text message and its ack.

The frames are the real ones: the request as ``parley_client`` writes it, the ack the ``send`` handler
answers with, and the message frame it posts to the recipient's connection, from one send under moto.
Each is framed by ``websockets`` as RFC 6455 frames without extensions (API Gateway negotiates no
permessage-deflate): client to server masked (4 more bytes), server to client unmasked.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from websockets.frames import Frame, Opcode

from benchmarks.lambdas import invoke, route_body
from benchmarks.metering import Meter
from benchmarks.sandbox import moto_sandbox
from tests.support.events import message_event

TEXT = "See you at 7 then :)"  # 20 characters


@dataclass
class WireFrame:
    name: str
    direction: str  # "client -> server" or "server -> client"
    payload: bytes
    wire_bytes: int

    @property
    def header_bytes(self) -> int:
        return self.wire_bytes - len(self.payload)

    def fields(self) -> list[tuple[str, int]]:
        """Bytes each top-level field takes in the JSON payload: ``"key":value`` plus its comma."""
        data = json.loads(self.payload)
        return [(key, len(json.dumps({key: value}, separators=(",", ":")).encode()) - 2 + 1)
                for key, value in data.items()]


def wire(name: str, payload: bytes, *, from_client: bool) -> WireFrame:
    framed = Frame(Opcode.TEXT, payload).serialize(mask=from_client, extensions=[])
    return WireFrame(name, "client -> server" if from_client else "server -> client", payload, len(framed))


@dataclass
class TrafficResult:
    text_bytes: int
    request: WireFrame
    ack: WireFrame
    message: WireFrame

    @property
    def delivered_overhead(self) -> int:
        """Bytes beyond the text of what the two users receive: the recipient's message and the sender's ack."""
        return self.message.wire_bytes + self.ack.wire_bytes - self.text_bytes

    @property
    def total_bytes(self) -> int:
        return self.request.wire_bytes + self.ack.wire_bytes + self.message.wire_bytes


def run() -> TrafficResult:
    meter = Meter()
    with moto_sandbox(meter) as sb:
        alice, bob = str(uuid.uuid4()), str(uuid.uuid4())  # user ids as a Cognito sub
        sb.connect(alice, "A-conn")
        sb.connect(bob, "B-conn")
        cid = sb.open_direct(alice, "A-conn", bob)
        request: dict[str, Any] = {"action": "send", "conversationId": cid, "clientMsgId": secrets.token_hex(8),
                                   "body": {"text": TEXT}}
        raw = json.dumps(request, separators=(",", ":"))  # as parley_client writes it
        sent = invoke(meter, "send", message_event(alice, "A-conn", raw))
        ack = route_body(sent)
        if ack.get("type") != "ack":
            raise RuntimeError(f"not acked: {ack}")
        posts = [c for c in sent.calls if c.operation == "PostToConnection"]
        if len(posts) != 1:
            raise RuntimeError(f"expected one delivery, saw {len(posts)}")
        data = posts[0].params["Data"]
        return TrafficResult(
            text_bytes=len(TEXT.encode()),
            request=wire("send request", raw.encode(), from_client=True),
            ack=wire("ack", str(sent.response["body"]).encode(), from_client=False),
            message=wire("message", data if isinstance(data, bytes) else str(data).encode(), from_client=False))
