"""Telegram's side of a webhook: each pending update is POSTed to the bot until it answers 2xx.

Telegram posts to the public HTTPS URL from setWebhook. Locally that URL "resolves" to the
targets given with the user API's `route_webhook` (the workers behind a load balancer), taken in
turn. A chat's updates go one at a time and in order (unless routed with ordered=False, to
let one person's taps reach two workers at once), different chats in parallel up to `max_connections`, a failed post is retried with growing delays (the update stays
pending), and getWebhookInfo reports the last error. `redeliver` makes the next posts go to two
targets at once: what a worker sees when Telegram re-sends an update it thinks timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp

from emulator.state import BotState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POST_TIMEOUT = 30.0  # seconds Telegram waits for a webhook answer (not documented; tens of seconds)
FIRST_RETRY = 0.2
MAX_RETRY = 5.0


def _chat_of(update: dict[str, Any]) -> int | None:
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


class WebhookDelivery:
    """Posts one bot's pending updates while its webhook is set and routed."""

    def __init__(self, bot: BotState) -> None:
        self.bot = bot
        self._wake = asyncio.Event()
        self._in_flight: dict[int, int | None] = {}  # update id: chat id
        self._next_target = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        self._wake.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="emulator-webhook")

    async def close(self) -> None:
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            bot = self.bot
            if not bot.webhook_url or not bot.webhook_targets:
                continue
            limit = int(bot.webhook_info.get("max_connections") or 40)
            busy = {chat for chat in self._in_flight.values() if chat is not None}
            for update in list(bot.updates):
                update_id, chat = int(update["update_id"]), _chat_of(update)
                if update_id in self._in_flight:
                    continue
                if bot.webhook_ordered and chat is not None and chat in busy:
                    continue  # an earlier update of this chat goes first
                if len(self._in_flight) >= limit:
                    break
                self._in_flight[update_id] = chat
                if chat is not None:
                    busy.add(chat)
                task = asyncio.get_running_loop().create_task(self._deliver(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _targets(self, count: int) -> list[str]:
        targets = self.bot.webhook_targets
        chosen = [targets[(self._next_target + i) % len(targets)] for i in range(count)]
        self._next_target = (self._next_target + count) % len(targets)
        return chosen

    async def _deliver(self, update: dict[str, Any]) -> None:
        bot, delay = self.bot, FIRST_RETRY
        body = json.dumps(update).encode()
        try:
            while bot.webhook_url and bot.webhook_targets:
                copies = 1
                if bot.redeliver > 0:
                    bot.redeliver -= 1
                    copies = 2
                results = await asyncio.gather(*(self._post(url, body) for url in self._targets(copies)))
                bot.webhook_posts += copies
                if any(ok for ok, _ in results):
                    bot.webhook_delivered += 1
                    bot.confirm_one(int(update["update_id"]))
                    return
                bot.webhook_failures += 1
                bot.webhook_info["last_error_date"] = int(time.time())
                bot.webhook_info["last_error_message"] = next(error for ok, error in results if not ok)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY)
        finally:
            self._in_flight.pop(int(update["update_id"]), None)
            self._wake.set()

    async def _post(self, url: str, body: bytes) -> tuple[bool, str]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT))
        headers = {"Content-Type": "application/json"}
        secret = self.bot.webhook_secret
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            async with self._http.post(url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True, ""
                return False, f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return False, "Read timeout expired"
        except aiohttp.ClientError as exc:
            return False, f"Connection failed: {type(exc).__name__}"
