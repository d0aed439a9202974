"""Progress bars for the long runs (tqdm), or nothing at all (the smoke test, ``--no-progress``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self


class Progress:
    """``with Progress("preloading", total) as bar: bar.update()``; silent when ``enabled`` is False."""

    def __init__(self, description: str, total: int, *, enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm  # only where a bar is wanted: the smoke test runs without tqdm

            self._bar = tqdm(total=total, desc=description, unit="step", dynamic_ncols=True, leave=True)

    def update(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.close()


ProgressFactory = Callable[[str, int], Progress]


def factory(enabled: bool) -> ProgressFactory:
    return lambda description, total: Progress(description, total, enabled=enabled)


def silent(description: str, total: int) -> Progress:
    return Progress(description, total, enabled=False)
