"""Webhook mode: the secret header, the health check, update ids handled once, one worker end to end."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlmodel import col
from telegram import Update

from bot.config import Settings
from bot.conversation import resume_countdowns
from bot.logs import setup_logging
from emulator import EmulatorClient
from storage import repo
from storage.models import HandledUpdate, PainRating
from tests.factories import TOKEN, WEBHOOK, WEBHOOK_SECRET, BotProcess, FakeClock, Person, labels
from tests.test_stretch import begin

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def worker(api_url: str, database_url: str, clock: FakeClock) -> AsyncIterator[BotProcess]:
    """One webhook worker, with the emulator's webhook routed to it."""
    process = BotProcess(api_url, database_url, clock, **WEBHOOK)
    await process.start()
    async with EmulatorClient(api_url, TOKEN) as telegram:
        await telegram.route_webhook([process.webhook_target])
    yield process
    await process.stop()


async def delivered(telegram: EmulatorClient) -> None:
    """Wait until every update was answered 2xx (a worker answers the post after its replies)."""
    async with asyncio.timeout(10):
        while (await telegram.state())["pending_updates"]:
            await asyncio.sleep(0.02)


def update_json(update_id: int, user_id: int, text: str) -> dict:
    chat = {"id": user_id, "type": "private", "first_name": "Ana"}
    sender = {"id": user_id, "is_bot": False, "first_name": "Ana"}
    message = {"message_id": update_id % 100000, "date": 1_790_000_000, "chat": chat, "from": sender, "text": text}
    return {"update_id": update_id, "message": message}


async def ratings_of(bot: BotProcess, user_id: int) -> list[int]:
    async with bot.services.db.transaction() as db:
        return [r.value for r in await repo.ratings_for(db, user_id=user_id)]


async def test_worker_registers_its_webhook_with_the_secret(worker: BotProcess, api_url: str) -> None:
    async with EmulatorClient(api_url, TOKEN) as telegram:
        calls = await telegram.calls("setWebhook")
    params = calls[-1]["params"]
    assert params["url"] == WEBHOOK["webhook_url"]
    assert params["secret_token"] == WEBHOOK_SECRET


async def test_a_person_talks_to_the_bot_through_the_webhook(worker: BotProcess, api_url: str) -> None:
    person = Person(api_url)
    try:
        await person.join()
        step = await begin(person, "hips")
        await person.press("Done", step["message"])
        await person.expect("Step 2 of")
    finally:
        await person.close()
    async with EmulatorClient(api_url, TOKEN) as telegram:
        await delivered(telegram)
        stats = await telegram.stats()
    assert stats["webhook_delivered"] == stats["webhook_posts"] == 4  # /start, /stretch, 6, Done


async def test_posts_without_the_right_secret_are_refused(worker: BotProcess) -> None:
    body = update_json(900_000_001, 5151, "pain 4")
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong-secret-0123456789"}, {SECRET_HEADER: WEBHOOK_SECRET + "x"}):
            async with http.post(worker.webhook_target, json=body, headers=headers) as response:
                assert response.status == 403
        async with http.post(worker.webhook_target, data=b"{not json", headers={SECRET_HEADER: WEBHOOK_SECRET}) as r:
            assert r.status == 400
        async with http.post(worker.webhook_target, json=[1, 2], headers={SECRET_HEADER: WEBHOOK_SECRET}) as r:
            assert r.status == 400
    assert await ratings_of(worker, 5151) == []


async def test_health_endpoint_answers_while_the_database_does(worker: BotProcess) -> None:
    url = worker.webhook_target.rsplit("/telegram", 1)[0] + "/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        body = await response.json()
    assert body["ok"] is True and body["instance"] == worker.services.instance
    await worker.services.db.engine.dispose()
    worker.services.db.url = "sqlite+aiosqlite:////nonexistent/dir/limber.db"
    broken = type(worker.services.db)(worker.services.db.url)
    real, worker.services.db = worker.services.db, broken
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 503
            assert "database" in (await response.json())["error"]
    finally:
        worker.services.db = real
        await broken.close()


async def test_the_same_update_posted_twice_at_once_is_handled_once(worker: BotProcess, api_url: str) -> None:
    await (await Person(api_url, user_id=5252).join()).close()  # the chat exists on Telegram's side
    body = update_json(900_000_002, 5252, "pain 4/10")
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    async with aiohttp.ClientSession() as http:

        async def post() -> int:
            async with http.post(worker.webhook_target, json=body, headers=headers) as response:
                return response.status

        statuses = await asyncio.gather(post(), post(), post())
        assert statuses.count(200) == 3  # the same person's posts wait their turn in one worker
        assert await post() == 200  # a late re-delivery
    assert await ratings_of(worker, 5252) == [4]
    async with EmulatorClient(api_url, TOKEN) as telegram:
        answers = [m for m in await telegram.messages(5252) if "Noted: pain 4/10" in m["text"]]
    assert len(answers) == 1


