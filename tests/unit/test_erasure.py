"""Erasure's walk of a conversation (parley.erasure) against an in-memory stream: what happens to each kind of
entry of the erased user, in each deploy-time mode, and that a walk done twice changes nothing more."""

from __future__ import annotations

from typing import Any, cast

import pytest

from parley.erasure import ErasureWork
from parley.groups import GroupService
from parley.models import Change, ChangeKind, Connection, Job, JobKind, Message, MessageBody, Report
from parley.ports import UserDataStore
from tests.fakes import (
    FakeBlockStore,
    FakeConnectionStore,
    FakeConversationStore,
    FakeDeviceStore,
    FakeGateway,
    FakeProfileStore,
)

CID = "d_walked"


class FakeUserData(UserDataStore):
    """One conversation's stream in memory, with the user's membership."""

    def __init__(self, entries: list[Message], user: str) -> None:
        self.entries = {e.seq: e for e in entries}
        self.items: set[tuple[str, str]] = {(f"USER#{user}", f"MEMBER#{CID}")}
        self.writes = 0

    def next_conversation(self, user_id: str, prefix: str, after: str | None) -> str | None:
        return CID if (f"USER#{user_id}", f"{prefix}{CID}") in self.items and after != CID else None

    def stream_page(self, conversation_id: str, user_id: str, cursor: int, limit: int, *,
                    with_positions: bool) -> tuple[list[Message], int | None]:
        seqs = sorted(s for s in self.entries if s > cursor)
        page, more = seqs[:limit], len(seqs) > limit
        mine = [self.entries[s] for s in page if self.entries[s].sender_id == user_id
                or (with_positions and user_id in self.entries[s].recent_senders)]
        return mine, page[-1] if more else None

    def _set(self, seq: int, **update: Any) -> None:
        self.writes += 1
        self.entries[seq] = self.entries[seq].model_copy(update=update)

    def erase_message(self, message: Message, user_id: str, deleted_at: int, *, placeholder: bool) -> bool:
        positions = {u: p for u, p in message.recent_senders.items() if not placeholder or u != user_id}
        self._set(message.seq, body=None, reactions={}, mentions=(), reply_to=None, edited_at=None,
                  deleted_at=message.deleted_at or deleted_at, recent_senders=positions,
                  **({"sender_id": "", "client_msg_id": ""} if placeholder else {}))
        return True

    def scrub_change(self, entry: Message, user_id: str, *, placeholder: bool) -> None:
        assert entry.change is not None
        gone: dict[str, Any] = {"sender_id": "", "recent_senders": {
            u: p for u, p in entry.recent_senders.items() if u != user_id}} if placeholder else {}
        self._set(entry.seq, change=entry.change.model_copy(update={"text": None}), **gone)

    def forget_position(self, conversation_id: str, seq: int, user_id: str) -> None:
        entry = self.entries[seq]
        self._set(seq, recent_senders={u: p for u, p in entry.recent_senders.items() if u != user_id})

    def remove_reaction(self, conversation_id: str, seq: int, emoji: str, user_id: str) -> None:
        entry = self.entries[seq]
        users = tuple(u for u in entry.reactions.get(emoji, ()) if u != user_id)
        self._set(seq, reactions={**entry.reactions, emoji: users} if users else
                  {e: u for e, u in entry.reactions.items() if e != emoji})

    def reports_by(self, conversation_id: str, user_id: str) -> list[Report]:
        return []

    def delete(self, keys: list[tuple[str, str]]) -> None:
        self.items -= set(keys)

    def ban_keys(self, user_id: str) -> list[tuple[str, str]]:
        return [k for k in self.items if k[0] == f"USER#{user_id}" and (k[1] == "~BAN" or k[1].startswith("BANLOG#"))]


def stream() -> list[Message]:
    def entry(seq: int, sender: str, **fields: Any) -> Message:
        return Message(conversation_id=CID, seq=seq, sender_id=sender, sent_at=seq, client_msg_id=f"c{seq}",
                       ordinal=fields.pop("ordinal", seq), **fields)

    return [
        entry(1, "bob", body=MessageBody(text="hi"), reactions={"👍": ("alice", "carol")},
              recent_senders={"bob": (1, 1)}),
        entry(2, "alice", body=MessageBody(text="secret"), mentions=("bob",), recent_senders={"bob": (1, 1),
                                                                                              "alice": (2, 2)}),
        entry(3, "alice", change=Change(kind=ChangeKind.EDITED, target=2, text="secret, edited"), ordinal=2,
              recent_senders={"bob": (1, 1), "alice": (2, 2)}),
        entry(4, "alice", change=Change(kind=ChangeKind.REACTED, target=1, emoji="👍", count=2), ordinal=2,
              recent_senders={"bob": (1, 1), "alice": (2, 2)}),
        entry(5, "alice", deleted_at=5, recent_senders={"bob": (1, 1), "alice": (5, 3)}, ordinal=3),
        entry(6, "bob", body=MessageBody(text="bye"), recent_senders={"bob": (6, 4), "alice": (5, 3)}, ordinal=4),
    ]


