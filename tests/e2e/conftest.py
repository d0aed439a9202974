"""The end-to-end tier: the local stack on free ports, driven over real sockets.

Each test module gets its own stack (a module may override ``stack_settings``, e.g. with short limits);
tests inside a module stay independent by using fresh user ids. The stack runs on its own event loop in a
background thread; tests drive clients from theirs (``harness.run``), like separate processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local.settings import LocalSettings
from local.stack import Stack, StackThread
from tests.e2e.harness import e2e_settings, generous_rate_limits

E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            # The handlers flush empty metric sets on some routes; metrics are disabled locally anyway.
            item.add_marker(pytest.mark.filterwarnings("ignore:No application metrics to publish"))


PRUNE_GRACE_MS = 1500  # shorter than production's 10 s, so the stale-pruning test waits only this long


@pytest.fixture(scope="module")
def stack_settings() -> LocalSettings:
    return e2e_settings()


@pytest.fixture(scope="module")
def handler_env() -> dict[str, str]:
    """The core's own settings for this module's stack: by default every rate limit raised far above what
    a test sends, so that ordering and recovery are not paced by the token buckets (test_rate_limits.py
    runs with the production limits)."""
    return {"PARLEY_RATE_LIMITS": generous_rate_limits(), "PARLEY_PRUNE_GRACE_MS": str(PRUNE_GRACE_MS)}


@pytest.fixture(scope="module")
def stack_thread(stack_settings: LocalSettings, handler_env: dict[str, str]) -> Iterator[StackThread]:
    background = StackThread(stack_settings, handler_env=handler_env)
    background.start()
    try:
        yield background
    finally:
        background.stop()


@pytest.fixture(scope="module")
def stack(stack_thread: StackThread) -> Stack:
    return stack_thread.stack


@pytest.fixture
def user() -> Callable[[str], str]:
    """Fresh user ids, so tests sharing a stack never see each other's data."""
    return lambda name: f"{name}-{uuid.uuid4().hex[:10]}"


