"""A database that is briefly unavailable: updates wait and are retried, none is dropped or doubled.

End to end through the emulator with the real Application: SQLite locked by another writer, and
PostgreSQL reached through a TCP proxy that the test cuts (every connection dropped, new ones
refused) and restores, as a server restart looks to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from bot import records
from bot.dbretry import wrap_handlers
from storage import repo
from storage.models import HandledUpdate, RoutineSession, StepOutcome
from testkit.crash import limber_process
from testkit.databases import fresh_postgres, postgres_available
from tests.factories import WEBHOOK, BotProcess, FakeClock, Person, emulator_process


class CuttableProxy:
    """A TCP proxy to a database server that can drop every connection and refuse new ones, or go
    silent (`blackhole`): connections are accepted and bytes taken, but nothing passes either way, as
    when a network path or a firewall drops packets. Connections silenced stay silent after `restore`
    (their bytes are gone); new ones pass again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # chosen by the system on the first start, kept on restore
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._silent = False
        self._silenced: set[asyncio.StreamWriter] = set()  # links whose bytes are dropped from now on

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening (connecting is refused) and drop every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in self._links:
            writer.transport.abort()
        self._links.clear()
        if server is not None:
            await server.wait_closed()

    async def blackhole(self) -> None:
        """Go silent: nothing passes on open connections, and new ones are accepted and ignored."""
        await self.start()
        self._silent = True
        self._silenced |= self._links

    async def restore(self) -> None:
        self._silent = False
        await self.start()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._silent:
            self._links.add(client_writer)
            self._silenced.add(client_writer)
            try:
                with contextlib.suppress(OSError):
                    while await client_reader.read(65536):
                        pass
            finally:
                self._links.discard(client_writer)
                client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self._links |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer, client_writer),
            self._pipe(server_reader, client_writer, server_writer),
        )
        self._links -= {client_writer, server_writer}
        self._silenced -= {client_writer, server_writer}

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await reader.read(65536):
                if source in self._silenced or writer in self._silenced:
                    continue  # dropped on the floor
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()  # one side gone: the other goes too, as with a dead server


def retries(caplog: pytest.LogCaptureFixture, handler: str = "") -> list[str]:
    """The retries logged so far (of one handler's callback, if given)."""
    return [m for r in caplog.records if r.name == "bot.dbretry" and f" in {handler}" in (m := r.getMessage())]


async def retries_logged(
    caplog: pytest.LogCaptureFixture, count: int, handler: str = "", timeout: float = 10.0
) -> None:
    """Wait until the retry wrapper has logged `count` retries."""
    try:
        async with asyncio.timeout(timeout):
            while len(retries(caplog, handler)) < count:
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(
            f"not {count} retries of {handler or 'any handler'} in {timeout} s: {retries(caplog)}"
        ) from None


async def settled(bot: BotProcess, user_id: int, message_id: int, timeout: float = 10.0) -> None:
    """Wait until the bot has recorded `message_id` as the session's live message.

    The step message is sent before its id is committed; cutting the database in between is
    another case (tests/test_stretch.py: the newest buttons work while their id is not stored).
    """
    async with asyncio.timeout(timeout):
        while True:
            async with bot.services.db.transaction() as db:
                session = await repo.open_session(db, user_id=user_id)
            if session is not None and session.message_id == message_id:
                return
            await asyncio.sleep(0.02)


async def all_handled(bot: BotProcess, timeout: float = 10.0) -> None:
    """Wait until every update taken so far is marked handled (that is written after the replies)."""
    async with asyncio.timeout(timeout):
        while True:
            async with bot.services.db.transaction() as db:
                working = await db.execute(select(HandledUpdate).where(col(HandledUpdate.status) != "done"))
                if working.first() is None:
                    return
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def write_locked(path: Path) -> Iterator[threading.Event]:
    """Another connection holds SQLite's write lock until the yielded event is set."""
    locked, release, failed = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                conn.execute("BEGIN EXCLUSIVE")
                locked.set()
                release.wait(30)
                conn.execute("COMMIT")
            finally:
                conn.close()
        except Exception as exc:  # surfaced in the test, not lost in the thread
            failed.append(exc)
            locked.set()

    thread = threading.Thread(target=hold, name="sqlite-lock")
    thread.start()
    try:
        assert locked.wait(10) and not failed, failed
        yield release
    finally:
        release.set()
        thread.join(10)
    assert not failed, failed


