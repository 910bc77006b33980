"""Different chats at once, one chat strictly in order, a flooding person's queue bounded (bot.concurrency).

No timing: a handler parks chat A's first update on an Event, and the tests look at what ran and
what waits while it is parked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot.app import build_application, start_polling
from bot.concurrency import DROPPED, ChatLanes, ChatOrderedProcessor
from bot.config import Settings
from tests.factories import WEBHOOK, WEBHOOK_SECRET, BotProcess, FakeClock, Person

JSON = dict[str, Any]

# --- the lanes alone ----------------------------------------------------------------------------


def chat_of(update: object) -> int | None:
    assert isinstance(update, tuple)
    return int(update[0])


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_chat_in_order_while_other_chats_run() -> None:
    lanes = ChatLanes(limit=8, per_chat=10, key=chat_of)
    release = asyncio.Event()
    ran: list[tuple[int, int]] = []

    async def handle(update: tuple[int, int]) -> tuple[int, int]:
        ran.append(update)
        if update == (1, 0):
            await release.wait()
        return update

    updates = [(1, 0), (1, 1), (2, 0), (1, 2), (3, 0), (2, 1)]
    tasks = [asyncio.ensure_future(lanes.run(u, handle(u))) for u in updates]
    await settle()
    # Chat 1's first update is parked: its later ones wait, chats 2 and 3 are done.
    assert ran == [(1, 0), (2, 0), (3, 0), (2, 1)]
    assert lanes.waiting(1) == 2 and lanes.chats == 1
    assert all(task.done() for task, u in zip(tasks, updates, strict=True) if u[0] != 1)
    release.set()
    assert await asyncio.gather(*tasks) == updates
    assert [u for u in ran if u[0] == 1] == [(1, 0), (1, 1), (1, 2)]
    assert lanes.chats == 0 and lanes.dropped == 0


async def test_at_most_limit_run_at_once() -> None:
    lanes = ChatLanes(limit=3, per_chat=10, key=chat_of)
    release = asyncio.Event()

    async def handle() -> None:
        await release.wait()

    tasks = [asyncio.ensure_future(lanes.run((chat, 0), handle())) for chat in range(10)]
    await settle()
    assert lanes.running == 3
    release.set()
    await asyncio.gather(*tasks)
    assert lanes.most_running == 3


async def test_a_flooding_chat_queue_stays_bounded_and_keeps_what_matters() -> None:
    """Chatter waiting in a full queue makes room; updates worth keeping (here: odd numbers) are kept."""
    dropped: list[object] = []

    async def on_drop(update: object) -> None:
        dropped.append(update)

    lanes = ChatLanes(
        limit=4, per_chat=5, key=chat_of, keep=lambda u: isinstance(u, tuple) and u[1] % 2 == 1, on_drop=on_drop
    )
    release = asyncio.Event()
    ran: list[tuple[int, int]] = []

    async def handle(update: tuple[int, int]) -> None:
        ran.append(update)
        if update == (1, 0):
            await release.wait()

    flood = [asyncio.ensure_future(lanes.run((1, n), handle((1, n)))) for n in range(300)]
    other = asyncio.ensure_future(lanes.run((2, 0), handle((2, 0))))
    await settle()
    assert lanes.waiting(1) == 5
    assert other.done() and (2, 0) in ran
    release.set()
    results = await asyncio.gather(*flood)
    kept = [(1, n) for n, result in enumerate(results) if result is not DROPPED]
    # In order, never more than the bound behind the running one, and all chatter that got in was
    # displaced by updates worth keeping until only those were left.
    assert [u for u in ran if u[0] == 1] == kept
    assert len(kept) == 6
    assert kept[0] == (1, 0) and all(n % 2 == 1 for _, n in kept[1:])
    assert lanes.dropped == 294 == len(dropped)
    assert lanes.chats == 0


async def test_a_dropped_or_cancelled_update_is_never_left_half_started() -> None:
    lanes = ChatLanes(limit=2, per_chat=1, key=chat_of)
    release = asyncio.Event()
    started: list[int] = []

    async def handle(n: int) -> None:
        started.append(n)
        await release.wait()

    first = asyncio.ensure_future(lanes.run((1, 0), handle(0)))
    second = asyncio.ensure_future(lanes.run((1, 1), handle(1)))
    third = asyncio.ensure_future(lanes.run((1, 2), handle(2)))
    await settle()
    # The queue holds one: the newer chatter takes the older one's place, which is dropped unstarted.
    assert second.done() and second.result() is DROPPED
    assert lanes.waiting(1) == 1
    third.cancel()
    await settle()
    assert lanes.waiting(1) == 0
    release.set()
    await first
    assert started == [0]
    assert lanes.chats == 0 and lanes.dropped == 1


def test_the_processor_leaves_room_for_waiting_updates() -> None:
    processor = ChatOrderedProcessor(ChatLanes(limit=4, per_chat=3))
    assert processor.max_concurrent_updates == 16


# --- the real bot ---------------------------------------------------------------------------------


class GatedBot(BotProcess):
    """The real Application, with a first handler that parks one chat's first update until released."""

    def __init__(self, api_url: str, database_url: str, clock: FakeClock, held_chat: int, **settings: Any) -> None:
        super().__init__(api_url, database_url, clock, **settings)
        self.held_chat = held_chat
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self.started: list[tuple[int, str]] = []

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None:
            return
        self.started.append((chat.id, (message.text or "") if message else ""))
        if chat.id == self.held_chat and not self.held.is_set():
            self.held.set()
            await self.release.wait()

    async def start(self) -> None:
        self.app = build_application(self.settings, clock=self.clock)
        self.app.add_handler(TypeHandler(Update, self.gate), group=-10)
        await start_polling(self.app)

    @property
    def lanes(self) -> ChatLanes:
        assert self.app is not None
        processor = self.app.update_processor
        assert isinstance(processor, ChatOrderedProcessor)
        return processor.lanes


