"""Erasure and export run as jobs: asynchronous, in bounded batches, idempotent and resumable.

``start`` stores the job (or finds the user's running one) and hands its first batch to the jobs queue. A worker
takes a ticket from the queue, reads the job, does one bounded batch of its work from the job's checkpoint, stores
the new checkpoint and hands the next batch to the queue. Every step of the work is idempotent, so that a batch cut
short anywhere (a crash, a throttled call, a timeout) is simply done again from the last checkpoint when SQS gives
the ticket back. A checkpoint is stored only over the step it was computed from: if a ticket was handed on twice
(a worker died after handing on its next batch), the second worker's checkpoint is refused and it stops; what it
did meanwhile was done once more, to no effect.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from parley.clock import Clock, now_ms
from parley.models import Job, JobKind, JobStatus, JobTicket
from parley.ports import JobQueue, JobStore


class JobWork(Protocol):
    """What one kind of job does, one bounded batch at a time."""

    kind: JobKind
    first_phase: str

    def run(self, job: Job) -> Job:
        """One bounded batch from ``job``'s checkpoint: the job after it (``status`` done when nothing is left)."""
        ...


def ticket_of(job: Job) -> JobTicket:
    return JobTicket(kind=job.kind, user_id=job.user_id, job_id=job.job_id)


class JobService:
    def __init__(self, jobs: JobStore, queue: JobQueue, work: list[JobWork], *, clock: Clock = now_ms) -> None:
        self._jobs = jobs
        self._queue = queue
        self._work = {w.kind: w for w in work}
        self._clock = clock

    def start(self, kind: JobKind, user_id: str, *, mode: str | None = None) -> tuple[Job, bool]:
        """The user's running job of ``kind``, or a new one: the job and whether it is new. A running job's
        next batch is handed to the queue again (a job whose ticket was lost goes on; a second ticket is refused
        at its first checkpoint)."""
        now = self._clock()
        fresh = Job(kind=kind, user_id=user_id, job_id=f"{kind.value[:2]}_{secrets.token_urlsafe(12)}",
                    started_at=now, updated_at=now, phase=self._work[kind].first_phase, mode=mode)
        job = self._jobs.start(fresh)
        self._queue.enqueue(ticket_of(job))
        return job, job.job_id == fresh.job_id

    def status(self, kind: JobKind, user_id: str) -> Job | None:
        return self._jobs.get(kind, user_id)

    def run(self, ticket: JobTicket) -> Job | None:
        """One batch of the ticket's job: the job after it, or None when there was nothing to do (the job is done,
        or replaced, or another worker stored this batch's checkpoint first)."""
        job = self._jobs.get(ticket.kind, ticket.user_id)
        if job is None or job.job_id != ticket.job_id or job.status is JobStatus.DONE:
            return None
        after = self._work[job.kind].run(job)
        now = self._clock()
        after = after.model_copy(update={
            "step": job.step + 1, "updated_at": now,
            "finished_at": now if after.status is JobStatus.DONE else None})
        if not self._jobs.save(after, job.step):
            return None
        if after.status is JobStatus.RUNNING:
            self._queue.enqueue(ticket)
        return after
