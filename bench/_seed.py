"""Databases for the benchmarks: a fresh one per run, seeded in bulk, with the seeded state cached.

People get a users row, preferences with daily prompts on (a time, a zone, every day) and, with
`days`, that many days of history ending yesterday: a daily prompt each day (mostly sent, some
answered), a finished routine session with every step's outcome and before/after ratings on about
one day in five, a pain rating from the prompt on about half the days, a few free-standing ratings
and rest or flare marks. The schema comes from the project's migrations; rows go in with executemany
(SQLite, secondary indexes dropped and rebuilt around the load) or COPY (PostgreSQL).

The seeded database is cached, keyed by its parameters, the migrations and the day: a SQLite file
under /tmp/limber-bench-cache (copied for each run), or a PostgreSQL template database
(`CREATE DATABASE ... TEMPLATE`). Next-prompt times are set per run (`set_schedules`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url

from bot.coaching.plan import build_plan
from bot.coaching.schedule import EVERY_DAY, PRESET_TIMES, next_due
from content import load_library
from storage.db import MIGRATIONS, Database

SEED_VERSION = 1
CACHE_DIR = Path("/tmp/limber-bench-cache")
FIRST_ID = 1_000_000  # people are FIRST_ID, FIRST_ID + 1, ...
ZONES: tuple[tuple[str, int], ...] = (
    ("Europe/Berlin", 18),
    ("Europe/London", 14),
    ("America/New_York", 14),
    ("America/Chicago", 6),
    ("America/Los_Angeles", 8),
    ("America/Sao_Paulo", 5),
    ("Asia/Kolkata", 8),
    ("Asia/Kathmandu", 1),
    ("Asia/Tokyo", 5),
    ("Australia/Sydney", 4),
    ("Africa/Lagos", 4),
    ("UTC", 13),
)
ROUTINES: tuple[tuple[str, int], ...] = (
    ("quick", 30),
    ("hips", 20),
    ("low-back", 15),
    ("relax", 12),
    ("glutes", 9),
    ("hamstrings", 8),
    ("core", 6),
)
TABLES: dict[str, tuple[str, ...]] = {
    "users": ("id", "chat_id", "first_name", "created_at", "updated_at", "onboarded_at"),
    "preferences": (
        "user_id",
        "timezone",
        "level",
        "session_length",
        "reminders_on",
        "reminder_time",
        "reminder_days",
        "prompts_paused",
        "routine_id",
        "next_prompt_at",
        "next_prompt_date",
        "updated_at",
    ),
    "routine_sessions": (
        "id",
        "user_id",
        "routine_id",
        "status",
        "stopped",
        "plan",
        "current_step",
        "message_id",
        "started_at",
        "updated_at",
        "finished_at",
    ),
    "step_outcomes": ("id", "session_id", "user_id", "step_index", "technique_id", "outcome", "created_at"),
    "pain_ratings": ("id", "user_id", "value", "context", "session_id", "created_at"),
    "prompts": (
        "id",
        "user_id",
        "local_date",
        "kind",
        "due_at",
        "status",
        "claimed_by",
        "claimed_at",
        "sent_at",
        "message_id",
        "response",
        "rating",
        "created_at",
    ),
    "day_marks": ("id", "user_id", "day", "kind", "created_at"),
}
CHUNK_PEOPLE = 2_000


@dataclass(frozen=True)
class SeedSpec:
    people: int
    days: int  # days of history (0: people and schedules only)
    seed: int = 20261121

    def key(self, today: date) -> str:
        return f"p{self.people}-d{self.days}-s{self.seed}-v{SEED_VERSION}-m{schema_hash()}-{today.isoformat()}"


def schema_hash() -> str:
    """Changes whenever a migration does (others may be editing one)."""
    digest = hashlib.sha1()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def person_ids(people: int) -> range:
    return range(FIRST_ID, FIRST_ID + people)


# --- generating rows ------------------------------------------------------------------------------


@dataclass
class Counters:
    session: int = 0
    outcome: int = 0
    rating: int = 0
    prompt: int = 0
    mark: int = 0


@dataclass
class Chunk:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {name: [] for name in TABLES})


class Generator:
    """Deterministic people and history. `ts` and `day` turn naive-UTC datetimes and dates into what
    the driver stores (SQLite: SQLAlchemy's text formats; PostgreSQL: aware datetimes)."""

    def __init__(self, spec: SeedSpec, today: date, *, sqlite: bool) -> None:
        self.spec = spec
        self.today = today
        self.rng = random.Random(spec.seed)
        self.ids = Counters()
        self.sqlite = sqlite
        library = load_library()
        self.plans = {rid: [s.to_json() for s in build_plan(library.routines[rid], library)] for rid, _ in ROUTINES}
        self.plan_text = {rid: json.dumps(plan) for rid, plan in self.plans.items()}
        self.zones = [z for z, _ in ZONES]
        self.zone_weights = [w for _, w in ZONES]
        self.routines = [r for r, _ in ROUTINES]
        self.routine_weights = [w for _, w in ROUTINES]
        noon = datetime.combine(today, dtime(12), tzinfo=UTC)
        self.offsets = {z: ZoneInfo(z).utcoffset(noon.replace(tzinfo=None)) or timedelta() for z in self.zones}

    def ts(self, moment: datetime | None) -> Any:
        if moment is None:
            return None
        return moment.isoformat(" ", "microseconds") if self.sqlite else moment.replace(tzinfo=UTC)

    def day(self, value: date | None) -> Any:
        if value is None:
            return None
        return value.isoformat() if self.sqlite else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def reminder_time(self) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return rng.choice(PRESET_TIMES)
        return f"{rng.randint(5, 22):02d}:{rng.choice((0, 15, 30, 45, rng.randint(0, 59))):02d}"

    def chunks(self) -> Iterable[Chunk]:
        for start in range(0, self.spec.people, CHUNK_PEOPLE):
            chunk = Chunk()
            for user_id in person_ids(self.spec.people)[start : start + CHUNK_PEOPLE]:
                self.person(chunk, user_id)
            yield chunk

    def person(self, chunk: Chunk, user_id: int) -> None:
        rng, ts, rows = self.rng, self.ts, chunk.rows
        zone = rng.choices(self.zones, self.zone_weights)[0]
        routine = rng.choices(self.routines, self.routine_weights)[0]
        at = self.reminder_time()
        joined = datetime.combine(self.today, dtime(0)) - timedelta(
            days=self.spec.days + rng.randint(1, 90), seconds=rng.randint(0, 86_399)
        )
        rows["users"].append((user_id, user_id, f"P{user_id % 100_000}", ts(joined), ts(joined), ts(joined)))
        level = "beginner" if rng.random() < 0.7 else rng.choice(("gentle", "intermediate"))
        length = "normal" if rng.random() < 0.8 else rng.choice(("short", "long"))
        rows["preferences"].append(
            (
                user_id,
                zone,
                level,
                length,
                self.flag(True),
                at,
                EVERY_DAY,
                self.flag(False),
                routine,
                None,
                None,
                ts(joined),
            )
        )
        hour, minute = int(at[:2]), int(at[3:])
        offset = self.offsets[zone]
        message_id = 1
        for back in range(self.spec.days, 0, -1):
            local_day = self.today - timedelta(days=back)
            due = datetime.combine(local_day, dtime(hour, minute)) - offset
            roll = rng.random()
            if roll < 0.05:
                self.ids.mark += 1
                kind = "rest" if roll < 0.04 else "flare"
                rows["day_marks"].append((self.ids.mark, user_id, self.day(local_day), kind, ts(due)))
            self.ids.prompt += 1
            message_id += 1
            if rng.random() < 0.03:  # the bot was down past the grace that day
                rows["prompts"].append(
                    (
                        self.ids.prompt,
                        user_id,
                        self.day(local_day),
                        "daily",
                        ts(due),
                        "missed",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        ts(due),
                    )
                )
                continue
            sent = due + timedelta(seconds=rng.randint(1, 120))
            answer = rng.random()
            response = (
                "started" if answer < 0.2 else "skipped" if answer < 0.28 else "snoozed" if answer < 0.32 else None
            )
            rating = rng.randint(1, 8) if rng.random() < 0.5 else None
            rows["prompts"].append(
                (
                    self.ids.prompt,
                    user_id,
                    self.day(local_day),
                    "daily",
                    ts(due),
                    "sent",
                    "bench-seed",
                    ts(due),
                    ts(sent),
                    message_id,
                    response,
                    rating,
                    ts(due),
                )
            )
            if rating is not None:
                self.ids.rating += 1
                rows["pain_ratings"].append(
                    (self.ids.rating, user_id, rating, "prompt", None, ts(sent + timedelta(minutes=2)))
                )
            elif rng.random() < 0.15:
                self.ids.rating += 1
                free_at = sent + timedelta(hours=rng.randint(1, 10))
                rows["pain_ratings"].append((self.ids.rating, user_id, rng.randint(0, 9), "free", None, ts(free_at)))
            if response == "started":
                message_id += self.session(chunk, user_id, routine, sent + timedelta(minutes=rng.randint(1, 10)))

    def session(self, chunk: Chunk, user_id: int, routine: str, started: datetime) -> int:
        """A finished session: before rating, every step's outcome, after rating. Returns messages used."""
        rng, ts, rows = self.rng, self.ts, chunk.rows
        plan = self.plans[routine]
        self.ids.session += 1
        session_id = self.ids.session
        finished = started + timedelta(seconds=30 + 70 * len(plan))
        before = rng.randint(2, 8)
        self.ids.rating += 1
        rows["pain_ratings"].append(
            (self.ids.rating, user_id, before, "before", session_id, ts(started + timedelta(seconds=20)))
        )
        for index, step in enumerate(plan):
            roll = rng.random()
            outcome = "done" if roll < 0.85 else "skipped" if roll < 0.97 else "hurt"
            self.ids.outcome += 1
            rows["step_outcomes"].append(
                (
                    self.ids.outcome,
                    session_id,
                    user_id,
                    index,
                    step["technique_id"],
                    outcome,
                    ts(started + timedelta(seconds=30 + 70 * (index + 1))),
                )
            )
        self.ids.rating += 1
        after = max(0, before - rng.randint(0, 3))
        rows["pain_ratings"].append(
            (self.ids.rating, user_id, after, "after", session_id, ts(finished + timedelta(seconds=10)))
        )
        rows["routine_sessions"].append(
            (
                session_id,
                user_id,
                routine,
                "finished",
                self.flag(False),
                self.plan_text[routine],
                len(plan),
                None,
                ts(started),
                ts(finished),
                ts(finished),
            )
        )
        return len(plan) + 3


# --- loading ------------------------------------------------------------------------------------


def _seed_sqlite(path: Path, spec: SeedSpec, today: date) -> dict[str, int]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        names = tuple(TABLES)
        marks = ",".join("?" * len(names))
        indexes = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            names,
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        counts = dict.fromkeys(TABLES, 0)
        conn.execute("BEGIN")
        for chunk in Generator(spec, today, sqlite=True).chunks():
            for table, rows in chunk.rows.items():
                if rows:
                    columns = TABLES[table]
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})", rows
                    )
                    counts[table] += len(rows)
        conn.execute("COMMIT")
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("PRAGMA journal_mode=WAL")
        return counts
    finally:
        conn.close()


