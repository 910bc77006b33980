"""Throw-away databases for tests and benchmarks: a SQLite file, or a fresh PostgreSQL database when a server answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

# The machine's PostgreSQL (trust auth); override with LIMBER_TEST_POSTGRES.
POSTGRES_ADMIN_URL = os.environ.get("LIMBER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def postgres_available() -> str | None:
    """None when a server answers, else why not (for the skip message)."""
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"no PostgreSQL at {POSTGRES_ADMIN_URL} ({type(exc).__name__}: {exc}); set LIMBER_TEST_POSTGRES"
    await conn.close()
    return None


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"limber_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
