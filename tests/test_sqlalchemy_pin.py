"""The private SQLAlchemy names storage/sqlite_inline.py relies on, and the pin that keeps them there."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect

import sqlalchemy
from packaging.requirements import Requirement
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import storage.db  # noqa: F401 - registers the sqlite+inline dialect

# (module, attribute path): what the inline driver imports or overrides, private to SQLAlchemy.
PRIVATE = [
    ("sqlalchemy.util.concurrency", "await_"),  # await_only in 2.0
    ("sqlalchemy.dialects.sqlite.pysqlite", "SQLiteDialect_pysqlite._is_url_file_db"),
    ("sqlalchemy.connectors.asyncio", "AsyncAdapt_dbapi_cursor._async_soft_close"),
]


def _pin() -> Requirement:
    wanted = [Requirement(r) for r in importlib.metadata.requires("limber") or []]
    return next(r for r in wanted if r.name == "sqlalchemy" and not r.marker)


def test_the_private_names_the_inline_driver_uses_are_there() -> None:
    missing = []
    for module_name, path in PRIVATE:
        target: object = importlib.import_module(module_name)
        for part in path.split("."):
            target = getattr(target, part, None)
        if target is None or not callable(target):
            missing.append(f"{module_name}.{path}")
    assert not missing, (
        f"SQLAlchemy {sqlalchemy.__version__} moved {', '.join(missing)}, which storage/sqlite_inline.py uses: "
        f"adapt the driver and the pin in pyproject.toml ({_pin()})"
    )
    # The asyncio result awaits a cursor's soft close: the inline driver's cursor provides one, a coroutine.
    adapted = importlib.import_module("sqlalchemy.connectors.asyncio").AsyncAdapt_dbapi_cursor
    assert inspect.iscoroutinefunction(adapted._async_soft_close)


def test_the_installed_sqlalchemy_is_in_the_pinned_range() -> None:
    pin = _pin()
    assert pin.specifier.contains(sqlalchemy.__version__), (
        f"SQLAlchemy {sqlalchemy.__version__} is installed, pyproject.toml pins {pin}: reinstall (pip install -e .)"
    )


async def test_a_statement_runs_through_the_inline_driver() -> None:
    engine = create_async_engine("sqlite+inline://")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1 + 1"))).scalar_one() == 2
    finally:
        await engine.dispose()