async def _seed_postgres(url: str, spec: SeedSpec, today: date) -> dict[str, int]:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        names = list(TABLES)
        indexes = await conn.fetch(
            """
            SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS sql
            FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
            WHERE c.oid IS NULL AND i.indrelid::regclass::text = ANY($1::text[])
            """,
            names,
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["name"]}"')
        counts = dict.fromkeys(TABLES, 0)
        async with conn.transaction():
            for chunk in Generator(spec, today, sqlite=False).chunks():
                for table, rows in chunk.rows.items():
                    if rows:
                        await conn.copy_records_to_table(table, records=rows, columns=list(TABLES[table]))
                        counts[table] += len(rows)
        for row in indexes:
            await conn.execute(row["sql"])
        for table in names:
            if "id" in TABLES[table] and table != "users":
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                )
        await conn.execute("ANALYZE")
        return counts
    finally:
        await conn.close()


def _forget_stale(current: str) -> None:
    """Cached files of an older schema or day are never used again (each 100,000 people is ~2 GB)."""
    for path in CACHE_DIR.glob("limber-*"):
        if current not in path.name and path.suffix in (".db", ".json"):
            path.unlink(missing_ok=True)


def plain_postgres_url(url: str) -> str:
    """asyncpg wants postgresql:// without a +driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class PreparedDatabase:
    url: str  # for the bot (DATABASE_URL)
    kind: str  # "sqlite" or "postgresql"
    seeded: dict[str, int]  # rows per table
    seed_seconds: float  # 0 when it came from the cache
    cached: bool
    cache: str  # the cached file or template database


@asynccontextmanager
async def prepared_database(
    database_url: str | None, spec: SeedSpec, workdir: Path, *, keep: bool = False
) -> AsyncIterator[PreparedDatabase]:
    """A fresh database for one run, seeded (or copied from the cache). PostgreSQL URLs name the server
    (and a database to connect to); a new database is created on it and dropped afterwards."""
    today = datetime.now(UTC).date()
    key = spec.key(today)
    if database_url is None or database_url.startswith("sqlite"):
        target = workdir / "limber.db"
        if database_url is not None:
            target = Path(make_url(database_url).database or "")
            if target.exists() and target.stat().st_size:
                raise SystemExit(f"{target} exists: give a new file, the benchmark seeds it")
        await asyncio.to_thread(CACHE_DIR.mkdir, parents=True, exist_ok=True)
        cache = CACHE_DIR / f"limber-{key}.db"
        counts_file = cache.with_suffix(".json")
        cached, seconds = cache.exists() and counts_file.exists(), 0.0
        if not cached:
            building = cache.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
            started = time.monotonic()
            db = Database(f"sqlite:///{building}")
            await db.migrate()
            await db.close()
            counts = await asyncio.to_thread(_seed_sqlite, building, spec, today)
            seconds = time.monotonic() - started
            counts_file.write_text(json.dumps(counts))
            building.replace(cache)
            await asyncio.to_thread(_forget_stale, f"-m{schema_hash()}-{today.isoformat()}")
        counts = json.loads(counts_file.read_text())
        await asyncio.to_thread(shutil.copyfile, cache, target)
        yield PreparedDatabase(f"sqlite:///{target}", "sqlite", counts, round(seconds, 1), cached, str(cache))
        return

    admin_url = plain_postgres_url(database_url)
    base = admin_url.rsplit("/", 1)[0]
    template = f"limber_bench_cache_{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", template
        )
        cached, seconds = comment is not None, 0.0
        if not cached:
            building_db = f"{template}_b{uuid.uuid4().hex[:6]}"
            await admin.execute(f'CREATE DATABASE "{building_db}"')
            started = time.monotonic()
            db = Database(f"{base}/{building_db}")
            await db.migrate()
            await db.close()
            counts = await _seed_postgres(f"{base}/{building_db}", spec, today)
            seconds = time.monotonic() - started
            await admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            await admin.execute(f'ALTER DATABASE "{building_db}" RENAME TO "{template}"')
            await admin.execute(f"COMMENT ON DATABASE \"{template}\" IS '{json.dumps(counts)}'")
            comment = json.dumps(counts)
        counts = json.loads(comment)
        name = f"limber_bench_{uuid.uuid4().hex[:12]}"
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    try:
        yield PreparedDatabase(f"{base}/{name}", "postgresql", counts, round(seconds, 1), cached, template)
    finally:
        if not keep:
            admin = await asyncpg.connect(admin_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


# --- the benchmark's own connection ---------------------------------------------------------------


class BenchDb:
    """A connection of the benchmark's own (not the bot's): SQL written with `?` placeholders."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self._lite: sqlite3.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def open(self) -> BenchDb:
        if self.sqlite:
            path = make_url(self.url).database or ""
            self._lite = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        else:
            self._pg = await asyncpg.connect(plain_postgres_url(self.url))
        return self

    async def close(self) -> None:
        if self._lite is not None:
            self._lite.close()
        if self._pg is not None:
            await self._pg.close()

    def ts(self, moment: datetime) -> Any:
        moment = moment.astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else moment

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    @staticmethod
    def _numbered(sql: str) -> str:
        parts = sql.split("?")
        return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self._lite is not None:
            lite = self._lite
            return await asyncio.to_thread(lambda: lite.execute(sql, args).fetchall())
        assert self._pg is not None
        return [tuple(r) for r in await self._pg.fetch(self._numbered(sql), *args)]

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._lite is not None:
            lite = self._lite

            def run() -> None:
                lite.execute("BEGIN IMMEDIATE")
                try:
                    lite.executemany(sql, rows)
                except BaseException:
                    lite.execute("ROLLBACK")
                    raise
                lite.execute("COMMIT")

            await asyncio.to_thread(run)
            return
        assert self._pg is not None
        async with self._pg.transaction():
            await self._pg.executemany(self._numbered(sql), rows)


