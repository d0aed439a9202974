"""A user's data: erasure and export (GDPR): docs/server-api.md, "Erasure and export".

Both run as jobs (``parley.jobs``): ``POST`` starts one (or answers the user's running one) with 202, ``GET``
reports where it stands. The work is done by this function's jobs-queue worker (``parley.server_api.worker``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from parley.audit import audit_targets
from parley.errors import JobNotFoundError
from parley.models import Job, JobKind, JobStatus
from parley.server_api.base import ApiModel, checked_user_id

router = APIGatewayHttpRouter()

PathUserId = Annotated[str, Path(min_length=1, max_length=128, description="A user's id.")]


class JobView(ApiModel):
    job_id: str
    user_id: str
    kind: JobKind = Field(description="`erasure` or `export`.")
    status: JobStatus = Field(description="`running` or `done`.")
    phase: str = Field(description="What the job does now (docs/server-api.md, \"Erasure and export\").")
    started_at: int = Field(description="Epoch milliseconds.")
    updated_at: int = Field(description="Epoch milliseconds of the last batch's checkpoint.")
    finished_at: int | None = Field(default=None, description="Epoch milliseconds; absent while running.")
    batches: int = Field(description="Batches done so far.")
    counts: dict[str, int] = Field(description="What was done so far, by kind (`messages`, `uploads`, ...).")
    messages: str | None = Field(default=None, description="Erasure: the deployment's choice for the user's "
                                                           "messages, `tombstone` or `delete`.")
    download_url: str | None = Field(default=None, description="Export, once done: a presigned link to the "
                                                               "JSON file, valid until `urlExpiresAt`.")
    url_expires_at: int | None = Field(default=None, description="Epoch milliseconds.")

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(job_id=job.job_id, user_id=job.user_id, kind=job.kind, status=job.status, phase=job.phase,
                   started_at=job.started_at, updated_at=job.updated_at, finished_at=job.finished_at,
                   batches=job.step, counts=job.counts, messages=job.mode, download_url=job.download_url,
                   url_expires_at=job.url_expires_at)


def _start(kind: JobKind, user_id: str) -> tuple[JobView, int]:
    from parley.config import get_settings
    from parley.wiring import jobs

    checked_user_id(user_id, "userId")
    audit_targets(user_ids=[user_id])
    mode = get_settings().erasure_messages if kind is JobKind.ERASURE else None
    job, _new = jobs().start(kind, user_id, mode=mode)
    return JobView.of(job), 202


def _status(kind: JobKind, user_id: str) -> JobView:
    from parley.wiring import jobs

    checked_user_id(user_id, "userId")
    audit_targets(user_ids=[user_id])
    job = jobs().status(kind, user_id)
    if job is None:
        raise JobNotFoundError()
    return JobView.of(job)


@router.post("/v1/users/<userId>/erasure", summary="Erase everything Parley holds about a user",
             tags=["users"], responses={202: {"description": "The erasure job, started or already running."}})
def start_erasure(userId: PathUserId) -> tuple[JobView, int]:
    """Starts the user's erasure, or answers their running one (idempotent). It runs asynchronously, in bounded
    batches; `GET` the same path for its status."""
    return _start(JobKind.ERASURE, userId)


@router.get("/v1/users/<userId>/erasure", summary="The status of a user's erasure", tags=["users"])
def erasure_status(userId: PathUserId) -> JobView:
    return _status(JobKind.ERASURE, userId)


@router.post("/v1/users/<userId>/export", summary="Export everything Parley holds about a user",
             tags=["users"], responses={202: {"description": "The export job, started or already running."}})
def start_export(userId: PathUserId) -> tuple[JobView, int]:
    """Starts an export of the user's data as one JSON file, or answers their running one. Once done, `GET` the same
    path for its time-limited `downloadUrl`."""
    return _start(JobKind.EXPORT, userId)


@router.get("/v1/users/<userId>/export", summary="The status of a user's export, and its link once done",
            tags=["users"])
def export_status(userId: PathUserId) -> JobView:
    return _status(JobKind.EXPORT, userId)
