"""Running countdown tasks, one per session. Their start times live in the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class Timers:
    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, session_id: int, countdown: Coroutine[Any, Any, None]) -> None:
        self.cancel(session_id)
        task = asyncio.get_running_loop().create_task(countdown, name=f"countdown-{session_id}")
        self._tasks[session_id] = task
        task.add_done_callback(lambda t: self._forget(session_id, t))

    def _forget(self, session_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(session_id) is task:
            del self._tasks[session_id]

    def running(self, session_id: int) -> bool:
        return session_id in self._tasks

    def cancel(self, session_id: int) -> None:
        task = self._tasks.pop(session_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
