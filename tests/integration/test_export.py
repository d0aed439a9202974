"""Exporting a user's data under moto: a job in batches writes one JSON file to the uploads bucket, delivered as a
presigned link; the file holds their messages (with links to their attachments), conversations, reports and
settings, and nothing of other users' messages."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from parley import wiring
from parley.models import JobKind, JobStatus
from tests.integration.conftest import FakeConnectionsApi
from tests.integration.erasure_world import World, build, configure_jobs, run_jobs, traces_of


@pytest.fixture
def world(aws_env: Any, bucket: Any, configure: Any, connections_api: FakeConnectionsApi) -> World:
    configure_jobs(configure, PARLEY_JOB_BATCH_ITEMS="10")
    return build(connections_api)


def test_an_export_is_one_json_file_behind_a_time_limited_link(world: World) -> None:
    # given alice's data; when her export runs to the end
    _job, new = wiring.jobs().start(JobKind.EXPORT, "alice")
    assert new
    run_jobs()
    done = wiring.jobs().status(JobKind.EXPORT, "alice")
    assert done is not None and done.status is JobStatus.DONE and done.download_url and done.url_expires_at

    # then the link gives her data: her messages (the photo with its own link), conversations, report, settings
    document = requests.get(done.download_url, timeout=10).json()
    assert document["userId"] == "alice" and document["version"] == 1
    texts = sorted(m.get("text") for m in document["messages"])
    assert texts == ["a photo", "bye all", "hello, bob", "welcome"]  # hers only: never bob's "hi alice"
    [photo] = [m for m in document["messages"] if m.get("attachments")]
    assert photo["attachments"][0]["key"] == world.photo
    assert requests.get(photo["attachments"][0]["url"], timeout=10).status_code == 200
    assert {c["conversationId"] for c in document["conversations"]} == {world.direct, world.group, world.left_group}
    assert [r["reason"] for r in document["reportsMade"]] == ["spam"]
    assert document["blocked"] == ["dave"]
    assert [d["platform"] for d in document["devices"]] == ["apns"] and "token" not in str(document["devices"])


def test_erasure_deletes_the_users_export_too(world: World, aws_env: Any, bucket: Any) -> None:
    wiring.jobs().start(JobKind.EXPORT, "alice")
    run_jobs()
    wiring.jobs().start(JobKind.ERASURE, "alice", mode="tombstone")
    run_jobs()
    assert traces_of(aws_env, bucket, world) == []  # the export file and job included