async def test_telegram_redelivering_to_the_worker_changes_nothing(worker: BotProcess, api_url: str) -> None:
    person = Person(api_url)
    try:
        async with EmulatorClient(api_url, TOKEN) as telegram:
            await telegram.redeliver(3)
        await person.send("pain 5")
        await person.expect("Noted: pain 5/10")
        await person.send("pain 6")
        await person.expect("Noted: pain 6/10")
        await person.settled()
        texts = [m["text"] for m in await person.messages()]
    finally:
        await person.close()
    assert sum("Noted: pain" in t for t in texts) == 2
    assert await ratings_of(worker, person.user_id) == [5, 6]


async def test_a_worker_that_died_mid_update_leaves_it_to_be_taken_over(worker: BotProcess, clock: FakeClock) -> None:
    svc = worker.services
    now = clock.now()
    async with svc.db.transaction() as db:
        assert await repo.claim_update(db, update_id=7, owner="dead", now=now, stale_before=now) == "new"
        assert await repo.claim_update(db, update_id=7, owner="me", now=now, stale_before=now) == "busy"
    await clock.advance(200)
    later = clock.now()
    async with svc.db.transaction() as db:
        stale = later - (later - now) / 2
        assert await repo.claim_update(db, update_id=7, owner="me", now=later, stale_before=stale) == "new"
        await repo.finish_update(db, update_id=7, owner="me")
        assert await repo.claim_update(db, update_id=7, owner="other", now=later, stale_before=later) == "done"


async def test_a_replayed_update_is_dropped_in_polling_mode_too(bot: BotProcess, api_url: str) -> None:
    """A poller killed before confirming an update gets it again from getUpdates; handled once all the same."""
    person = Person(api_url)
    try:
        await person.join()
        assert bot.app is not None
        update = Update.de_json(update_json(900_000_003, person.user_id, "3"), bot.app.bot)
        for _ in range(2):
            await bot.app.update_queue.put(update)  # where the poller puts what getUpdates returned
        await person.expect("Noted: pain 3/10")
        await person.settled()
        answers = [m for m in await person.messages() if "Noted: pain 3/10" in m["text"]]
    finally:
        await person.close()
    assert len(answers) == 1
    assert await ratings_of(bot, person.user_id) == [3]
    async with bot.services.db.transaction() as db:
        rows = (
            await db.execute(select(col(HandledUpdate.status)).where(col(HandledUpdate.update_id) == 900_000_003))
        ).all()
    assert [r[0] for r in rows] == ["done"]


async def test_old_handled_updates_are_forgotten(bot: BotProcess, clock: FakeClock) -> None:
    from bot.updates import housekeeping

    svc = bot.services
    async with svc.db.transaction() as db:
        await repo.claim_update(db, update_id=1, owner="x", now=clock.now(), stale_before=clock.now())
    await clock.advance(3 * 24 * 3600)
    async with svc.db.transaction() as db:
        await repo.claim_update(db, update_id=2, owner="x", now=clock.now(), stale_before=clock.now())
    await housekeeping(svc)
    async with svc.db.transaction() as db:
        ids = (await db.execute(select(col(HandledUpdate.update_id)))).scalars().all()
    assert list(ids) == [2]


def test_webhook_settings_need_https_and_a_proper_secret() -> None:
    base: dict[str, Any] = {"_env_file": None, "webhook_url": "https://limber.example/hook"}
    with pytest.raises(ValueError, match="https"):
        Settings(**{**base, "webhook_url": "http://limber.example/hook", "webhook_secret": WEBHOOK_SECRET})
    for secret in (None, "short", "has spaces in it, sixteen+", "x" * 257):
        with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
            Settings(**base, webhook_secret=secret)
    assert Settings(**base, webhook_secret=WEBHOOK_SECRET).webhook


def test_settings_errors_never_echo_the_secrets() -> None:
    with pytest.raises(ValueError) as caught:
        Settings(_env_file=None, telegram_bot_token="1:SECRETTOKENxyz", webhook_url="https://x/y", webhook_secret="no!")
    assert "SECRETTOKEN" not in str(caught.value) and "no!" not in str(caught.value)


