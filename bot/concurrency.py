"""Different chats at once, one chat in order: the update processor for polling, shared with the webhook.

python-telegram-bot handles polled updates one at a time by default, so at a real round trip
(50-200 ms to api.telegram.org, several calls per update) one process served a few updates a
second. `ChatLanes` runs different chats' updates concurrently, up to `limit` at a time, and keeps
each chat's updates in arrival order: an update waits until the one before it in its chat is done.

Each chat's queue is bounded. A person flooding the bot fills only their own lane (they hold one
of the `limit` slots at a time, like anyone else); past `per_chat` waiting updates their oldest
waiting chatter is dropped to make room (the flood guard would drop it anyway), and a new update
is dropped when all the waiting ones are worth keeping (buttons, ratings, warning signs).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logs import LogBudget

log = logging.getLogger(__name__)

R = TypeVar("R")
Keep = Callable[[object], bool]
OnDrop = Callable[[object], Awaitable[None]]


class Dropped:
    """What `ChatLanes.run` returns for an update its chat's full queue had no room for."""

    def __repr__(self) -> str:
        return "DROPPED"


DROPPED: Final = Dropped()
# Dropped updates: a few log lines a minute, however many there are.
DROP_LOG = LogBudget(limit=5, window=60.0)


def lane_key(update: object) -> int | None:
    """Whose order an update keeps: its chat's, else its sender's; None for updates of nobody."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else None


@dataclass(eq=False, slots=True)
class _Ticket:
    update: object
    keep: bool
    turn: asyncio.Future[None]
    dropped: bool = False


@dataclass(slots=True)
class _Lane:
    tickets: deque[_Ticket] = field(default_factory=deque)  # the first one is running (or about to)


class ChatLanes:
    """Run updates with at most `limit` at once, one chat's strictly in arrival order, `per_chat` waiting at most."""

    def __init__(
        self,
        limit: int,
        per_chat: int,
        *,
        keep: Keep | None = None,
        on_drop: OnDrop | None = None,
        key: Callable[[object], int | None] = lane_key,
    ) -> None:
        if limit < 1 or per_chat < 1:
            raise ValueError("limit and per_chat must be positive")
        self.limit = limit
        self.per_chat = per_chat
        self._keep = keep or (lambda update: False)
        self._on_drop = on_drop
        self._key = key
        self._slots = asyncio.Semaphore(limit)
        self._lanes: dict[int, _Lane] = {}
        self.running = 0
        self.most_running = 0  # the highest number of updates running at once so far
        self.dropped = 0

    def waiting(self, key: int) -> int:
        """How many of a chat's updates wait behind the one running."""
        lane = self._lanes.get(key)
        return max(len(lane.tickets) - 1, 0) if lane is not None else 0

    @property
    def chats(self) -> int:
        """Chats with an update in hand."""
        return len(self._lanes)

    async def run(self, update: object, work: Awaitable[R]) -> R | Dropped:
        """Await `work` in `update`'s turn; DROPPED (and `work` closed unstarted) when its chat has no room."""
        key = self._key(update)
        if key is None:
            return await self._slot(work)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        ticket = _Ticket(update, self._keep(update), asyncio.get_running_loop().create_future())
        if len(lane.tickets) > self.per_chat and not self._make_room(lane, ticket):
            await self._drop(update, work)
            if not lane.tickets:
                del self._lanes[key]
            return DROPPED
        lane.tickets.append(ticket)
        try:
            if lane.tickets[0] is not ticket:
                await ticket.turn
            if ticket.dropped:
                await self._drop(update, work)
                return DROPPED
            return await self._slot(work)
        finally:
            self._leave(key, lane, ticket)
            if isinstance(work, Coroutine) and inspect.getcoroutinestate(work) == inspect.CORO_CREATED:
                work.close()  # cancelled while waiting: never started

    def _make_room(self, lane: _Lane, incoming: _Ticket) -> bool:
        """The queue is full: drop its oldest waiting chatter (True), or say the incoming update must go."""
        for waiting in list(lane.tickets)[1:]:
            if not waiting.keep:
                waiting.dropped = True
                lane.tickets.remove(waiting)
                if not waiting.turn.done():
                    waiting.turn.set_result(None)
                return True
        return False

    async def _slot(self, work: Awaitable[R]) -> R:
        async with self._slots:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            try:
                return await work
            finally:
                self.running -= 1

    def _leave(self, key: int, lane: _Lane, ticket: _Ticket) -> None:
        if lane.tickets and lane.tickets[0] is ticket:
            lane.tickets.popleft()
            if lane.tickets and not lane.tickets[0].turn.done():
                lane.tickets[0].turn.set_result(None)  # the chat's next update goes ahead
        elif ticket in lane.tickets:
            lane.tickets.remove(ticket)
        if not lane.tickets and self._lanes.get(key) is lane:
            del self._lanes[key]

    async def _drop(self, update: object, work: Awaitable[Any]) -> None:
        self.dropped += 1
        if isinstance(work, Coroutine):
            work.close()
        if DROP_LOG.allow():
            left_out = DROP_LOG.take_suppressed()
            log.warning(
                "update %s dropped: its chat already has %d waiting%s",
                getattr(update, "update_id", "?"),
                self.per_chat,
                f"; {left_out} more not logged" if left_out else "",
            )
        if self._on_drop is not None:
            try:
                await self._on_drop(update)
            except Exception:  # a courtesy (the spinner stops); the drop stands either way
                log.debug("could not tell of a dropped update", exc_info=True)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB's update processor over `ChatLanes` (ApplicationBuilder.concurrent_updates)."""

    def __init__(self, lanes: ChatLanes) -> None:
        # PTB's own bound counts the updates in hand, waiting ones too: a lane's worth per running
        # slot, so waiting chats never take the running ones' places.
        super().__init__(max_concurrent_updates=max(lanes.limit * (lanes.per_chat + 1), 2))
        self.lanes = lanes

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self.lanes.run(update, coroutine)
        finally:
            # Stopped while waiting for a slot (cancelled, or its loop closed): never started.
            if isinstance(coroutine, Coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
