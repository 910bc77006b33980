"""Handlers that wait out a brief database outage instead of failing the update.

PostgreSQL restarting or another SQLite writer holding the lock are transient: the handler is run
again from the start, with backoff, for up to a minute. That is safe because every handler loads,
decides and commits conditionally on the state it loaded (see bot.flows.session): a step that was already
advanced answers "stale". Updates are handled one at a time, so later updates wait behind the
retried one and none is dropped; anything else, or an outage that outlasts the budget, goes to the
error handler as before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from telegram.ext import Application

log = logging.getLogger(__name__)

FIRST_DELAY = 0.2  # seconds before the first retry; doubles each time
MAX_DELAY = 5.0
BUDGET = 60.0  # seconds, from the first attempt, after which the error goes to the error handler

# PostgreSQL: the connection failed or is gone (08xxx), the server is starting, restarting or
# recovering (57P01-57P03), or full for a moment (53300).
_ASYNCPG_TRANSIENT = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
_SQLITE_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_DRIVERS = ("asyncpg", "aiosqlite", "sqlalchemy", "storage.sqlite_inline")
_MARK = "__limber_retrying__"

U = TypeVar("U")
C = TypeVar("C")
R = TypeVar("R")


def is_transient(exc: BaseException) -> bool:
    """True for a database that is briefly unreachable or locked, not for a fault in a query."""
    for err in _chain(exc):
        if isinstance(err, DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, OperationalError) and not isinstance(err.orig, sqlite3.Error):
            return True  # PEP 249: a lost connection (SQLite uses it for bad SQL too: judged below)
        if isinstance(err, sqlite3.OperationalError):
            return (getattr(err, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_BUSY or "locked" in str(err)
        if isinstance(err, _ASYNCPG_TRANSIENT):
            return True
        if isinstance(err, OSError) and _raised_in_driver(err):
            return True  # connection refused or reset while connecting
    return False


async def with_retries(attempt: Callable[[], Awaitable[R]], name: str) -> R:
    """`attempt()`, called again with backoff while it fails with a transient database error."""
    started, delay, tries = time.monotonic(), FIRST_DELAY, 1
    while True:
        try:
            return await attempt()
        except Exception as exc:  # ApplicationHandlerStop and every other error pass through as raised
            if not is_transient(exc) or time.monotonic() - started + delay > BUDGET:
                raise
            log.warning(
                "database unavailable in %s (attempt %d: %s); retrying in %.1f s", name, tries, _describe(exc), delay
            )
        await asyncio.sleep(delay)
        delay, tries = min(delay * 2, MAX_DELAY), tries + 1


def retrying(callback: Callable[[U, C], Awaitable[R]]) -> Callable[[U, C], Coroutine[Any, Any, R]]:
    """The handler callback, run again from the start while it fails with a transient database error."""
    if getattr(callback, _MARK, False):
        return cast("Callable[[U, C], Coroutine[Any, Any, R]]", callback)  # wrapped already
    name = getattr(callback, "__qualname__", repr(callback))

    @functools.wraps(callback)
    async def wrapped(update: U, context: C) -> R:
        return await with_retries(lambda: callback(update, context), name)

    setattr(wrapped, _MARK, True)
    return wrapped


def wrap_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Make every handler registered so far retry on a transient database error (idempotent)."""
    for handlers in app.handlers.values():
        for handler in handlers:
            if callable(getattr(handler, "callback", None)):
                handler.callback = retrying(handler.callback)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error inside a SQLAlchemy one, and what each was raised from, outermost first."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        err = todo.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        orig = err.orig if isinstance(err, DBAPIError) else None
        todo += [e for e in (orig, err.__cause__) if isinstance(e, BaseException)]


def _raised_in_driver(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVERS):
            return True
        tb = tb.tb_next
    return False


def _describe(exc: BaseException) -> str:
    """Type and message of the driver's error, without the statement or its parameters."""
    err = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
