"""What one delivery attempt came to, and when to try again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    detail: str = ""
    retry_after: float | None = None  # seconds the destination asked us to wait


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential back-off with full jitter (AWS style): uniform in [0, min(cap, base*2^n)]."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def next_delay(outcome: Outcome, attempt: int, *, base: float, cap: float) -> float:
    """Delay before the next attempt, honouring a destination's Retry-After."""
    delay = backoff_seconds(attempt, base=base, cap=cap)
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, cap))
    return delay