async def test_the_webhook_secret_never_reaches_a_log(api_url: str, database_url: str) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    process = BotProcess(api_url, database_url, FakeClock(), **WEBHOOK)
    setup_logging("DEBUG", process.settings.secrets(), stream=stream)  # as `limber run` does
    person = Person(api_url)
    try:
        await process.start()  # setWebhook, which python-telegram-bot logs with its parameters
        async with EmulatorClient(api_url, TOKEN) as telegram:
            await telegram.route_webhook([process.webhook_target])
        await person.send("pain 2")
        await person.expect("Noted: pain 2/10")
    finally:
        await person.close()
        await process.stop()
        root.handlers[:], level = saved
        root.setLevel(level)
    logged = stream.getvalue()
    assert "setWebhook" in logged and "[redacted]" in logged
    assert WEBHOOK_SECRET not in logged and TOKEN not in logged


async def test_count_of_handled_updates_matches_what_people_sent(worker: BotProcess, api_url: str) -> None:
    person = Person(api_url)
    try:
        await person.join()
        await person.send("pain 7")
        await person.expect("Noted: pain 7/10")
    finally:
        await person.close()
    async with worker.services.db.transaction() as db:
        done = (await db.execute(select(func.count()).select_from(HandledUpdate))).scalar_one()
        ratings = (await db.execute(select(func.count()).select_from(PainRating))).scalar_one()
    assert done == 2 and ratings == 1


@pytest.fixture
async def two_workers(api_url: str, database_url: str, clock: FakeClock) -> AsyncIterator[list[BotProcess]]:
    """Two webhook workers on one database; Telegram's posts alternate between them."""
    workers = [BotProcess(api_url, database_url, clock, **WEBHOOK) for _ in range(2)]
    for process in workers:
        await process.start()
    async with EmulatorClient(api_url, TOKEN) as telegram:
        await telegram.route_webhook([w.webhook_target for w in workers])
    yield workers
    for process in workers:
        await process.stop()


async def test_a_conversation_spread_over_two_workers_keeps_its_state(
    two_workers: list[BotProcess], api_url: str
) -> None:
    """Every update lands on the other worker than the one before: /reminders' typed time and /delete's
    one-time code must come from the database."""
    person = Person(api_url)
    try:
        await person.join()
        await person.send("/reminders")
        menu = await person.expect("Daily prompts")
        await person.press("Other time", menu["message"])
        await person.expect("What time should I send")
        await person.send("7:30")
        await person.expect("Next prompt")
        await person.send("/delete")
        ask = await person.expect("Delete everything")
        await person.press("Yes, continue", ask["message"])
        confirm = await person.expect("cannot be undone", kind="edit")
        await person.press("Erase everything", confirm["message"])
        await person.expect("has been erased", kind="edit")
    finally:
        await person.close()
    async with two_workers[0].services.db.transaction() as db:
        handled_by = set((await db.execute(select(col(HandledUpdate.owner)))).scalars())
    assert handled_by == {w.services.instance for w in two_workers}


async def test_a_dead_workers_countdown_is_adopted_by_another(
    two_workers: list[BotProcess], api_url: str, clock: FakeClock
) -> None:
    first, second = two_workers
    person = Person(api_url)
    try:
        step = await begin(person, "quick")
        while "▶ Start timer" not in labels(step["message"]):
            await person.press("Done", step["message"])
            step = await person.expect("Step")
        await person.press("Start timer", step["message"])
        await person.expect("s left", kind="edit")
        owners = [w for w in two_workers if w.services.timers.running(await open_session_id(w, person.user_id))]
        assert len(owners) == 1
        editor = owners[0]
        other = second if editor is first else first
        # While the editor beats, nobody else takes the countdown.
        assert other.app is not None
        assert await resume_countdowns(other.app.bot, other.services) == 0
        await editor.stop()  # gone: no more beats
        await clock.advance(3 * other.settings.timer_tick_seconds + 1)
        assert await resume_countdowns(other.app.bot, other.services) == 1
        resumed = await person.expect("s left", kind="edit")
        assert resumed["message"]["message_id"] == step["message"]["message_id"]
    finally:
        await person.close()


async def open_session_id(worker: BotProcess, user_id: int) -> int:
    async with worker.services.db.transaction() as db:
        session = await repo.open_session(db, user_id=user_id)
    assert session is not None and session.id is not None
    return session.id


