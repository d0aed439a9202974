"""Exponential backoff with jitter for reconnects and retries."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.2
    maximum: float = 30.0
    multiplier: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): a random point in the upper half of
        the exponential step, so that clients dropped together do not come back together."""
        step = min(self.maximum, self.initial * self.multiplier ** min(attempt, 64))
        return random.uniform(step / 2, step)  # noqa: S311 -- jitter, not cryptography
