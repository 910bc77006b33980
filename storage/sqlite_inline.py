"""SQLite for SQLAlchemy's asyncio API without a thread: statements run on the event loop's thread.

aiosqlite hands every call to a worker thread and back, which costs far more than the work: a
small transaction on a local WAL file takes about 1.5 ms through aiosqlite and 0.4 ms inline here
(BENCHMARKS.md has the figures). Inline, the loop is busy while SQLite works, which takes
microseconds, and while it waits for another process's write lock (`busy_timeout`). Within the
process `Database` lets one transaction run at a time, so the loop never waits on its own lock.

`sqlite:///path` URLs use this driver; `sqlite+aiosqlite:///path` still selects aiosqlite.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.url import URL
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, StaticPool
from sqlalchemy.util.concurrency import await_


async def _done() -> None:
    return None


class _Cursor:
    """sqlite3's cursor, plus what SQLAlchemy's asyncio layer expects of an async driver's."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, *args: Any) -> _Cursor:
        # SQLAlchemy insists that an async driver awaited something; this costs a greenlet switch.
        await_(_done())
        self._cursor.execute(*args)
        return self

    def executemany(self, *args: Any) -> _Cursor:
        await_(_done())
        self._cursor.executemany(*args)
        return self

    async def _async_soft_close(self) -> None:
        return None

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _Connection:
    __slots__ = ("_connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        object.__setattr__(self, "_connection", connection)

    def cursor(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._connection.cursor(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)  # isolation_level, as the pysqlite dialect sets it


class _DBAPI:
    """The sqlite3 module, with connections wrapped."""

    def connect(self, *args: Any, **kwargs: Any) -> _Connection:
        return _Connection(sqlite3.connect(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    driver = "inline"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return _DBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:
        return AsyncAdaptedQueuePool if cls._is_url_file_db(url) else StaticPool