@pytest.mark.parametrize("claim", ["taken over", "never made"])
@pytest.mark.parametrize("during", [False, True])
async def test_a_typed_rating_run_twice_is_stored_once_and_noted_the_same(
    worker: BotProcess, api_url: str, clock: FakeClock, claim: str, during: bool
) -> None:
    """A worker died after committing the rating (its claim is taken over once stale), or handled it
    without a claim while the database was down (Telegram's re-post reaches another worker)."""
    person = Person(api_url, user_id=5353)
    try:
        await person.join()
        if during:
            step = await begin(person, "quick")
            assert "Step 1 of" in step["message"]["text"]
        body = update_json(900_000_004, person.user_id, "pain 4/10")
        headers = {SECRET_HEADER: WEBHOOK_SECRET}
        async with aiohttp.ClientSession() as http:
            async with http.post(worker.webhook_target, json=body, headers=headers) as response:
                assert response.status == 200
            async with worker.services.db.transaction() as db:
                row = await db.get(HandledUpdate, 900_000_004)
                assert row is not None
                if claim == "taken over":
                    row.status, row.owner = "working", "dead"
                else:
                    await db.delete(row)
            await clock.advance(200)
            async with http.post(worker.webhook_target, json=body, headers=headers) as response:
                assert response.status == 200
        noted = [m["text"] for m in await person.messages() if "Noted: pain" in m["text"]]
    finally:
        await person.close()
    where = " during your routine" if during else ""
    assert noted == [f"Noted: pain 4/10{where}. Thank you."] * 2
    async with worker.services.db.transaction() as db:
        ratings = [(r.value, r.context) for r in await repo.ratings_for(db, user_id=5353) if r.context != "before"]
    assert ratings == [(4, "during" if during else "free")]


async def test_slow_clients_are_dropped_and_a_real_post_still_gets_through(
    api_url: str, database_url: str, clock: FakeClock
) -> None:
    """Connections that send half a request head (or a trickle of a body) and wait tie up nothing for long."""
    process = BotProcess(
        api_url,
        database_url,
        clock,
        **WEBHOOK,
        webhook_header_timeout_seconds=1.0,
        webhook_body_timeout_seconds=1.0,
        webhook_max_open_connections=20,
    )
    await process.start()
    assert process.webhook is not None and process.webhook.port is not None
    slow: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for n in range(60):
            reader, writer = await asyncio.open_connection("127.0.0.1", process.webhook.port)
            writer.write(b"POST /telegram/hook HTTP/1.1\r\nHost: limber.example\r\n")
            if n % 10 == 0:  # a whole head (a body without the secret is never read), then a trickle
                writer.write(f"Content-Length: 500\r\n{SECRET_HEADER}: {WEBHOOK_SECRET}\r\n\r\n{{".encode())
            await writer.drain()
            slow.append((reader, writer))
        async with EmulatorClient(api_url, TOKEN) as telegram:
            await telegram.route_webhook([process.webhook_target])
        await (await Person(api_url, user_id=5454).join()).close()  # the chat exists on Telegram's side
        async with aiohttp.ClientSession() as http:
            body = update_json(900_000_005, 5454, "pain 4/10")
            async with asyncio.timeout(5):
                async with http.post(
                    process.webhook_target, json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
                ) as response:
                    assert response.status == 200
        assert await ratings_of(process, 5454) == [4]
        runner = process.webhook._runner
        assert runner is not None and runner.server is not None
        assert len([h for h in runner.server.connections if h.transport is not None]) <= 20
        # Every slow connection is closed by the worker within the timeouts (a trickling body gets 408).
        for n, (reader, _) in enumerate(slow):
            try:
                answer = await asyncio.wait_for(reader.read(), 5)
            except TimeoutError:
                raise AssertionError(f"slow connection {n} still open") from None
            assert answer == b"" or (n % 10 == 0 and answer.startswith(b"HTTP/1.1 408")), answer[:80]
    finally:
        for _, writer in slow:
            writer.transport.abort()
        await process.stop()


def test_accept_failures_are_logged_at_a_bounded_rate(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import webhook
    from bot.logs import LogBudget

    caplog.set_level(logging.WARNING, logger="bot.webhook")
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, **WEBHOOK)
    server = webhook.WebhookServer(object(), settings)  # type: ignore[arg-type]
    monkeypatch.setattr(webhook, "ACCEPT_LOG", LogBudget(limit=5, window=60))
    loop = asyncio.new_event_loop()
    try:
        context = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many open files")}
        for _ in range(4800):
            server._loop_exception(loop, context)
    finally:
        loop.close()
    assert len([r for r in caplog.records if r.name == "bot.webhook"]) == 5
