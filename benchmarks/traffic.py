"""Part 5: bytes on the wire for one delivered 20-character text message and its ack, in both frame formats.

The frames are the real ones, from one send per format under moto: the request as ``parley_client`` writes
it, the ack the ``send`` handler answers with, and the message frame it posts to the recipient's connection.
Sender and recipient are connected in the format measured: ``full`` (every field: the protocol before
compact frames, unchanged) and ``compact`` (the default). User ids are UUIDs (a Cognito ``sub``), the
clientMsgId 16 hex characters (as ``parley_client`` makes them), and the conversation already holds a
message at seq 99,998, so the one measured is seq 99,999: the largest of the goal's case (seqs up to five
digits). Each frame is framed by ``websockets`` as an RFC 6455 frame without extensions (API Gateway
negotiates no permessage-deflate): client to server masked (4 more bytes), server to client unmasked.

It also measures the stored message item, which no longer carries a random message id.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from websockets.frames import Frame, Opcode

from benchmarks.capacity import item_size
from benchmarks.lambdas import invoke, is_ack, route_body
from benchmarks.metering import Meter
from benchmarks.sandbox import TABLE_NAME, Sandbox, moto_sandbox
from parley import table
from tests.support.events import connect_event, message_event

TEXT = "See you at 7 then :)"  # 20 characters
PRECEDING_SEQ = 99_998  # the conversation's newest message before the measured one
OLD_MESSAGE_ID = "q3Z8" * 4  # the 16-character random id (``i``) message items carried before ids were derived


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
        return [(key, len(json.dumps({key: value}, separators=(",", ":"), ensure_ascii=False).encode()) - 2 + 1)
                for key, value in data.items()]


def wire(name: str, payload: bytes, *, from_client: bool) -> WireFrame:
    framed = Frame(Opcode.TEXT, payload).serialize(mask=from_client, extensions=[])
    return WireFrame(name, "client -> server" if from_client else "server -> client", payload, len(framed))


@dataclass
class FormatTraffic:
    frame_format: str
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


@dataclass
class TrafficResult:
    full: FormatTraffic  # before: every field
    compact: FormatTraffic  # after: the default
    seq: int  # of the measured message
    item_bytes: int  # the stored message item, as written now
    item_bytes_with_random_id: int  # the same item with the random id older versions stored

    @property
    def text_bytes(self) -> int:
        return self.compact.text_bytes


def _measure(sb: Sandbox, meter: Meter, frame_format: str) -> tuple[FormatTraffic, dict[str, Any]]:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())  # user ids as a Cognito sub
    a_conn, b_conn = f"A-{frame_format}", f"B-{frame_format}"
    for user, conn in ((alice, a_conn), (bob, b_conn)):
        assert sb.call("connect", connect_event(user, conn, frame_format))["statusCode"] == 200
    cid = sb.open_direct(alice, a_conn, bob)
    sb.ddb.put_item(TableName=TABLE_NAME, Item={
        table.PK: {"S": table.conversation_pk(cid)}, table.SK: {"S": table.message_sk(PRECEDING_SEQ)},
        table.ATTR_SENDER: {"S": bob}, table.ATTR_SENT_AT: {"N": str(int(time.time() * 1000))},
        table.ATTR_CLIENT_MSG_ID: {"S": secrets.token_hex(8)}, table.ATTR_BODY: {"M": {"text": {"S": "Dinner?"}}}})
    # as parley_client writes it: it sends the newest seq it has as lastSeq
    request: dict[str, Any] = {"action": "send", "conversationId": cid, "clientMsgId": secrets.token_hex(8),
                               "lastSeq": PRECEDING_SEQ, "body": {"text": TEXT}}
    raw = json.dumps(request, separators=(",", ":"))
    sent = invoke(meter, "send", message_event(alice, a_conn, raw, frame_format=frame_format))
    if not is_ack(route_body(sent)):
        raise RuntimeError(f"not acked: {route_body(sent)}")
    posts = [c for c in sent.calls if c.operation == "PostToConnection"]
    if len(posts) != 1:
        raise RuntimeError(f"expected one delivery, saw {len(posts)}")
    data = posts[0].params["Data"]
    stored = sb.ddb.get_item(TableName=TABLE_NAME, Key={
        table.PK: {"S": table.conversation_pk(cid)}, table.SK: {"S": table.message_sk(PRECEDING_SEQ + 1)}})["Item"]
    return FormatTraffic(
        frame_format=frame_format, text_bytes=len(TEXT.encode()),
        request=wire("send request", raw.encode(), from_client=True),
        ack=wire("ack", str(sent.response["body"]).encode(), from_client=False),
        message=wire("message", data if isinstance(data, bytes) else str(data).encode(), from_client=False),
    ), stored


def run() -> TrafficResult:
    meter = Meter()
    with moto_sandbox(meter) as sb:
        full, _ = _measure(sb, meter, "full")
        compact, item = _measure(sb, meter, "compact")
    return TrafficResult(full=full, compact=compact, seq=PRECEDING_SEQ + 1, item_bytes=item_size(item),
                         item_bytes_with_random_id=item_size({**item, "i": {"S": OLD_MESSAGE_ID}}))
