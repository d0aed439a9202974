"""Who is where in a cost scenario: users (UUIDs, as a Cognito ``sub`` would be), their connections,
devices and conversations, set up through the real handlers; and "other" users bulk-loaded around them."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from benchmarks.bill import Floor
from benchmarks.metering import moto_items
from benchmarks.progress import Progress
from benchmarks.sandbox import TABLE_NAME, Sandbox
from parley import table
from parley.stores.codec import to_item


@dataclass
class World:
    """Who is where, in one sandbox."""

    sender: str
    sender_connection: str
    conversation_id: str
    floor: Floor
    members: tuple[str, ...] = ()
    e2e: bool = False  # an end-to-end encrypted conversation: its messages are envelopes (``e2e_body``)


def _b64(length: int) -> str:
    return base64.b64encode(os.urandom(length)).decode()


def e2e_body(sender: str, members: tuple[str, ...], text: str, client_msg_id: str) -> dict[str, Any]:
    """The body of a message of ``text`` in an end-to-end encrypted conversation, at its real size (docs/e2e.md):
    the payload's JSON encrypted (plus the 16-byte tag), and one key entry per member with one device each (the
    sender's own included), device ids of 22 characters as a client's random ones are."""
    payload = json.dumps({"t": "msg", "mid": client_msg_id, "ts": int(time.time() * 1000), "text": text},
                         separators=(",", ":")).encode()
    devices = {member: secrets.token_urlsafe(16) for member in members}
    return {"e2e": {"v": 1, "sd": devices[sender], "e": _b64(32), "n": _b64(24), "c": _b64(len(payload) + 16),
                    "sig": _b64(64), "k": [{"u": m, "d": d, "p": 1, "n": _b64(24), "w": _b64(48)}
                                           for m, d in devices.items()]}}


def _user() -> str:
    return str(uuid.uuid4())


def build_direct(sb: Sandbox, *, e2e: bool = False) -> World:
    alice, bob = _user(), _user()
    mark = "E" if e2e else ""  # connection ids of their own: a world never posts to another's connections
    sb.connect(alice, f"{mark}A-conn-1")
    sb.connect(bob, f"{mark}B-conn-1")
    cid = sb.open_direct(alice, f"{mark}A-conn-1", bob, e2e=e2e)
    return World(alice, f"{mark}A-conn-1", cid, Floor(apigw_messages=3, pushes=0), members=(alice, bob), e2e=e2e)


def build_group(sb: Sandbox, members: int = 50, online: int = 10, progress: Progress | None = None, *,
                e2e: bool = False) -> World:
    users = [_user() for _ in range(members)]
    for i, user in enumerate(users):
        connection = f"{'E' if e2e else ''}G-conn-{i}"
        sb.connect(user, connection)
        if i >= online:  # an offline member: used the app before, registered a device, then left
            sb.register_apns(user, connection, f"{i:04d}" + ("cd" if e2e else "ab") * 30)  # tokens of its own too
            sb.disconnect(user, connection)
        if progress:
            progress.update()
    first = f"{'E' if e2e else ''}G-conn-0"
    cid = sb.create_group(users[0], first, users[1:], "Book club", e2e=e2e)
    return World(users[0], first, cid,
                 Floor(apigw_messages=2 + (online - 1), pushes=members - online), members=tuple(users), e2e=e2e)


def other_items(index: int, count: int, now_ms: int) -> list[dict[str, Any]]:
    """Items of one "other" user: a connection, a profile, and a direct conversation with the next user
    (its META, pair index, two memberships and one message)."""
    me, peer = f"other-{index:06d}", f"other-{(index + 1) % count:06d}"
    cid = f"d_other{index:06d}"
    return [to_item(i) for i in (
        {table.PK: table.user_pk(me), table.SK: table.CONNECTIONS_SK, table.TTL_ATTRIBUTE: now_ms // 1000 + 7800,
         table.ATTR_CONNECTIONS: {f"O-conn-{index}": {"at": now_ms, "x": now_ms // 1000 + 7800, "f": "compact"}}},
        {table.PK: table.user_pk(me), table.SK: table.PROFILE_SK, "since": now_ms},
        {table.PK: table.conversation_pk(cid), table.SK: table.META_SK, "cid": cid, "kind": "direct",
         "members": sorted([me, peer]), "by": me, "at": now_ms},
        {table.PK: table.direct_pair_pk(me, peer), table.SK: table.META_SK, "cid": cid},
        {table.PK: table.user_pk(me), table.SK: table.member_sk(cid), "at": now_ms},
        {table.PK: table.user_pk(peer), table.SK: table.member_sk(cid), "at": now_ms},
        {table.PK: table.conversation_pk(cid), table.SK: table.message_sk(1), table.ATTR_SENDER: me,
         table.ATTR_SENT_AT: now_ms, table.ATTR_CLIENT_MSG_ID: f"c{index}",
         table.ATTR_BODY: {"text": "hello there"}, table.ATTR_RECENT_SENDERS: {me: 1}},
    )]


def preload_others(sb: Sandbox, count: int, progress: Progress) -> int:
    """``count`` other users, conversations and connections, written with BatchWriteItem."""
    now_ms = int(time.time() * 1000)
    sb.meter.accounting = False
    written = 0
    batch: list[dict[str, Any]] = []
    try:
        for index in range(count):
            batch.extend({"PutRequest": {"Item": item}} for item in other_items(index, count, now_ms))
            while len(batch) >= 25:
                written += _write_batch(sb, batch[:25])
                del batch[:25]
            progress.update()
        if batch:
            written += _write_batch(sb, batch)
    finally:
        sb.meter.accounting = True
    return written


def _write_batch(sb: Sandbox, requests: list[dict[str, Any]]) -> int:
    pending: dict[str, Any] = {TABLE_NAME: requests}
    while pending:
        pending = sb.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(requests)


def representative_sizes(sb: Sandbox, direct: World, group: World) -> dict[str, int]:
    """Sizes of the items the send path reads and writes, straight from moto (not metered)."""
    from benchmarks import capacity

    lookup = moto_items()
    sizes: dict[str, int] = {}
    for name, world in (("direct", direct), ("group", group)):
        meta = lookup(TABLE_NAME, {"pk": {"S": table.conversation_pk(world.conversation_id)},
                                   "sk": {"S": table.META_SK}})
        sizes[f"{name} conversation ~META"] = capacity.item_size(meta)
        message = lookup(TABLE_NAME, {"pk": {"S": table.conversation_pk(world.conversation_id)},
                                      "sk": {"S": table.message_sk(1)}})
        sizes[f"{name} message MSG#"] = capacity.item_size(message)
        bucket = lookup(TABLE_NAME, {"pk": {"S": table.throttle_pk("send", world.sender, "bucket")},
                                     "sk": {"S": table.THROTTLE_SK}})
        sizes[f"{name} sender's rate-limit bucket"] = capacity.item_size(bucket)
    return sizes
