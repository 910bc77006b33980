"""Pacing the prompt fan-out to Telegram's limits: ~30 messages a second overall, one a second per chat."""

from __future__ import annotations

import asyncio

from bot.clock import Clock


class FanoutLimiter:
    """Hands out send slots evenly spaced in time; a 429 pauses every sender for `retry_after`.

    Evenly spaced slots keep any one-second window at or under `rate` sends, even with a little
    network jitter, without the bursts a token bucket allows.
    """

    def __init__(self, clock: Clock, *, rate: float = 29.0, per_chat: float = 1.0) -> None:
        self.clock = clock
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    def _t(self) -> float:
        return self.clock.now().timestamp()

    async def acquire(self, chat_id: int) -> None:
        """Wait for this send's slot."""
        async with self._lock:
            now = self._t()
            slot = max(now, self._next, self._paused_until, self._chat_next.get(chat_id, 0.0))
            self._next = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat
            if len(self._chat_next) > 50_000:  # forget chats whose slot is long past
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        await self._sleep_until(slot)
        # A 429 that arrived while this sender slept holds it back too.
        while self._paused_until > self._t():
            await self._sleep_until(self._paused_until)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        until = self._t() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, self._paused_until)

    async def _sleep_until(self, at: float) -> None:
        delay = at - self._t()
        if delay > 0:
            await self.clock.sleep(delay)
