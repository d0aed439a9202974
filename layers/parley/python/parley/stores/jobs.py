"""Erasure and export jobs: ``JOB#<kind>#<uid>`` / ``~`` (the job and its checkpoint), and the jobs queue (SQS)
that hands each batch to the next worker."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Job, JobStatus, JobTicket
from parley.ports import JobQueue, JobStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

# A finished job's item stays this long (the record that the erasure or export happened), then TTL deletes it.
KEEP_FINISHED_S = 30 * 86_400
_JOB = "job"  # the job, as JSON: one attribute, read and written whole


def _item(job: Job) -> dict[str, Any]:
    expires = (job.finished_at // 1000 + KEEP_FINISHED_S) if job.finished_at else None
    return to_item({table.PK: table.job_pk(job.kind.value, job.user_id), table.SK: table.JOB_SK,
                    "id": job.job_id, "step": job.step, "status": job.status.value, _JOB: job.model_dump_json(),
                    table.TTL_ATTRIBUTE: expires})


class DynamoJobStore(JobStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get(self, kind: str, user_id: str) -> Job | None:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.job_pk(kind, user_id), table.JOB_SK))
        return Job.model_validate_json(from_item(resp["Item"])[_JOB]) if "Item" in resp else None

    def start(self, job: Job) -> Job:
        try:
            with translated():
                client("dynamodb").put_item(
                    TableName=self._table, Item=_item(job),
                    ConditionExpression="attribute_not_exists(pk) OR #s <> :running",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":running": {"S": JobStatus.RUNNING.value}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            there: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            running = Job.model_validate_json(from_item(there)[_JOB]) if there else self.get(job.kind, job.user_id)
            if running is None:
                raise
            return running
        return job

    def save(self, job: Job, step: int) -> bool:
        try:
            with translated():
                client("dynamodb").put_item(
                    TableName=self._table, Item=_item(job), ConditionExpression="id = :id AND step = :step",
                    ExpressionAttributeValues={":id": {"S": job.job_id}, ":step": {"N": str(step)}})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            # a retry of a put whose answer was lost finds its own checkpoint there: stored after all
            return self.get(job.kind, job.user_id) == job
        return True


class SqsJobQueue(JobQueue):
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def enqueue(self, ticket: JobTicket) -> None:
        client("sqs").send_message(QueueUrl=self._url, MessageBody=ticket.model_dump_json())