async def test_a_rating_typed_while_sqlite_is_locked_is_saved_once_after_the_lock(
    api_url: str, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.dbretry")
    path = tmp_path / "limber.db"
    # The bot's writes wait 1 s for a lock, then the update is retried: the lock outlasts that.
    process = BotProcess(api_url, f"sqlite:///{path}?timeout=1", clock)
    await process.start()
    assert process.app is not None
    wrap_handlers(process.app)  # a no-op once bot.app wires it in
    person = Person(api_url)
    try:
        async with process.services.db.transaction() as db:
            assert (await db.execute(text("PRAGMA busy_timeout"))).scalar() == 1000
        await person.join()
        await all_handled(process)
        with write_locked(path) as release:
            await person.send("4")
            # The bot waited out its busy timeout (taking the update is its first write), and will try again.
            await retries_logged(caplog, 1, handler="claim_update")
            assert not [m for m in await person.messages() if "Noted" in (m.get("text") or "")]
            release.set()
            await person.expect("Noted: pain 4/10")
        async with process.services.db.transaction() as db:
            assert [(r.value, r.context) for r in await repo.ratings_for(db, user_id=person.user_id)] == [(4, "free")]
        assert "database is locked" in retries(caplog, "claim_update")[0]
        assert not [m for m in await person.messages() if "went wrong" in (m.get("text") or "")]
    finally:
        await person.close()
        await process.stop()


@pytest.fixture
async def proxied_postgres() -> AsyncIterator[tuple[CuttableProxy, str]]:
    """A fresh PostgreSQL database, and its URL through a proxy the test can cut."""
    reason = await postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL outage test needs a server: {reason}")
    async with fresh_postgres() as url:
        direct = make_url(url)
        proxy = CuttableProxy(direct.host or "127.0.0.1", direct.port or 5432)
        await proxy.start()
        try:
            yield proxy, direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        finally:
            await proxy.cut()


async def test_a_press_and_a_rating_during_a_postgres_outage_are_processed_once_after_it(
    api_url: str, clock: FakeClock, proxied_postgres: tuple[CuttableProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.dbretry")
    proxy, url = proxied_postgres
    process = BotProcess(api_url, url, clock)
    await process.start()
    assert process.app is not None
    wrap_handlers(process.app)  # a no-op once bot.app wires it in
    person = Person(api_url)
    try:
        await person.join()
        await person.send("/stretch quick")
        await person.expect("how is your pain right now")
        await person.press("6")
        step = await person.expect("Step 1 of")
        match = re.search(r"Step 1 of (\d+)", step["message"]["text"])
        assert match is not None
        count = int(match.group(1))
        for index in range(1, count):
            await person.press("Done", step["message"])
            step = await person.expect(f"Step {index + 1} of {count}")
        await settled(process, person.user_id, step["message"]["message_id"])
        await all_handled(process)

        await proxy.cut()
        await person.press("Done", step["message"])
        await person.send("4")
        await retries_logged(caplog, 3)  # about 1.5 s of refused connections, retried
        assert retries(caplog) == retries(caplog, "claim_update")  # the press is the update waiting
        assert not [m for m in await person.messages() if "How is your pain now" in (m.get("text") or "")]
        await proxy.restore()

        await person.expect_answer()
        await person.expect("How is your pain now")
        await person.expect("Pain after: 4/10", kind="edit")
        summary = (await person.expect("Summary"))["message"]["text"]
        assert f"{count} of {count} steps done" in summary and "6 → 4" in summary

        async with process.services.db.transaction() as db:
            outcomes = (
                await db.execute(select(StepOutcome).where(col(StepOutcome.user_id) == person.user_id))
            ).scalars()
            assert sorted((o.step_index, o.outcome) for o in outcomes) == [(i, "done") for i in range(count)]
            ratings = [(r.value, r.context) for r in await repo.ratings_for(db, user_id=person.user_id)]
            assert ratings == [(6, "before"), (4, "after")]
            (session,) = (
                await db.execute(select(RoutineSession).where(col(RoutineSession.user_id) == person.user_id))
            ).scalars()
            assert session.status == "finished" and not session.stopped
        assert not [m for m in await person.messages() if "went wrong" in (m.get("text") or "")]
    finally:
        await proxy.restore()  # so a failing test does not leave the bot retrying while it stops
        await person.close()
        await process.stop()


async def test_a_retry_after_a_typed_rating_was_committed_does_not_store_it_again(
    bot: BotProcess, person: Person, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database blinks after the "before" rating is committed: the re-run finds it, and stores no
    "during" rating from the same message."""
    caplog.set_level(logging.WARNING, logger="bot.dbretry")
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    load, blinks = records.load, [1]

    async def blinking(*args: object, **kwargs: object) -> object:
        if blinks:
            blinks.pop()
            raise OperationalError("SELECT", {}, ConnectionResetError("connection reset by peer"))
        return await load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "load", blinking)
    await person.send("it's a 6")
    await person.expect("Step 1 of")
    await retries_logged(caplog, 1, handler="typed_rating")
    await person.send("/help")
    await person.expect("What I can do")
    async with bot.services.db.transaction() as db:
        ratings = [(r.value, r.context) for r in await repo.ratings_for(db, user_id=person.user_id)]
    assert ratings == [(6, "before")]
    assert not [m for m in await person.messages() if "Noted" in (m.get("text") or "")]
    assert len([m for m in await person.messages() if "Step 1 of" in (m.get("text") or "")]) == 1


# Short database timeouts, so a silent outage shows in a second rather than the default 15 s.
QUICK: dict[str, Any] = {
    "database_connect_timeout_seconds": 1.0,
    "database_statement_timeout_seconds": 1.0,
    "database_pool_timeout_seconds": 1.0,
}


async def stop_within(process: BotProcess, seconds: float) -> None:
    """Stop the bot, failing (not hanging) when a handler is stuck on the database for good."""
    try:
        await asyncio.wait_for(process.stop(), seconds)
    except TimeoutError:
        raise AssertionError(f"the bot did not stop within {seconds} s") from None


async def test_a_silent_postgres_outage_is_waited_out_and_the_bot_answers_soon_after(
    api_url: str, clock: FakeClock, proxied_postgres: tuple[CuttableProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Packets dropped, nothing refused: without timeouts the bot hung for good on the stuck connections."""
    caplog.set_level(logging.WARNING, logger="bot.dbretry")
    proxy, url = proxied_postgres
    process = BotProcess(api_url, url, clock, **QUICK)
    await process.start()
    person = Person(api_url)
    try:
        await person.join()
        await all_handled(process)
        await proxy.blackhole()
        await person.send("4")
        await retries_logged(caplog, 2)  # a timeout is a transient error: dbretry waits it out
        await proxy.restore()
        restored = asyncio.get_running_loop().time()
        await person.expect("Noted: pain 4/10", timeout=15)
        await person.send("/help")
        await person.expect("What I can do", timeout=10)
        assert asyncio.get_running_loop().time() - restored < 10
        async with process.services.db.transaction() as db:
            assert [r.value for r in await repo.ratings_for(db, user_id=person.user_id)] == [4]
        assert not [m for m in await person.messages() if "went wrong" in (m.get("text") or "")]
    finally:
        await proxy.restore()
        await person.close()
        await stop_within(process, 10)


async def test_an_outage_longer_than_the_retries_gets_an_apology_and_the_bot_comes_back(
    api_url: str,
    clock: FakeClock,
    proxied_postgres: tuple[CuttableProxy, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot import dbretry

    monkeypatch.setattr(dbretry, "BUDGET", 3.0)  # 60 s in production
    caplog.set_level(logging.WARNING, logger="bot.dbretry")
    proxy, url = proxied_postgres
    process = BotProcess(api_url, url, clock, **QUICK)
    await process.start()
    person = Person(api_url)
    try:
        await person.join()
        await all_handled(process)
        await proxy.blackhole()
        await person.send("4")
        await person.expect("Sorry, something went wrong", timeout=20)
        await proxy.restore()
        await person.send("5")
        await person.expect("Noted: pain 5/10", timeout=10)
        async with process.services.db.transaction() as db:
            assert [r.value for r in await repo.ratings_for(db, user_id=person.user_id)] == [5]
    finally:
        await proxy.restore()
        await person.close()
        await stop_within(process, 10)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_sigterm_during_a_silent_outage_exits_within_ten_seconds(
    tmp_path: Path, proxied_postgres: tuple[CuttableProxy, str], mode: str
) -> None:
    """`limber run` with an update stuck on the database: a deploy's SIGTERM still stops it promptly."""
    from tests.test_workers import listening_on

    proxy, url = proxied_postgres
    async with emulator_process(tmp_path / "files") as api:
        bot = limber_process(api, url)
        if mode == "webhook":
            bot.env |= {f"WEBHOOK_{k.removeprefix('webhook_').upper()}": str(v) for k, v in WEBHOOK.items()}
        person = Person(api, 7001)
        try:
            await bot.start()
            if mode == "webhook":
                await person.client.route_webhook([await listening_on(bot)])
            await person.join()
            await proxy.blackhole()
            await person.send("pain 4")
            await asyncio.sleep(1.0)  # the update is taken and waits on the database
            started = asyncio.get_running_loop().time()
            assert await bot.terminate(timeout=30) == 0
            assert asyncio.get_running_loop().time() - started < 10, "".join(bot.lines)
            log = "".join(bot.lines)
            assert "Traceback" not in log, log
        finally:
            await proxy.restore()
            if bot.running:
                await bot.kill()
            await person.close()