@pytest.fixture
async def people(api_url: str) -> AsyncIterator[tuple[Person, Person]]:
    ana, ben = Person(api_url, first_name="Ana"), Person(api_url, first_name="Ben")
    yield ana, ben
    await ana.close()
    await ben.close()


async def texts(person: Person) -> list[str]:
    return [str(m.get("text") or "") for m in await person.messages() if m.get("from", {}).get("is_bot")]


async def test_the_bot_keeps_one_chat_in_order_while_another_is_answered(
    api_url: str, database_url: str, clock: FakeClock, people: tuple[Person, Person]
) -> None:
    ana, ben = people
    bot = GatedBot(api_url, database_url, clock, held_chat=ana.user_id)
    await bot.start()
    try:
        await ana.send("/help")
        await asyncio.wait_for(bot.held.wait(), 10)
        await ana.send("/safety")
        await ben.send("/help")
        await ben.expect()  # Ben is answered while Ana's first update is parked
        assert await texts(ana) == []
        assert bot.started == [(ana.user_id, "/help"), (ben.user_id, "/help")]
        assert bot.lanes.waiting(ana.user_id) == 1  # her /safety waits its turn
        bot.release.set()
        await ana.expect("Call your emergency number")
        assert bot.started[2:] == [(ana.user_id, "/safety")]
        help_text, safety_text = await texts(ana)
        assert help_text == (await texts(ben))[0]
        assert "Call your emergency number" in safety_text
    finally:
        bot.release.set()
        await bot.stop()


