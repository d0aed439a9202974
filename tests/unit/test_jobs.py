"""Jobs (parley.jobs) against in-memory fakes: started once, run one batch per ticket from the checkpoint, handed
on until done; a ticket of another job, of a done job, or one that lost the checkpoint race does nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.jobs import JobService, ticket_of
from parley.models import Job, JobKind, JobStatus, JobTicket
from parley.ports import JobQueue, JobStore


class FakeJobStore(JobStore):
    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], Job] = {}
        self.refuse_next_save = False

    def get(self, kind: str, user_id: str) -> Job | None:
        return self.jobs.get((str(kind), user_id))

    def start(self, job: Job) -> Job:
        running = self.get(job.kind, job.user_id)
        if running is not None and running.status is JobStatus.RUNNING:
            return running
        self.jobs[(str(job.kind), job.user_id)] = job
        return job

    def save(self, job: Job, step: int) -> bool:
        stored = self.get(job.kind, job.user_id)
        if self.refuse_next_save or stored is None or stored.job_id != job.job_id or stored.step != step:
            self.refuse_next_save = False
            return False
        self.jobs[(str(job.kind), job.user_id)] = job
        return True


@dataclass
class FakeQueue(JobQueue):
    tickets: list[JobTicket] = field(default_factory=list)

    def enqueue(self, ticket: JobTicket) -> None:
        self.tickets.append(ticket)


@dataclass
class CountingWork:
    """Three batches of work, then done."""

    kind: JobKind = JobKind.ERASURE
    first_phase: str = "counting"
    runs: int = 0

    def run(self, job: Job) -> Job:
        self.runs += 1
        done = job.counts.get("n", 0) + 1
        return job.model_copy(update={"counts": {"n": done},
                                      "status": JobStatus.DONE if done == 3 else JobStatus.RUNNING})


def service() -> tuple[JobService, FakeJobStore, FakeQueue, CountingWork]:
    store, queue, work = FakeJobStore(), FakeQueue(), CountingWork()
    return JobService(store, queue, [work], clock=lambda: 1_000), store, queue, work


def drain(jobs: JobService, queue: FakeQueue) -> None:
    while queue.tickets:
        jobs.run(queue.tickets.pop(0))


def test_a_job_runs_batch_by_batch_until_done_then_stops_handing_on() -> None:
    jobs, _store, queue, work = service()
    job, new = jobs.start(JobKind.ERASURE, "alice", mode="tombstone")
    assert new and queue.tickets == [ticket_of(job)]
    drain(jobs, queue)
    done = jobs.status(JobKind.ERASURE, "alice")
    assert done is not None and done.status is JobStatus.DONE and done.step == 3 and done.finished_at == 1_000
    assert work.runs == 3 and queue.tickets == []


def test_starting_again_answers_the_running_job_and_its_second_ticket_does_no_extra_work() -> None:
    jobs, _, queue, work = service()
    first, _ = jobs.start(JobKind.ERASURE, "alice")
    again, new = jobs.start(JobKind.ERASURE, "alice")
    assert not new and again.job_id == first.job_id and len(queue.tickets) == 2
    drain(jobs, queue)
    assert work.runs <= 4  # at most one batch done twice (idempotent), and the job counted once per batch
    done = jobs.status(JobKind.ERASURE, "alice")
    assert done is not None and done.counts == {"n": 3}


def test_a_batch_whose_checkpoint_another_worker_stored_first_hands_nothing_on() -> None:
    jobs, store, queue, _ = service()
    job, _ = jobs.start(JobKind.ERASURE, "alice")
    queue.tickets.clear()
    store.refuse_next_save = True
    assert jobs.run(ticket_of(job)) is None and queue.tickets == []
    assert store.get(JobKind.ERASURE, "alice") == job  # the checkpoint is where it was


def test_a_ticket_of_another_or_a_finished_job_does_nothing() -> None:
    jobs, _, queue, work = service()
    job, _ = jobs.start(JobKind.ERASURE, "alice")
    stale = JobTicket(kind=JobKind.ERASURE, user_id="alice", job_id="er_other")
    assert jobs.run(stale) is None and work.runs == 0
    drain(jobs, queue)
    assert jobs.run(ticket_of(job)) is None and work.runs == 3
    # and a new erasure after a finished one is a new job
    fresh, new = jobs.start(JobKind.ERASURE, "alice")
    assert new and fresh.job_id != job.job_id
