"""The real Application in the test's own event loop, polling the emulator over HTTP, on an injected clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.clock import Clock
from bot.config import Settings
from bot.prompt_clock import PassReport, reschedule, run_pass
from bot.services import Services
from bot.webhook import WebhookServer
from storage import prompts as prompt_repo
from storage import repo
from storage.models import Preferences
from testkit.chat import TOKEN

WEBHOOK_SECRET = "test-webhook-secret-0123456789"
# Webhook mode for BotProcess: Telegram posts to the public URL; the worker listens on a free local port.
WEBHOOK: dict[str, Any] = {
    "webhook_url": "https://limber.example/telegram/hook",
    "webhook_secret": WEBHOOK_SECRET,
    "webhook_listen": "127.0.0.1",
    "webhook_port": 0,
}


class BotProcess:
    """The real Application, polling the emulator over HTTP, as `limber run` would against Telegram.

    It runs in the caller's event loop; `testkit.processes.LimberProcess` is `limber run` in a process of its own.
    """

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
        self.app: Application | None = None
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