def erase(mode: str, data: FakeUserData) -> Job:
    profiles = FakeProfileStore()
    work = ErasureWork(data, FakeConversationStore(), cast(GroupService, None), FakeBlockStore(),
                       FakeDeviceStore(profiles), FakeConnectionStore(), batch_items=2, rate_limit_kinds=[],
                       clock=lambda: 99)
    job = Job(kind=JobKind.ERASURE, user_id="alice", job_id="er_1", started_at=0, updated_at=0,
              phase="conversations", mode=mode)
    while job.phase == "conversations":
        job = work.run(job)
    return job


@pytest.mark.parametrize("mode", ["tombstone", "delete"])
def test_every_entry_of_hers_loses_its_content_and_every_seq_and_ordinal_stays(mode: str) -> None:
    # given alice's message, her edit and reaction entries, an earlier tombstone of hers, among bob's messages
    data = FakeUserData(stream(), "alice")
    # when her conversation is walked, two entries per batch
    job = erase(mode, data)
    entries = data.entries
    # then her message is a tombstone, the edit's text and her reaction are gone, bob's messages are untouched
    assert entries[2].body is None and entries[2].mentions == () and entries[2].deleted_at == 99
    assert entries[3].change is not None and entries[3].change.text is None
    assert entries[1].reactions == {"👍": ("carol",)} and entries[1].body == MessageBody(text="hi")
    assert entries[6].body == MessageBody(text="bye")
    # and nothing moved: the same seqs with the same ordinals (unread counts and read positions hold)
    assert [(e.seq, e.count) for e in entries.values()] == [(e.seq, e.count) for e in stream()]
    # and her membership is gone, the job counted what it did
    assert data.items == set() and job.counts["messages"] >= 1
    if mode == "delete":  # nothing names her: no author, no recent-sender position
        assert all(e.sender_id != "alice" and "alice" not in e.recent_senders for e in entries.values())
    else:  # her tombstones keep her id as their sender, as a delete for everyone does
        assert entries[2].sender_id == "alice"


def test_a_second_walk_writes_nothing_in_tombstone_mode_but_the_reactions_check() -> None:
    data = FakeUserData(stream(), "alice")
    erase("tombstone", data)
    after, writes = dict(data.entries), data.writes
    data.items.add(("USER#alice", f"MEMBER#{CID}"))  # walked again (a batch done twice)
    erase("tombstone", data)
    assert data.entries == after
    assert data.writes - writes <= 2  # the edit entry's text removal and the reaction removal are re-applied


def test_the_connections_phase_closes_every_socket_of_hers_expired_and_gone_ones_included() -> None:
    # given alice's live socket, one whose entry has expired (TTL deletion is lazy) and one already gone, and bob's
    connections, gateway = FakeConnectionStore(), FakeGateway()
    for cid, user, expires_at in (("live", "alice", 10_000), ("expired", "alice", 1), ("gone", "alice", 10_000),
                                  ("bobs", "bob", 10_000)):
        connections.claim(Connection(connection_id=cid, user_id=user, connected_at=0), expires_at, 10, 0)
    gateway.stale.add("gone")
    data = FakeUserData([], "alice")
    data.items.add(("USER#alice", "~CONNS"))
    work = ErasureWork(data, FakeConversationStore(), cast(GroupService, None), FakeBlockStore(),
                       FakeDeviceStore(FakeProfileStore()), connections, batch_items=2, rate_limit_kinds=[],
                       gateway=gateway, clock=lambda: 5_000_000)
    job = Job(kind=JobKind.ERASURE, user_id="alice", job_id="er_1", started_at=0, updated_at=0,
              phase="connections", mode="tombstone")

    # when the connections phase runs
    after = work.run(job)

    # then every socket of hers was closed (the gone one is no error), bob's was not, and her item is deleted
    assert sorted(gateway.closed) == ["expired", "live"]
    assert ("USER#alice", "~CONNS") not in data.items
    assert after.phase == "devices"
