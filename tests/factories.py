"""Test factories: an injectable clock, a running bot against the emulator, and people who talk to it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.clock import Clock
from bot.config import Settings
from bot.prompt_clock import PassReport, reschedule, run_pass
from bot.services import Services
from bot.webhook import WebhookServer
from emulator import EmulatorClient
from storage import prompts as prompt_repo
from storage import repo
from storage.models import DayMark as DayMarkRow
from storage.models import PainRating, Preferences, RoutineSession, StepOutcome

TOKEN = "123456:TEST-limber-token-abcdefghijklmnop"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
# Webhook mode for BotProcess: Telegram posts to the public URL; the worker listens on a free local port.
WEBHOOK = {
    "webhook_url": "https://limber.example/telegram/hook",
    "webhook_secret": WEBHOOK_SECRET,
    "webhook_listen": "127.0.0.1",
    "webhook_port": 0,
}
JSON = dict[str, Any]


class FakeClock:
    """Time that moves only when a test says so; sleepers wake in deadline order."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC), *, autoadvance: bool = False) -> None:
        # autoadvance: a sleep moves time on at once (for the fan-out pacing when a test runs passes).
        self.autoadvance = autoadvance
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if self.autoadvance:
            self._now += timedelta(seconds=max(seconds, 0))
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        return sum(1 for *_, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper whose deadline passes, in order."""
        target = self._now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
            await asyncio.sleep(0)
        self._now = target

    async def wait_for_sleepers(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait (in real time, briefly) until background tasks are parked on this clock."""
        async with asyncio.timeout(timeout):
            while self.sleepers < count:
                await asyncio.sleep(0.005)


class BotProcess:
    """The real Application, polling the emulator over HTTP, as `limber run` would against Telegram."""

    def __init__(self, api_url: str, database_url: str, clock: Clock, *, poll: bool = True, **settings: Any) -> None:
        # The prompt job's own timer is set far out: tests run passes themselves, on the injected clock.
        settings.setdefault("prompt_poll_seconds", 3600)
        # Steps as text unless a test is about pictures (test_pictures.py): the others read the step text.
        settings.setdefault("step_pictures", False)
        self.settings = Settings(
            telegram_bot_token=TOKEN, telegram_api_url=api_url, database_url=database_url, _env_file=None, **settings
        )
        self.clock = clock
        self.poll = poll
        self.app: Application | None = None  # type: ignore[type-arg]
        self.webhook: WebhookServer | None = None

    @property
    def services(self) -> Services:
        assert self.app is not None
        svc = self.app.bot_data["services"]
        assert isinstance(svc, Services)
        return svc

    async def start(self) -> None:
        self.app = build_application(self.settings, clock=self.clock, guard=True)
        await start_polling(self.app, poll=self.poll and not self.settings.webhook)
        if self.settings.webhook:
            self.webhook = WebhookServer(self.app, self.settings)
            await self.webhook.start()

    @property
    def webhook_target(self) -> str:
        """The local URL Telegram's posts reach this worker at (route the emulator's webhook there)."""
        assert self.webhook is not None and self.webhook.port is not None
        return f"http://127.0.0.1:{self.webhook.port}{self.webhook.path}"

    async def stop(self) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if self.app is not None:
            app, self.app = self.app, None
            await stop_polling(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def prompt_pass(self) -> PassReport:
        """One run of the prompt clock's job, as APScheduler would start it."""
        assert self.app is not None
        return await run_pass(self.app.bot, self.services, self.app.bot_data["limiter"])

    async def schedule(
        self, user_id: int, *, at: str = "07:00", tz: str = "UTC", days: int = 0b1111111, now: datetime | None = None
    ) -> Preferences:
        """Turn on daily prompts for someone directly in the database (as /reminders would)."""
        async with self.services.db.transaction() as db:
            prefs = await prompt_repo.preferences_of(db, user_id=user_id)
            user = await repo.get_user(db, user_id=user_id)
            assert user is not None
            await prompt_repo.update_preferences(
                db, prefs=prefs, reminders_on=True, reminder_time=at, timezone=tz, reminder_days=days
            )
            await reschedule(db, prefs=prefs, user=user, now=now or self.clock.now())
        return prefs


class Person:
    """One simulated Telegram user in a private chat with the bot."""

    _ids = itertools.count(1001)

    def __init__(
        self, api_url: str, user_id: int | None = None, first_name: str = "Ana", language_code: str | None = None
    ) -> None:
        self.client = EmulatorClient(api_url, TOKEN)
        self.user_id = user_id if user_id is not None else next(self._ids)
        self.first_name = first_name
        # What their Telegram app is set to: sent with every message, as Telegram does.
        self.language_code = language_code

    async def close(self) -> None:
        await self.client.close()

    async def send(self, text: str) -> JSON:
        return await self.client.send(self.user_id, text, first_name=self.first_name, language_code=self.language_code)

    async def join(self) -> Person:
        """Say /start and wait for the welcome, as a new person would."""
        await self.send("/start")
        await self.expect("Limber")
        return self

    async def expect(self, contains: str | None = None, *, kind: str = "message", timeout: float = 10.0) -> JSON:
        """The next bot event of `kind` in this chat (after the last action), optionally containing text."""

        def matches(event: JSON) -> bool:
            if event["type"] != kind or event.get("chat_id") != self.user_id:
                return False
            message = event.get("message") or {}
            text = message.get("text") or message.get("caption") or event.get("text") or ""
            return contains is None or contains in text

        return await self.client.wait_for(matches, timeout=timeout)

    async def expect_answer(self, contains: str | None = None) -> JSON:
        """The answer to the last button press (the small notice Telegram shows)."""
        return await self.expect(contains, kind="callback_answer")

    async def messages(self) -> list[JSON]:
        return await self.client.messages(self.user_id)

    async def with_buttons(self) -> JSON:
        """The newest bot message that still has inline buttons."""
        for message in reversed(await self.messages()):
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        raise AssertionError("no message with buttons in this chat")

    async def press(self, label: str | int, message: JSON | None = None) -> JSON:
        target = message or await self.with_buttons()
        return await self.client.press(self.user_id, target["message_id"], button=label)

    async def press_data(self, data: str, message_id: int) -> JSON:
        return await self.client.press(self.user_id, message_id, data=data)


def button_data(message: JSON, label: str) -> str:
    """The callback data of the button whose label contains `label`."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if label in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


def labels(message: JSON) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


@asynccontextmanager
async def emulator_process(files_dir: Path) -> AsyncIterator[str]:
    """The emulator in a process of its own, so it timestamps requests as an outside server would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "--port",
        "0",
        "--files-dir",
        str(files_dir),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        await proc.wait()


async def seed_history(
    bot: BotProcess,
    user_id: int,
    *,
    days: int,
    routine_id: str = "hips",
    before: int = 6,
    after: int = 4,
    rest_days: tuple[int, ...] = (),
    skipped_days: tuple[int, ...] = (),
    hurt: dict[int, str] | None = None,
) -> None:
    """`days` days of finished sessions ending today (on the bot's clock, UTC), one a day at 08:00.

    Day i counts back from today (0 is today). Rest and skipped days get a mark and no session;
    `hurt` maps a day to a technique marked as hurting in that day's session.
    """
    today = bot.clock.now().date()
    routine = bot.services.library.routines[routine_id]
    async with bot.services.db.transaction() as db:
        for back in range(days):
            day = today - timedelta(days=back)
            if back in rest_days or back in skipped_days:
                kind = "rest" if back in rest_days else "skipped"
                db.add(DayMarkRow(user_id=user_id, day=day, kind=kind))
                continue
            started = datetime.combine(day, time(8, 0), tzinfo=UTC)
            session = RoutineSession(
                user_id=user_id,
                routine_id=routine_id,
                status="finished",
                plan=[],
                current_step=0,
                started_at=started,
                updated_at=started,
                finished_at=started + timedelta(minutes=10),
            )
            db.add(session)
            await db.flush()
            for index, technique_id in enumerate(routine.techniques):
                outcome = "hurt" if (hurt or {}).get(back) == technique_id else "done"
                db.add(
                    StepOutcome(
                        session_id=session.id,
                        user_id=user_id,
                        step_index=index,
                        technique_id=technique_id,
                        outcome=outcome,
                        created_at=started,
                    )
                )
            db.add(
                PainRating(user_id=user_id, value=before, context="before", session_id=session.id, created_at=started)
            )
            db.add(
                PainRating(
                    user_id=user_id,
                    value=after,
                    context="after",
                    session_id=session.id,
                    created_at=started + timedelta(minutes=11),
                )
            )
