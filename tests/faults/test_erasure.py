"""Erasure with a fault at each kind of AWS call it makes: a killed worker, a throttled or failing service, a lost
answer. SQS gives the ticket of a failed batch back (after its visibility timeout), and the job resumes from its
last checkpoint. After each case: nothing of the user is left, and nothing was done twice (every message erased
once, one ``memberLeft`` entry, the same seqs and unread counts for the others)."""

from __future__ import annotations

from typing import Any

import pytest

from parley import wiring
from parley.models import JobKind, JobStatus
from tests.integration.conftest import Chat, FakeConnectionsApi
from tests.integration.erasure_world import World, build, configure_jobs, tickets, traces_of
from tests.support.faults import Fault, FaultInjector, LambdaKilled, Rule, injected

CASES = [
    Rule("dynamodb", "UpdateItem", Fault.KILL, skip=2),  # mid-walk: a message erased, the checkpoint not stored
    Rule("dynamodb", "Query", Fault.THROTTLE, skip=6, times=8),  # a stream page refused, two invocations long
    Rule("dynamodb", "BatchWriteItem", Fault.SERVER_ERROR, skip=3, times=8),  # the deletes fail for a while
    Rule("dynamodb", "TransactWriteItems", Fault.KILL),  # an unblock (or the group leave) cut short
    Rule("dynamodb", "TransactWriteItems", Fault.LOST_RESPONSE, skip=2),  # the group leave done, its answer lost
    Rule("dynamodb", "PutItem", Fault.LOST_RESPONSE, skip=3),  # a checkpoint stored, its answer lost
    Rule("s3", "DeleteObjects", Fault.KILL),  # upload records deleted, the files not yet
    Rule("sns", "DeleteEndpoint", Fault.SERVER_ERROR, times=8),
    Rule("sns", "Publish", Fault.KILL),  # the user.erased event: published again by the rerun
    Rule("sqs", "SendMessage", Fault.KILL, skip=3),  # a checkpoint stored, the next ticket not handed on
]


def run_through(injector: FaultInjector, limit: int = 300) -> None:
    """The worker on every ticket; a failed batch's ticket comes back, as SQS returns it."""
    pending = tickets()
    for _ in range(limit):
        if not pending:
            return
        ticket = pending.pop(0)
        try:
            wiring.jobs().run(ticket)
        except (LambdaKilled, Exception):  # a failed invocation: SQS redelivers its ticket
            injector.revive()
            pending.append(ticket)
        pending += tickets()
    raise AssertionError("the job did not finish")


def member_left_entries(chat: Chat, cid: str) -> int:
    return sum(1 for m in chat.history(cid, after=0, limit=100)["messages"] if m.get("k") == "memberLeft")


@pytest.mark.parametrize("rule", CASES, ids=str)
def test_an_erasure_cut_short_anywhere_finishes_with_nothing_left_and_nothing_twice(
        rule: Rule, aws_env: Any, bucket: Any, configure: Any, connections_api: FakeConnectionsApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore retries exactly as in AWS (standard mode, Parley's attempts), without sleeping between
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
    # given alice with something of every kind, and what bob and carol see
    configure_jobs(configure, PARLEY_JOB_BATCH_ITEMS="10")
    world: World = build(connections_api)
    bob, carol = Chat("bob", "b1"), Chat("carol", "c1")
    seen = {cid: [m.get("s") for m in bob.history(cid, after=0, limit=100)["messages"]]
            for cid in (world.direct, world.group)}
    unread = carol.call("unread", {"action": "unreadCounts"})

    # when her erasure meets the fault
    wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    with injected(rule, services=("dynamodb", "sns", "sqs", "s3")) as injector:
        run_through(injector)
    assert rule.injected >= 1, "the fault was never met"

    # then the job finished, nothing of hers is left, and nothing happened twice
    done = wiring.jobs().status(JobKind.ERASURE, "alice")
    assert done is not None and done.status is JobStatus.DONE
    assert traces_of(aws_env, bucket, world) == []
    for cid, seqs in seen.items():
        after = [m.get("s") for m in bob.history(cid, after=0, limit=100)["messages"]]
        assert after[:len(seqs)] == seqs
    assert member_left_entries(bob, world.group) == 1
    assert len(bob.history(world.group, after=0, limit=100)["messages"]) == len(seen[world.group]) + 1
    assert carol.call("unread", {"action": "unreadCounts"}) == unread
