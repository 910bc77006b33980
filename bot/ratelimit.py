"""Pacing the prompt fan-out to Telegram's limits: ~30 messages a second overall, one a second per chat."""

from __future__ import annotations

import asyncio
from collections import deque

from bot.clock import Clock

WINDOW = 1.0


class FanoutLimiter:
    """Hands out send slots evenly spaced in time; a 429 pauses every sender for `retry_after`.

    Evenly spaced slots keep any one-second window under the limit without a token bucket's
    bursts. Two guards keep it so when things go wrong: a pause sends every waiting sender back to
    the queue (otherwise they would all wake together when it ends), and no send starts while
    `cap` others started in the last second (an event loop that stalled would otherwise bunch them).
    """

    def __init__(self, clock: Clock, *, rate: float = 29.0, cap: int = 28, per_chat: float = 1.0) -> None:
        self.clock = clock
        self.interval = 1.0 / rate
        self.cap = cap
        self.per_chat = per_chat
        self._next = 0.0
        self._paused_until = 0.0
        self._pauses = 0
        self._chat_next: dict[int, float] = {}
        self._started: deque[float] = deque(maxlen=cap)
        self._lock = asyncio.Lock()

    def _t(self) -> float:
        return self.clock.now().timestamp()

    async def acquire(self, chat_id: int) -> None:
        """Wait for this send's slot; returns just before the send may start."""
        while True:
            async with self._lock:
                now = self._t()
                previous = self._chat_next.get(chat_id, 0.0)
                slot = max(now, self._next, self._paused_until, previous)
                self._next = slot + self.interval
                self._chat_next[chat_id] = slot + self.per_chat
                pauses = self._pauses
                if len(self._chat_next) > 50_000:  # forget chats whose slot is long past
                    self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            await self._sleep_until(slot)
            async with self._lock:
                if self._pauses == pauses:
                    await self._within_window()
                    return
                # Telegram said "retry after" while we waited: queue again behind the pause.
                self._chat_next[chat_id] = previous

    async def _within_window(self) -> None:
        while len(self._started) == self.cap and self._t() - self._started[0] < WINDOW:
            await self._sleep_until(self._started[0] + WINDOW)
        self._started.append(self._t())

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        self._paused_until = max(self._paused_until, self._t() + seconds)
        self._next = max(self._next, self._paused_until)
        self._pauses += 1

    async def _sleep_until(self, at: float) -> None:
        delay = at - self._t()
        if delay > 0:
            await self.clock.sleep(delay)
