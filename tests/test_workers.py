"""Two webhook workers and two prompt clocks on one PostgreSQL database: nothing doubled, nothing lost.

Real `limber run` processes (as the Procfile runs them) sit behind the emulator, which posts each
update to both workers at the same moment (Telegram re-sending it), so the two race for every update,
and half the people double-tap.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from bot import dbretry, views
from content import load_library
from emulator import Emulator, EmulatorClient
from storage.db import Database
from storage.models import HandledUpdate
from testkit.crash import limber_process, prompt_problems, schedule_prompts, snapshot
from testkit.databases import fresh_postgres, postgres_available
from testkit.processes import LimberProcess
from tests.factories import JSON, TOKEN, WEBHOOK, Person
from tests.test_db_outage import CuttableProxy

ROUTINE = "hips"
STEPS = len(load_library().routines[ROUTINE].techniques)
RUNNERS = 10  # people running a whole routine
PROMPTED = 40  # people who only get a daily prompt
LISTENING = re.compile(r"webhook worker listening on [\d.]+:(\d+)")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    reason = await postgres_available()
    if reason:
        pytest.skip(f"several workers need PostgreSQL: {reason}")
    async with fresh_postgres() as url:
        yield url


async def start_worker(api_url: str, database_url: str, role: str) -> LimberProcess:
    process = limber_process(api_url, database_url)
    process.env |= {
        "ROLE": role,
        "WEBHOOK_URL": WEBHOOK["webhook_url"],
        "WEBHOOK_SECRET": WEBHOOK["webhook_secret"],
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": "0",
    }
    await process.start()
    return process


async def listening_on(process: LimberProcess) -> str:
    async with asyncio.timeout(20):
        while True:
            for line in process.lines:
                if found := LISTENING.search(line):
                    return f"http://127.0.0.1:{found.group(1)}/telegram/hook"
            await asyncio.sleep(0.05)


async def run_routine(person: Person, index: int) -> None:
    """A whole routine; every other person double-taps (the second tap must find the step moved on)."""
    taps = 2 if index % 2 == 0 else 1
    await person.join()
    await person.send(f"/stretch {ROUTINE}")
    await person.expect("how is your pain right now", timeout=30)
    await person.press("6")
    step = await person.expect("Step 1 of", timeout=30)
    for n in range(STEPS):
        mark = person.client.cursor  # the answer may come before the second tap is even sent
        await asyncio.gather(*[person.press("Done", step["message"]) for _ in range(taps)])
        step = await message_after(person, mark, f"Step {n + 2} of" if n + 1 < STEPS else "last step")
    mark = person.client.cursor
    await asyncio.gather(*[person.press("3", step["message"]) for _ in range(taps)])
    await message_after(person, mark, "Summary")
    await person.send("pain 2")
    await person.expect("Noted: pain 2/10", timeout=30)


async def message_after(person: Person, mark: int, contains: str) -> JSON:
    def matches(event: JSON) -> bool:
        text = (event.get("message") or {}).get("text") or ""
        return event["type"] == "message" and event.get("chat_id") == person.user_id and contains in text

    return await person.client.wait_for(matches, after=mark, timeout=30)


async def test_two_workers_and_two_clocks_double_nothing_and_lose_nothing(postgres_url: str) -> None:
    async with AsyncExitStack() as stack:
        emulator = Emulator()
        api_url = await emulator.start()
        stack.push_async_callback(emulator.stop)
        processes: list[LimberProcess] = []

        async def stop_all() -> None:
            for process in processes:
                if process.running:
                    await process.terminate()

        stack.push_async_callback(stop_all)
        for role in ("updates", "updates", "clock", "clock"):
            processes.append(await start_worker(api_url, postgres_url, role))
        targets = [await listening_on(p) for p in processes[:2]]
        telegram = await stack.enter_async_context(EmulatorClient(api_url, TOKEN))
        # Unordered: a chat's next update does not wait for the answer to its previous one, so a tap can
        # reach one worker before the other has stored the id of the message it is on (it counts all the
        # same: a press for the current step is taken while no id is stored).
        await telegram.route_webhook(targets, ordered=False)
        await telegram.redeliver(1_000_000)  # every update goes to both workers at once

        runners = [Person(api_url) for _ in range(RUNNERS)]
        prompted = [Person(api_url) for _ in range(PROMPTED)]
        for person in runners + prompted:
            stack.push_async_callback(person.close)
        await asyncio.gather(*(p.join() for p in prompted))
        now = datetime.now(UTC)
        await schedule_prompts(
            postgres_url, {p.user_id: now + timedelta(seconds=1 + i % 3) for i, p in enumerate(prompted)}
        )
        await asyncio.gather(*(run_routine(p, i) for i, p in enumerate(runners)))
        for person in prompted:
            await person.expect("Time for today's stretch", timeout=60)
        # Stopped (each finishes what it has in hand), the workers send nothing more: the chats are final.
        for process in processes:
            assert await process.terminate() == 0
        stats = await telegram.stats()
        chats = {p.user_id: await p.messages() for p in runners + prompted}
        logs = "".join(line for process in processes for line in process.log)

    db = await snapshot(postgres_url)
    assert stats["webhook_posts"] == 2 * stats["webhook_delivered"]  # both workers got every update at once
    assert "Traceback" not in logs and views.SOMETHING_WRONG not in str(chats)
    # Both workers handled updates, and both clocks were up (either may have sent the prompts).
    assert all("Limber ready" in "".join(p.log) for p in processes)

    for person in runners:
        # Exactly the conversation one worker alone would have had: nothing twice, nothing missing.
        texts = [m["text"] for m in chats[person.user_id]]
        expected = [
            "Hi, Ana!",
            "Pain before: 6/10 ✓",
            *(f"Step {n} of {STEPS} · " for n in range(1, STEPS + 1)),
            "Pain after: 3/10 ✓",
            "Summary · ",
            "Noted: pain 2/10.",
        ]
        assert len(texts) == len(expected) and all(t.startswith(e) for t, e in zip(texts, expected, strict=True)), texts
        assert all(t.endswith("✅ Done") for t in texts[2 : 2 + STEPS])
        session = [s for s in db.sessions.values() if s.user_id == person.user_id]
        assert len(session) == 1 and session[0].status == "finished" and not session[0].stopped
        outcomes = [o for o in db.outcomes if o.user_id == person.user_id]
        assert sorted(o.step_index for o in outcomes) == list(range(STEPS))
        assert all(o.outcome == "done" for o in outcomes)
        ratings = Counter((r.context, r.value) for r in db.ratings if r.user_id == person.user_id)
        assert ratings == Counter({("before", 6): 1, ("after", 3): 1, ("free", 2): 1}), ratings

    assert prompt_problems(db, chats) == []
    sent = Counter(p.user_id for p in db.prompts if p.status == "sent")
    assert sent == Counter({p.user_id: 1 for p in prompted})
    for person in prompted:
        texts = [m["text"] for m in chats[person.user_id]]
        assert len(texts) == 2 and texts[0].startswith("Hi, Ana!") and "Time for today's stretch" in texts[1], texts

    database = Database(postgres_url)
    try:
        async with database.transaction() as s:
            working = (
                await s.execute(
                    select(func.count()).select_from(HandledUpdate).where(col(HandledUpdate.status) != "done")
                )
            ).scalar_one()
            owners = (await s.execute(select(func.count(func.distinct(HandledUpdate.owner))))).scalar_one()
    finally:
        await database.close()
    assert working == 0
    assert owners == 2  # both workers took updates


async def test_a_worker_killed_mid_update_and_a_long_outage_store_each_rating_once(postgres_url: str) -> None:
    """A worker SIGKILLed while it handles a typed rating (its claim is taken over once stale), then
    PostgreSQL down for longer than dbretry's budget with both workers up (each gives up its claim and
    handles the update anyway): every rating is stored once, and any "Noted" sent again says the same."""
    direct = make_url(postgres_url)
    proxy = CuttableProxy(direct.host or "127.0.0.1", direct.port or 5432)
    await proxy.start()
    url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(proxy.cut)
        emulator = Emulator()
        api_url = await emulator.start()
        stack.push_async_callback(emulator.stop)
        workers = [await start_worker(api_url, url, "updates") for _ in range(2)]

        async def stop_all() -> None:
            await proxy.restore()
            for process in workers:
                if process.running:
                    await process.kill()

        stack.push_async_callback(stop_all)
        telegram = await stack.enter_async_context(EmulatorClient(api_url, TOKEN))
        await telegram.route_webhook([await listening_on(p) for p in workers])
        killed, outaged = Person(api_url), Person(api_url)
        for person in (killed, outaged):
            stack.push_async_callback(person.close)
            await person.join()
        await telegram.redeliver(1_000_000)  # every update goes to both workers at once

        await killed.send("pain 4")
        await asyncio.sleep(0.05)  # the workers have it: one claims it, the other waits
        await workers[0].kill()
        await workers[0].start()  # back, as a supervisor would restart it: both are up for the outage

        await proxy.cut()
        await outaged.send("pain 5")
        await asyncio.sleep(dbretry.BUDGET + 5)
        await proxy.restore()

        for person, value in ((outaged, 5), (killed, 4)):
            await person.expect(f"Noted: pain {value}/10", timeout=dbretry.BUDGET + 60)
        for person in (killed, outaged):
            # Taken by the worker that did not claim the rating only once that claim is stale, as was the rating.
            await person.settled(timeout=dbretry.BUDGET + 60)
        # Stopped (each finishes what it has in hand), the workers send nothing more: the chats are final.
        for process in workers:
            await process.terminate()
        chats = {p.user_id: [m["text"] for m in await p.messages()] for p in (killed, outaged)}

    db = await snapshot(postgres_url)
    for person, value in ((killed, 4), (outaged, 5)):
        assert [(r.context, r.value) for r in db.ratings if r.user_id == person.user_id] == [("free", value)]
        noted = [t for t in chats[person.user_id] if t.startswith("Noted")]
        assert noted and set(noted) == {f"Noted: pain {value}/10. Thank you."}, chats[person.user_id]
