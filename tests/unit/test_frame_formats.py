"""The two frame formats of ``ack`` and ``message`` (docs/protocol.md, "Frame formats"), derived message ids,
and the per-connection choice from the handshake to the fan-out."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from parley.auth import frame_format_from_request
from parley.connections import ConnectionService
from parley.edge import Caller, run_route
from parley.fanout import Fanout
from parley.models import (
    Attachment,
    Conversation,
    ConversationKind,
    FrameFormat,
    Message,
    MessageBody,
    message_id_of,
)
from parley.protocol import PongFrame, ack_frame, message_frame, message_frames
from parley.unread_events import UnreadEventPublisher
from parley_client.frames import Ack as ClientAck
from parley_client.frames import Message as ClientMessage
from parley_client.frames import frame_type
from tests.fakes import FakeConnectionStore, FakeGateway, FakePublisher
from tests.support.events import message_event

NOW_MS = 1_764_590_000_000
CID = "d_Xq3Z8rT0kLmN2pQa"  # a new conversation id: d_ and 16 characters


def message(seq: int = 42, text: str = "See you at 7 then :)", sender: str = "alice",
            client_msg_id: str = "8f14e45f9a3b2c1d", conversation_id: str = CID) -> Message:
    return Message(conversation_id=conversation_id, seq=seq, sender_id=sender, sent_at=NOW_MS,
                   client_msg_id=client_msg_id, body=MessageBody(text=text))


def as_json(frame: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(frame.to_json())
    return parsed


def wire_bytes(payload: str) -> int:
    """On the wire from server to client: an unmasked RFC 6455 text frame, as API Gateway sends it."""
    return len(Frame(Opcode.TEXT, payload.encode()).serialize(mask=False, extensions=[]))


# -- message ids -----------------------------------------------------------------------------------------


def test_a_message_id_is_the_conversation_and_the_seq() -> None:
    assert message(seq=42).message_id == f"{CID}.42" == message_id_of(CID, 42)


def test_a_message_id_splits_back_unambiguously_and_fits_an_apns_collapse_id() -> None:
    old_style = "g_" + "A" * 22  # ids made before were 22 characters after the prefix
    for cid in (CID, old_style):
        for seq in (1, 99_999, 10**12 - 1):  # the largest seq a message key holds
            mid = message_id_of(cid, seq)
            conversation, _, number = mid.rpartition(".")
            assert (conversation, int(number)) == (cid, seq)
            assert len(mid.encode()) <= 64


def test_the_unread_event_names_the_message_by_its_derived_id() -> None:
    # (the push notifier's ledger and APNs collapse id are this event's messageId)
    publisher = FakePublisher()
    conversation = Conversation(conversation_id=CID, kind=ConversationKind.DIRECT, members=("alice", "bob"),
                                created_by="alice", created_at=NOW_MS)
    UnreadEventPublisher(publisher, include_text=False).publish(message(seq=7), conversation, ["bob"])
    [(_, event)] = publisher.published
    assert event["messageId"] == f"{CID}.7"


# -- the encoders ----------------------------------------------------------------------------------------


def test_the_compact_ack_carries_only_what_the_sender_cannot_know() -> None:
    assert as_json(ack_frame(message(), FrameFormat.COMPACT)) == {
        "t": "ack", "r": "8f14e45f9a3b2c1d", "s": 42, "at": NOW_MS}
    assert as_json(ack_frame(message(), FrameFormat.COMPACT, ref="r1"))["ref"] == "r1"


def test_the_full_ack_is_unchanged() -> None:
    assert as_json(ack_frame(message(), FrameFormat.FULL, ref="r1")) == {
        "type": "ack", "clientMsgId": "8f14e45f9a3b2c1d", "conversationId": CID, "seq": 42,
        "messageId": f"{CID}.42", "sentAt": NOW_MS, "ref": "r1"}


def test_the_compact_message_has_no_message_id_and_no_client_msg_id() -> None:
    assert as_json(message_frame(message(), FrameFormat.COMPACT)) == {
        "t": "msg", "c": CID, "s": 42, "f": "alice", "at": NOW_MS, "b": {"text": "See you at 7 then :)"}}


def test_the_full_message_is_unchanged() -> None:
    assert as_json(message_frame(message(), FrameFormat.FULL)) == {
        "type": "message", "conversationId": CID, "seq": 42, "messageId": f"{CID}.42", "senderId": "alice",
        "sentAt": NOW_MS, "clientMsgId": "8f14e45f9a3b2c1d", "body": {"text": "See you at 7 then :)"}}


def test_in_history_a_compact_message_names_its_client_msg_id_to_its_sender_only() -> None:
    assert as_json(message_frame(message(sender="alice"), FrameFormat.COMPACT, reader="alice"))["r"] == \
        "8f14e45f9a3b2c1d"
    assert "r" not in as_json(message_frame(message(sender="alice"), FrameFormat.COMPACT, reader="bob"))


def test_attachments_travel_the_same_in_both_formats() -> None:
    body = MessageBody(attachments=(Attachment(key="u/k", content_type="image/png", size=3, preview="data:x"),))
    m = message().model_copy(update={"body": body})
    expected = {"attachments": [{"key": "u/k", "contentType": "image/png", "size": 3, "preview": "data:x"}]}
    assert as_json(message_frame(m, FrameFormat.COMPACT))["b"] == expected
    assert as_json(message_frame(m, FrameFormat.FULL))["body"] == expected


def test_message_and_ack_fit_the_budget_of_200_bytes_beyond_the_text() -> None:
    # given the budget's case: a 20-character text, a UUID sender, a 16-character clientMsgId, seq 99,999
    m = message(seq=99_999, sender=str(uuid.uuid4()), client_msg_id="8f14e45f9a3b2c1d")
    frames = message_frames(m)
    compact = wire_bytes(frames[FrameFormat.COMPACT].decode()) + wire_bytes(ack_frame(m, FrameFormat.COMPACT).to_json())
    full = wire_bytes(frames[FrameFormat.FULL].decode()) + wire_bytes(ack_frame(m, FrameFormat.FULL).to_json())
    assert compact - 20 <= 200 < full - 20
    # and with a conversation id made before ids were shortened (22 characters after the prefix)
    old = message(seq=99_999, sender=str(uuid.uuid4()), conversation_id="d_" + "x" * 22)
    old_bytes = wire_bytes(message_frame(old, FrameFormat.COMPACT).to_json()) + \
        wire_bytes(ack_frame(old, FrameFormat.COMPACT).to_json())
    assert old_bytes - 20 <= 200


# -- the client reads both formats into the same objects -----------------------------------------------

texts = st.text(min_size=1, max_size=40)
identifiers = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1,
                      max_size=24)


@given(cid=identifiers.map(lambda s: "g_" + s), seq=st.integers(1, 10**12 - 1), sender=texts, text=texts,
       cmid=identifiers)
def test_the_client_reads_a_compact_message_as_the_full_one_less_the_client_msg_id(
        cid: str, seq: int, sender: str, text: str, cmid: str) -> None:
    m = message(seq=seq, text=text, sender=sender, client_msg_id=cmid, conversation_id=cid)
    full = ClientMessage.from_frame(as_json(message_frame(m, FrameFormat.FULL)))
    compact = ClientMessage.from_frame(as_json(message_frame(m, FrameFormat.COMPACT)))
    assert compact == full.__class__(**{**full.__dict__, "client_msg_id": None})
    assert compact.message_id == full.message_id == f"{cid}.{seq}" and compact.body == full.body
    # ...and a history item of the reader's own message, the full one with its clientMsgId
    assert ClientMessage.from_frame(as_json(message_frame(m, FrameFormat.COMPACT, reader=sender))) == full


@given(cid=identifiers.map(lambda s: "d_" + s), seq=st.integers(1, 10**12 - 1), cmid=identifiers)
def test_the_client_reads_a_compact_ack_as_the_full_one(cid: str, seq: int, cmid: str) -> None:
    m = message(seq=seq, client_msg_id=cmid, conversation_id=cid)
    compact = as_json(ack_frame(m, FrameFormat.COMPACT))
    assert ClientAck.from_frame(compact, conversation_id=cid) == ClientAck.from_frame(
        as_json(ack_frame(m, FrameFormat.FULL)))
    assert frame_type(compact) == "ack" and frame_type(as_json(message_frame(m, FrameFormat.COMPACT))) == "message"


# -- the choice, from the handshake to the fan-out ----------------------------------------------------------


def test_the_handshake_chooses_compact_unless_it_asks_for_full() -> None:
    assert frame_format_from_request(None) is FrameFormat.COMPACT
    assert frame_format_from_request({"token": "t"}) is FrameFormat.COMPACT
    assert frame_format_from_request({"format": "full"}) is FrameFormat.FULL
    assert frame_format_from_request({"format": "compact"}) is FrameFormat.COMPACT
    assert frame_format_from_request({"format": "FULL"}) is None
    assert frame_format_from_request({"format": ""}) is None


def test_every_route_sees_the_connections_format_and_one_from_before_formats_is_full() -> None:
    seen: list[FrameFormat] = []

    def route(caller: Caller, raw: dict[str, Any]) -> PongFrame:
        seen.append(caller.frame_format)
        return PongFrame()

    for fmt in ("compact", "full", None):
        run_route(message_event("alice", "c1", {"action": "ping"}, frame_format=fmt), route)
    assert seen == [FrameFormat.COMPACT, FrameFormat.FULL, FrameFormat.FULL]


def test_a_connection_is_recorded_with_its_format() -> None:
    store = FakeConnectionStore()
    service = ConnectionService(store, ttl_seconds=7800, clock=lambda: NOW_MS)
    service.connect("alice", "a1")
    service.connect("alice", "a2", FrameFormat.FULL)
    assert {c.connection_id: c.frame_format for c in store.list_for_user("alice", NOW_MS)} == {
        "a1": FrameFormat.COMPACT, "a2": FrameFormat.FULL}


def test_a_fan_out_to_mixed_recipients_gives_each_connection_its_format() -> None:
    # given bob on a compact phone and a full tablet, carol full, and alice's other device compact
    store, gateway = FakeConnectionStore(), FakeGateway()
    service = ConnectionService(store, ttl_seconds=7800, clock=lambda: NOW_MS)
    for user, conn, fmt in (("alice", "a-phone", FrameFormat.COMPACT), ("alice", "a-laptop", FrameFormat.COMPACT),
                            ("bob", "b-phone", FrameFormat.COMPACT), ("bob", "b-tablet", FrameFormat.FULL),
                            ("carol", "c-phone", FrameFormat.FULL)):
        service.connect(user, conn, fmt)
    frames = message_frames(message())
    # when alice's message fans out
    result = Fanout(store, gateway).deliver(["alice", "bob", "carol"], frames, NOW_MS, exclude_connection="a-phone")
    # then each connection got the frame of its own format, once
    assert result.delivered == 4
    assert gateway.received_by("a-laptop") == gateway.received_by("b-phone") == [frames[FrameFormat.COMPACT]]
    assert gateway.received_by("b-tablet") == gateway.received_by("c-phone") == [frames[FrameFormat.FULL]]
    assert gateway.received_by("a-phone") == []


def test_a_frame_for_everyone_still_reaches_every_format() -> None:
    store, gateway = FakeConnectionStore(), FakeGateway()
    service = ConnectionService(store, ttl_seconds=7800, clock=lambda: NOW_MS)
    service.connect("bob", "b1", FrameFormat.FULL)
    service.connect("bob", "b2")
    Fanout(store, gateway).deliver(["bob"], b'{"type":"typing"}', NOW_MS)
    assert gateway.received_by("b1") == gateway.received_by("b2") == [b'{"type":"typing"}']