async def test_a_flood_fills_only_the_flooders_bounded_queue(
    api_url: str, database_url: str, clock: FakeClock, people: tuple[Person, Person]
) -> None:
    ana, ben = people
    bot = GatedBot(api_url, database_url, clock, held_chat=ana.user_id, update_queue_per_chat=5)
    await bot.start()
    try:
        await ana.send("hello?")
        await asyncio.wait_for(bot.held.wait(), 10)
        for n in range(40):
            await ana.send("are you there" + "?" * (n % 4 + 1) if n % 2 else "hell" + "o" * (n % 7 + 2))
        await ana.send("my pain is 7/10")
        await ben.send("/help")
        await ben.expect()
        assert bot.lanes.waiting(ana.user_id) == 5
        bot.release.set()
        await ana.expect("Noted: pain 7/10")
        assert bot.lanes.dropped >= 36
        handled = [text for chat, text in bot.started if chat == ana.user_id]
        assert len(handled) <= 6 and handled[0] == "hello?" and handled[-1] == "my pain is 7/10"
    finally:
        bot.release.set()
        await bot.stop()


def test_the_application_takes_its_concurrency_and_pool_from_settings() -> None:
    settings = Settings(
        telegram_bot_token="123:" + "a" * 30,
        update_concurrency=12,
        update_queue_per_chat=7,
        telegram_pool_size=9,
        telegram_keepalive_seconds=45,
        _env_file=None,
    )
    app = build_application(settings)
    processor = app.update_processor
    assert isinstance(processor, ChatOrderedProcessor)
    assert (processor.lanes.limit, processor.lanes.per_chat) == (12, 7)
    request = app.bot.request
    assert isinstance(request, HTTPXRequest)
    limits = request._client_kwargs["limits"]  # PTB keeps what it built the httpx client with
    assert (limits.max_connections, limits.max_keepalive_connections, limits.keepalive_expiry) == (9, 9, 45)


async def test_a_webhook_worker_shares_the_rule_and_answers_a_dropped_post(
    api_url: str, database_url: str, clock: FakeClock
) -> None:
    """Posted updates keep one chat in order and its queue bounded: chatter pushed out is answered "dropped"."""
    worker = BotProcess(api_url, database_url, clock, update_queue_per_chat=1, **WEBHOOK)
    await worker.start()
    release = asyncio.Event()
    chat = {"id": 6161, "type": "private", "first_name": "Cleo"}
    cleo = Person(api_url, user_id=6161, first_name="Cleo")
    await cleo.send("/start")  # the emulator knows her chat; this test posts her next updates itself

    def update(update_id: int, text: str) -> JSON:
        message = {"message_id": update_id, "date": 1796170000, "chat": chat, "from": {**chat, "is_bot": False}}
        return {"update_id": update_id, "message": {**message, "text": text}}

    async def post(session: aiohttp.ClientSession, body: JSON) -> JSON:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with session.post(worker.webhook_target, json=body, headers=headers) as response:
            assert response.status == 200
            answer: JSON = await response.json()
            return answer

    try:
        assert worker.webhook is not None and worker.app is not None
        lanes = worker.webhook.lanes
        # Cleo's chat is busy with an update in hand (held here, as a slow handler would hold it).
        held = asyncio.ensure_future(lanes.run(Update.de_json(update(1, "hi"), worker.app.bot), release.wait()))
        await settle()
        async with aiohttp.ClientSession() as session:
            first = asyncio.ensure_future(post(session, update(900_000_101, "hello??")))
            for _ in range(100):
                await asyncio.sleep(0.01)
                if lanes.waiting(cast(int, chat["id"])) == 1:
                    break
            assert lanes.waiting(cast(int, chat["id"])) == 1
            second = asyncio.ensure_future(post(session, update(900_000_102, "anyone there")))
            assert await asyncio.wait_for(first, 10) == {"ok": True, "result": "dropped"}
            release.set()
            await held
            assert await asyncio.wait_for(second, 10) == {"ok": True, "result": "handled"}
        texts = [str(m.get("text")) for m in await cleo.messages() if m.get("from", {}).get("is_bot")]
        assert len(texts) == 1  # an answer to "anyone there" only
    finally:
        release.set()
        await cleo.close()
        await worker.stop()
