"""Which AWS calls of an invocation run one after another, and which run side by side in a thread pool.

An invocation is a ``Lane``: its calls, in the order the handler's thread made them. When that thread hands
tasks to a ``ThreadPoolExecutor`` (fan-out, the notifier's reads), the tasks become a ``Batch`` in its lane,
each task a lane of its own holding the calls made while it ran (and any batch it started in turn).
``benchmarks.duration`` turns this into the time the invocation waits on AWS, whatever this machine's speed.

``recording()`` patches ``ThreadPoolExecutor.submit`` (a task runs in a lane of its own) and ``Future.result``
(the submitter waits: its batch is complete) while it is active; ``lane()`` makes a new root lane for the
current thread (one invocation). Calls made outside any lane (setup) are not recorded. The model assumes a
thread waits for its batch before its next AWS call, which is how the core uses its pools.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_current = threading.local()


@dataclass
class Batch:
    """Tasks handed to one pool in a row, until the thread that handed them waits for a result."""

    workers: int
    pool: int  # id() of the executor
    tasks: list[Lane] = field(default_factory=list)
    open: bool = True  # False once the submitter waited for a result: the next submit starts a new batch


@dataclass
class Lane:
    steps: list[Any] = field(default_factory=list)  # AWS calls (benchmarks.metering.AwsCall) and Batches

    def calls(self) -> Iterator[Any]:
        """Every call in this lane and the batches under it."""
        for step in self.steps:
            if isinstance(step, Batch):
                for task in step.tasks:
                    yield from task.calls()
            else:
                yield step


def current() -> Lane | None:
    lane: Lane | None = getattr(_current, "lane", None)
    return lane


def record(call: Any) -> None:
    """Note an AWS call in the lane of the thread making it (no lane: not inside a measured invocation)."""
    lane = current()
    if lane is not None:
        lane.steps.append(call)


@contextmanager
def lane() -> Iterator[Lane]:
    """A fresh root lane for this thread: every call (and pool task) until the block ends goes into it."""
    previous, root = current(), Lane()
    _current.lane = root
    try:
        yield root
    finally:
        _current.lane = previous


def _batch_for(submitter: Lane, executor: ThreadPoolExecutor) -> Batch:
    last = submitter.steps[-1] if submitter.steps else None
    if isinstance(last, Batch) and last.open and last.pool == id(executor):
        return last
    batch = Batch(workers=executor._max_workers, pool=id(executor))
    submitter.steps.append(batch)
    return batch


def _in_lane(task: Lane, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        previous = current()
        _current.lane = task
        try:
            return fn(*args, **kwargs)
        finally:
            _current.lane = previous
    return run


@contextmanager
def recording() -> Iterator[None]:
    """While active, a task submitted from inside a lane runs in a lane of its own, in a Batch of its submitter."""
    original, original_result = ThreadPoolExecutor.submit, Future.result

    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        submitter = current()
        if submitter is None:
            return original(self, fn, *args, **kwargs)
        task = Lane()
        _batch_for(submitter, self).tasks.append(task)
        return original(self, _in_lane(task, fn), *args, **kwargs)

    def result(self: Future[Any], timeout: float | None = None) -> Any:
        waiting = current()
        if waiting is not None and waiting.steps and isinstance(waiting.steps[-1], Batch):
            waiting.steps[-1].open = False
        return original_result(self, timeout)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign,assignment]
    Future.result = result  # type: ignore[method-assign]
    try:
        yield
    finally:
        ThreadPoolExecutor.submit = original  # type: ignore[method-assign]
        Future.result = original_result  # type: ignore[method-assign]