async def set_schedules(
    db: BenchDb, user_ids: Sequence[int] | None, *, due: datetime | None = None, after: datetime | None = None
) -> int:
    """Next prompt times, as the bot would set them. `due`: these people are due at that instant (their
    reminder time becomes its local time); `after`: each one's next reminder time after that moment."""
    rows = await db.fetch("SELECT user_id, timezone, reminder_time FROM preferences WHERE reminders_on")
    wanted = None if user_ids is None else set(user_ids)
    zones: dict[str, ZoneInfo] = {}
    updates: list[tuple[Any, ...]] = []
    for user_id, zone_name, at_text in rows:
        if wanted is not None and user_id not in wanted:
            continue
        zone = zones.setdefault(zone_name, ZoneInfo(zone_name))
        if due is not None:
            local = due.astimezone(zone)
            updates.append((db.ts(due), db.day(local.date()), f"{local:%H:%M}", user_id))
            continue
        assert after is not None
        at = dtime(int(at_text[:2]), int(at_text[3:]))
        day, next_at = next_due(at=at, days=EVERY_DAY, tz=zone, after_day=None, now=after)
        updates.append((db.ts(next_at), db.day(day), at_text, user_id))
    await db.executemany(
        "UPDATE preferences SET next_prompt_at = ?, next_prompt_date = ?, reminder_time = ? WHERE user_id = ?",
        updates,
    )
    return len(updates)


def describe_seed(spec: SeedSpec, prepared: PreparedDatabase) -> str:
    counts = ", ".join(f"{table} {n:,}" for table, n in prepared.seeded.items() if n)
    origin = f"cached ({prepared.cache})" if prepared.cached else f"seeded in {prepared.seed_seconds} s"
    return f"{spec.people:,} people, {spec.days} days of history: {counts}; {origin}"
