"""Erasing a user under moto: the job runs through the jobs queue in batches, leaves nothing of the user in any
item kind, and leaves the other members' conversations consistent (no gap in the seqs, the same unread counts,
the group's ownership passed on)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from parley import wiring
from parley.models import JobKind, JobStatus
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items
from tests.integration.erasure_world import World, build, configure_jobs, run_jobs, traces_of


@pytest.fixture
def world(aws_env: Any, bucket: Any, configure: Any, connections_api: FakeConnectionsApi) -> World:
    configure_jobs(configure, PARLEY_JOB_BATCH_ITEMS="10")
    return build(connections_api)


def unread(chat: Chat, cid: str) -> int:
    counts = {c["conversationId"]: c["unread"] for c in
              chat.call("unread", {"action": "unreadCounts"})["conversations"]}
    return int(counts.get(cid, 0))


def seqs(chat: Chat, cid: str) -> list[int]:
    return [m.get("s", m.get("seq")) for m in chat.history(cid, after=0, limit=100)["messages"]]


@pytest.mark.parametrize("mode", ["tombstone", "delete"])
def test_an_erased_user_leaves_nothing_and_the_others_conversations_stay_whole(
        world: World, aws_env: Any, bucket: Any, configure: Any, connections_api: FakeConnectionsApi,
        mode: str) -> None:
    # given alice with something of every kind, and bob's view of their conversations
    configure(PARLEY_ERASURE_MESSAGES=mode)
    bob, carol = Chat("bob", "b1"), Chat("carol", "c1")
    before = {cid: seqs(bob, cid) for cid in (world.direct, world.group)}
    unread_before = unread(bob, world.direct), unread(carol, world.group)
    found = traces_of(aws_env, bucket, world, authorless=mode == "delete")
    traces = {t.split(" ")[0] for t in found}
    assert traces >= {"user", "direct", "block", "push", "report", "message", "edit", "reaction", "upload", "object"}
    assert {"user item ~BAN"} < {t for t in found if "BAN" in t}  # her ban, and her ban history

    # when the host app's backend erases her
    job, new = wiring.jobs().start(JobKind.ERASURE, "alice", mode=mode)
    assert new and job.status is JobStatus.RUNNING
    assert run_jobs() > 5  # several bounded batches

    # then the job is done and nothing of hers is left under any key
    done = wiring.jobs().status(JobKind.ERASURE, "alice")
    assert done is not None and done.status is JobStatus.DONE and done.counts["messages"] == 4
    assert traces_of(aws_env, bucket, world, authorless=mode == "delete") == []
    assert "a1" in connections_api.closed  # her socket was closed
    # and bob's and carol's conversations have every seq they had, her messages now deleted ones
    for cid, seen in before.items():
        assert seqs(bob, cid)[:len(seen)] == seen
    history = bob.history(world.direct, after=0, limit=100)["messages"]
    assert [m.get("b", {}).get("text") for m in history if m["f"] != "bob" and "k" not in m] == [None, None]
    assert (unread(bob, world.direct), unread(carol, world.group)) == unread_before
    # and the group she owned is bob's now, without her
    group = bob.call("conversations", {"action": "listConversations"})["conversations"]
    [team] = [c for c in group if c["conversationId"] == world.group]
    assert "alice" not in team["members"] and team["roles"]["bob"] == "owner"


def test_the_user_erased_event_is_published_once_the_job_is_done(aws_env: Any, bucket: Any, configure: Any,
                                                                 connections_api: FakeConnectionsApi) -> None:
    capture = configure_jobs(configure)
    build(connections_api)
    wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    run_jobs()
    sqs = boto3.client("sqs")
    events = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=capture, MaxNumberOfMessages=10)
              .get("Messages", [])]
    [event] = [e for e in events if e["type"] == "user.erased"]
    assert event["type"] == "user.erased" and event["version"] == 1 and event["userId"] == "alice"
    assert event["messages"] == "tombstone"


def test_starting_an_erasure_twice_returns_the_running_job(world: World) -> None:
    first, new = wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    again, new_again = wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    assert new and not new_again and again.job_id == first.job_id
    run_jobs()  # the second ticket is refused at its first checkpoint: the job runs once
    done = wiring.jobs().status(JobKind.ERASURE, "alice")
    assert done is not None and done.status is JobStatus.DONE and done.counts["messages"] == 4


def test_an_erasure_run_again_changes_nothing_more(world: World, aws_env: Any, bucket: Any) -> None:
    wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    run_jobs()
    items = [i for i in all_items(aws_env) if not i["pk"]["S"].startswith("JOB#")]
    wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    run_jobs()
    assert [i for i in all_items(aws_env) if not i["pk"]["S"].startswith("JOB#")] == items
