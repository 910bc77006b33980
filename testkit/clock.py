"""An injectable clock for tests: time moves only when the test says so."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Time that moves only when a test says so; sleepers wake in deadline order."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC), *, autoadvance: bool = False) -> None:
        # autoadvance: a sleep moves time on at once (for the fan-out pacing when a test runs passes).
        self.autoadvance = autoadvance
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if self.autoadvance:
            self._now += timedelta(seconds=max(seconds, 0))
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        return sum(1 for *_, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper whose deadline passes, in order."""
        target = self._now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
            await asyncio.sleep(0)
        self._now = target

    async def wait_for_sleepers(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait (in real time, briefly) until background tasks are parked on this clock."""
        async with asyncio.timeout(timeout):
            while self.sleepers < count:
                await asyncio.sleep(0.005)

    async def pass_pauses(self, *seconds: float) -> None:
        """Let the bot's waits on this clock (retry pauses) run out one after another: each time something
        sleeps on it, move time on by the next number of seconds."""
        for pause in seconds:
            await self.wait_for_sleepers()
            await self.advance(pause)
