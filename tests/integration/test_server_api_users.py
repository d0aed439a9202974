"""The server API's erasure and export routes under moto, through the function: a job started with 202 (once),
its status, its batches run by the same function's jobs-queue worker, stable codes for refusals, audit entries."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.integration.conftest import FakeConnectionsApi
from tests.integration.erasure_world import World, build, configure_jobs, run_worker, traces_of
from tests.support.events import http_api_event
from tests.support.handlers import invoke


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", http_api_event(method, path, body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


@pytest.fixture
def world(aws_env: Any, bucket: Any, configure: Any, connections_api: FakeConnectionsApi) -> World:
    configure_jobs(configure, PARLEY_JOB_BATCH_ITEMS="10")
    return build(connections_api)


def test_erasure_starts_once_reports_its_status_and_runs_on_the_queue(world: World, aws_env: Any,
                                                                     bucket: Any) -> None:
    # given no erasure of alice yet
    assert call("GET", "/v1/users/alice/erasure")[1]["error"]["code"] == "job_not_found"
    # when the backend asks for it twice
    status, job = call("POST", "/v1/users/alice/erasure")
    again_status, again = call("POST", "/v1/users/alice/erasure")
    # then one job runs, and its status says so
    assert (status, again_status) == (202, 202) and again["jobId"] == job["jobId"]
    assert job["status"] == "running" and job["messages"] == "tombstone" and job["phase"] == "connections"
    assert call("GET", "/v1/users/alice/erasure")[1]["status"] == "running"
    # when the worker has run its batches, it is done and nothing of hers is left
    assert run_worker() > 5
    status, done = call("GET", "/v1/users/alice/erasure")
    assert status == 200 and done["status"] == "done" and done["finishedAt"] >= done["startedAt"]
    assert done["counts"]["messages"] == 4
    assert traces_of(aws_env, bucket, world) == []
    # and every call is audited against her
    _, log = call("GET", "/v1/audit", query={"target": "user:alice"})
    assert {e["operation"] for e in log["entries"]} >= {"POST /v1/users/{userId}/erasure",
                                                       "GET /v1/users/{userId}/erasure"}


def test_export_answers_a_link_to_her_json(world: World) -> None:
    status, job = call("POST", "/v1/users/alice/export")
    assert status == 202 and job["kind"] == "export" and "downloadUrl" not in {k for k, v in job.items() if v}
    run_worker()
    _, done = call("GET", "/v1/users/alice/export")
    assert done["status"] == "done" and done["urlExpiresAt"] > done["finishedAt"]
    document = requests.get(done["downloadUrl"], timeout=10).json()
    assert "hello, bob" in [m.get("text") for m in document["messages"]]


@pytest.mark.parametrize("path", ["/v1/users/bo b/erasure", f"/v1/users/{'x' * 129}/export"])
def test_an_invalid_user_id_is_400_and_starts_nothing(world: World, aws_env: Any, path: str) -> None:
    status, answer = call("POST", path)
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert not [i for i in aws_env.scan(TableName="parley-test")["Items"] if i["pk"]["S"].startswith("JOB#")]
