"""Pacing the prompt fan-out to Telegram's limits: ~30 messages a second overall, one a second per chat."""

from __future__ import annotations

from collections import deque

from bot.clock import Clock

WINDOW = 1.0
# Telegram allows about 30 messages a second; the cap stays one under it.
CAP = 29


class FanoutLimiter:
    """Hands out send slots evenly spaced in time; a 429 pauses every sender for `retry_after`.

    Evenly spaced slots keep any one-second window under the limit without a token bucket's bursts.
    A sender takes its slot (`acquire`) before it marks the prompt "sending", so that a crash while
    waiting leaves nothing half-sent; between the slot and the request comes that database write,
    which takes a varying time (a stalled write held back several requests that then went out
    together: 35 in one second). So the request itself passes a gate (`admit`): no request starts
    while `cap` others started in the last second, none to a chat within `per_chat` of the last one
    to it, and none during a pause. The gate holds a request at most `max_hold` (a few milliseconds
    normally); longer, and the sender gives its slot back and queues again. A pause also sends every
    sender waiting for a slot back to the queue (otherwise they would all wake together when it ends).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        rate: float = 29.0,
        cap: int = CAP,
        per_chat: float = 1.0,
        max_hold: float = 0.25,
    ) -> None:
        self.clock = clock
        self.interval = 1.0 / rate
        self.cap = cap
        self.per_chat = per_chat
        self.max_hold = max_hold
        self._next = 0.0
        self._paused_until = 0.0
        self._pauses = 0
        self._chat_next: dict[int, float] = {}
        self._chat_sent: dict[int, float] = {}
        self._started: deque[float] = deque(maxlen=cap)

    def _t(self) -> float:
        return self.clock.now().timestamp()

    async def acquire(self, chat_id: int) -> None:
        """Wait for this send's slot; then mark the prompt "sending" and pass `admit` before the request."""
        while True:
            # No await between reading and moving the shared state: each sender gets its own slot.
            now = self._t()
            previous = self._chat_next.get(chat_id, 0.0)
            slot = max(now, self._next, self._paused_until, previous)
            self._next = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat
            pauses = self._pauses
            if len(self._chat_next) > 50_000:  # forget chats whose slot is long past
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            await self._sleep_until(slot)
            if self._pauses == pauses:
                return
            # Telegram said "retry after" while we waited: queue again behind the pause.
            self._chat_next[chat_id] = previous

    async def admit(self, chat_id: int) -> bool:
        """Just before the request: True when it may start now (it counts as started from here). False when
        it would have to wait longer than `max_hold` (a pause began, or the way here took long): the
        caller undoes "sending" and takes a new slot."""
        deadline = self._t() + self.max_hold
        while True:
            now = self._t()
            ready = max(self._paused_until, self._chat_sent.get(chat_id, 0.0) + self.per_chat)
            if len(self._started) == self.cap:
                ready = max(ready, self._started[0] + WINDOW)
            if ready <= now:
                self._started.append(now)
                self._chat_sent[chat_id] = now
                if len(self._chat_sent) > 50_000:
                    self._chat_sent = {c: t for c, t in self._chat_sent.items() if t > now - self.per_chat}
                return True
            if ready > deadline:
                return False
            await self._sleep_until(ready)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        self._paused_until = max(self._paused_until, self._t() + seconds)
        self._next = max(self._next, self._paused_until)
        self._pauses += 1

    async def _sleep_until(self, at: float) -> None:
        delay = at - self._t()
        if delay > 0:
            await self.clock.sleep(delay)
