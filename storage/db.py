"""Engine, transactions and migrations for SQLite (inline, see storage.sqlite_inline) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects import registry
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
registry.register("sqlite.inline", "storage.sqlite_inline", "InlineSQLiteDialect")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps its migration context in module globals: one migration at a time per process.
_MIGRATING = asyncio.Lock()
# A write waits this long for another writer (the driver waits even when the transaction has already
# read, as it only begins on the first write); after it "database is locked" is raised and the
# update is retried from the start with backoff (bot.dbretry).
SQLITE_BUSY_TIMEOUT = 5.0
CLOSE_SECONDS = 3.0  # closing the pool at shutdown, at most


# Transactions open in the running task (a context variable: each task has its own). Nothing may wait
# on the network while one is: bot.guard makes a Bot API request then fail in tests.
_OPEN = contextvars.ContextVar("open_transactions", default=0)


def in_transaction() -> bool:
    """Whether the running task has a database transaction open (and, on SQLite, the process lock)."""
    return _OPEN.get() > 0


def async_url(url: str) -> str:
    """Pick the async driver for plain `sqlite:///` and `postgresql://` URLs."""
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        parsed = parsed.set(drivername="sqlite+inline")
    elif backend in ("postgresql", "postgres") and driver in ("", "psycopg2", "psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return cfg


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock.
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL still keeps every commit across a process crash (SIGKILL); only an OS crash or
        # power loss can drop the newest ones. FULL would fsync on every commit, many times slower.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def sqlite_busy_timeout(url: str) -> float:
    """Seconds a write waits for another writer's lock: `?timeout=` in the URL (as for sqlite3), else 5."""
    value = make_url(url).query.get("timeout")
    if value is None:
        return SQLITE_BUSY_TIMEOUT
    return float(value if isinstance(value, str) else value[-1])


@dataclass(frozen=True)
class Timeouts:
    """Seconds a server database may take (bot.config): without them a silent outage hangs forever."""

    connect: float = 5.0
    statement: float = 15.0
    pool: float = 5.0
    keepalive: int = 10


def _server_options(t: Timeouts) -> dict[str, Any]:
    """asyncpg's connect arguments: client-side timeouts, and what the server should give up on."""
    return {
        "timeout": t.connect,
        # Client side: a statement unanswered this long raises TimeoutError.
        "command_timeout": t.statement,
        "server_settings": {
            # A client cut off mid-transaction must not hold its row locks until TCP notices.
            "idle_in_transaction_session_timeout": str(round(t.statement * 2000)),
            "tcp_keepalives_idle": str(t.keepalive),
            "tcp_keepalives_interval": str(max(1, t.keepalive // 3)),
            "tcp_keepalives_count": "3",
        },
    }


def _keepalive(t: Timeouts) -> Callable[[Any, Any], None]:
    """TCP keepalives (and, on Linux, a limit on unacknowledged writes) on each new server connection."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        transport = getattr(getattr(dbapi_connection, "driver_connection", None), "_transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (
            ("TCP_KEEPIDLE", t.keepalive),
            ("TCP_KEEPINTVL", max(1, t.keepalive // 3)),
            ("TCP_KEEPCNT", 3),
            ("TCP_USER_TIMEOUT", round((t.keepalive + t.statement) * 1000)),
        ):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)

    return on_connect


def _timeout_is_a_disconnect(ctx: ExceptionContext) -> None:
    """A statement that timed out means the way to the server is bad: drop the
    connection instead of pooling it again, and with it every connection opened before (SQLAlchemy
    invalidates the whole pool on a disconnect), so none waits out its timeout once more."""
    if isinstance(ctx.original_exception, TimeoutError):
        ctx.is_disconnect = True


class Database:
    """One engine per process; `transaction()` commits on success and rolls back on any error."""

    def __init__(self, url: str, *, echo: bool = False, timeouts: Timeouts | None = None) -> None:
        self.url = async_url(url)
        sqlite = self.url.startswith("sqlite")
        t = timeouts or Timeouts()
        # No pre-ping: it costs a round trip on every transaction. A pooled connection gone stale
        # (PostgreSQL restarted) fails its first statement as a disconnect, which invalidates the pool,
        # and bot.dbretry runs the work again on a fresh connection.
        options: dict[str, Any] = {} if sqlite else {"pool_timeout": t.pool, "connect_args": _server_options(t)}
        if "+asyncpg" not in self.url:
            options.pop("connect_args", None)
        self._untimed_options: dict[str, Any] | None = None
        if "connect_args" in options:
            untimed = {**options["connect_args"], "command_timeout": None}
            untimed["server_settings"] = {
                k: v for k, v in untimed["server_settings"].items() if k != "idle_in_transaction_session_timeout"
            }
            self._untimed_options = untimed
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **options)
        if self.engine.dialect.driver == "asyncpg":
            event.listen(self.engine.sync_engine, "connect", _keepalive(t))
            event.listen(self.engine.sync_engine, "handle_error", _timeout_is_a_disconnect)
        if self.engine.dialect.name == "sqlite":
            busy_ms = round(sqlite_busy_timeout(self.url) * 1000)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas(busy_ms))
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite on the loop's thread (storage.sqlite_inline): one transaction at a time, so none
        # ever waits, blocking the loop, for a write lock held by another task of this process.
        self._turn = asyncio.Lock() if self.engine.dialect.driver == "inline" else None
        self._holder: asyncio.Task[Any] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success; roll back on any error, a flow's refusal (bot.flows.Refused) included."""
        token = _OPEN.set(_OPEN.get() + 1)
        try:
            async with self._transaction() as session:
                yield session
        finally:
            try:
                _OPEN.reset(token)
            except ValueError:  # closed from another context (a cancelled task's cleanup): its own count
                pass

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        task = asyncio.current_task()
        if self._turn is None or self._holder is task:  # a transaction opened inside one goes ahead
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._turn:
            self._holder = task
            try:
                async with self._sessions() as session, session.begin():
                    yield session
            finally:
                self._holder = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on a plain connection, no ORM session: for Core statements (storage.statements)."""
        task = asyncio.current_task()
        if self._turn is None or self._holder is task:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._turn:
            self._holder = task
            try:
                async with self.engine.begin() as conn:
                    yield conn
            finally:
                self._holder = None

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = alembic_config(self.url)

        def upgrade(connection: Connection) -> None:
            if connection.dialect.name == "postgresql":
                # Several processes may start at once: one migrates, the others wait.
                connection.execute(text("SELECT pg_advisory_xact_lock(74657201)"))
            else:
                # Python's sqlite3 opens transactions only for data changes, so each CREATE would
                # commit alone and a crash mid-upgrade would leave half a schema. SQLite's DDL is
                # transactional once a transaction is open: open it, and the upgrade is all or nothing.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

        # An upgrade may build an index over millions of rows, or wait for another process's: the
        # statement timeout meant for a silent outage does not apply to it.
        engine = self.engine
        if self._untimed_options is not None:
            engine = create_async_engine(self.url, poolclass=NullPool, connect_args=self._untimed_options)
        try:
            async with _MIGRATING, engine.begin() as conn:
                await conn.run_sync(upgrade)
        finally:
            if engine is not self.engine:
                await engine.dispose()

    async def close(self) -> None:
        """Close the pool's connections; ones a silent outage left hanging are dropped, not waited for."""
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.engine.dispose()
        except TimeoutError:
            log.warning("database connections did not close within %.0f s; dropped", CLOSE_SECONDS)
            await self.engine.dispose(close=False)
