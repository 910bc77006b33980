"""A network round trip on every Bot API answer: a fixed delay plus jitter, as api.telegram.org is 50-200 ms away.

The delay is awaited in the emulator's own process just before an answer is written, after the call
took effect (what the bot sent is visible to the user at once; the bot learns the result one round
trip later, as through a proxy in front of Telegram). A long poll waits for updates first, then the
delay. The sleep is injectable so tests check the delays without waiting for them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[object]]


@dataclass(slots=True)
class Latency:
    """Every answer waits `ms` plus a uniform 0..`jitter_ms`; `applied`/`seconds` say what was waited."""

    ms: float = 0.0
    jitter_ms: float = 0.0
    seed: int | None = None
    applied: int = 0
    seconds: float = 0.0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency and jitter must not be negative")
        self._rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return self.ms > 0 or self.jitter_ms > 0

    def next_delay(self) -> float:
        jitter = self._rng.uniform(0.0, self.jitter_ms) if self.jitter_ms > 0 else 0.0
        return (self.ms + jitter) / 1000.0

    async def wait(self, sleep: Sleep = asyncio.sleep) -> None:
        if not self.active:
            return
        delay = self.next_delay()
        self.applied += 1
        self.seconds += delay
        await sleep(delay)

    def stats(self) -> dict[str, float | int]:
        return {
            "latency_ms": self.ms,
            "jitter_ms": self.jitter_ms,
            "delayed_answers": self.applied,
            "delay_seconds": round(self.seconds, 6),
        }
