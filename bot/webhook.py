"""Webhook mode: Telegram POSTs each update to WEBHOOK_URL; any number of these workers may stand behind it.

A worker answers 200 once the update is handled (or was handled before: bot.updates), 503 while
another worker is still on it (Telegram tries again later), 403 without the right secret header.
`GET /healthz` is for the load balancer: 200 while the database answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application

from bot import ui
from bot.concurrency import DROPPED, ChatLanes, ChatOrderedProcessor
from bot.config import Settings
from bot.logs import LogBudget
from bot.services import Services
from bot.updates import ALLOWED_UPDATES, Outcome, handle_once, until_stopped

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few kB; anything near this is not from Telegram
REGISTER_TRIES = 5
LINGER_SECONDS = 2.0
# Refused connections and accept() failures: a few lines a minute, however many there are.
ACCEPT_LOG = LogBudget(limit=5, window=60.0)


class _Refused(asyncio.Protocol):
    """Over the cap with every connection busy: closed at once, so the descriptor is free again."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class WebhookServer:
    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        self.app = app
        self.settings = settings
        self.path = urlsplit(settings.webhook_url).path or "/"
        self._secret = settings.webhook_secret.get_secret_value().encode()
        # Different chats at once, one chat's updates in the order they arrive at this worker (taps a
        # moment apart), each chat's queue bounded: the same lanes polling uses (bot.concurrency).
        processor = getattr(app, "update_processor", None)
        self.lanes = (
            processor.lanes
            if isinstance(processor, ChatOrderedProcessor)
            else ChatLanes(settings.update_concurrency, settings.update_queue_per_chat)
        )
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._previous_handler: Any = None
        self.port: int | None = None

    def build(self) -> web.Application:
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.path, self.receive)
        web_app.router.add_get("/healthz", self.health)
        return web_app

    async def start(self, *, register: bool = True) -> int:
        """Listen, then tell Telegram where to post (every worker may: the URL and secret are the same).

        Safe without a load balancer in front: a connection that has not sent a whole request head
        within `webhook_header_timeout_seconds` (or a body within the body timeout) is dropped, at
        most `webhook_max_open_connections` are open (an idle one makes way for a new one), and
        accept() failures are logged at a bounded rate.
        """
        # aiohttp's keep-alive timer runs from the connection's start and closes it if no request
        # is in progress when it fires: for a connection that never finishes its head, a header timeout.
        self._runner = web.AppRunner(
            self.build(),
            access_log=None,
            shutdown_timeout=5.0,
            keepalive_timeout=self.settings.webhook_header_timeout_seconds,
            # After an answer sent before the whole body (403, 408), the rest is read and ignored this
            # long at most (aiohttp's default is 10 s a connection).
            lingering_time=LINGER_SECONDS,
        )
        await self._runner.setup()
        loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_exception)
        self._listener = await loop.create_server(
            self._connection,
            self.settings.webhook_listen,
            self.settings.webhook_port,
            backlog=128,
            reuse_address=True,
        )
        self.port = self._listener.sockets[0].getsockname()[1]
        if register:
            await self._register()
        log.info("webhook worker listening on %s:%s", self.settings.webhook_listen, self.port)
        return self.port

    async def _register(self) -> None:
        """setWebhook, retried through a brief Telegram fault (5xx, a dropped connection, 429)."""
        for attempt in range(REGISTER_TRIES):
            try:
                await self.app.bot.set_webhook(
                    url=self.settings.webhook_url or "",
                    secret_token=self._secret.decode(),
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=self.settings.webhook_max_connections,
                )
                return
            except (NetworkError, RetryAfter) as exc:
                if attempt == REGISTER_TRIES - 1:
                    raise
                delay = ui.retry_seconds(exc) if isinstance(exc, RetryAfter) else ui.BACKOFF * 2**attempt
                log.warning("setWebhook failed (%s); trying again in %.1f s", exc.message, delay)
                await asyncio.sleep(delay)

    def _connection(self) -> asyncio.BaseProtocol:
        """A protocol for an accepted connection, within the cap on open ones."""
        assert self._runner is not None and self._runner.server is not None
        server = self._runner.server
        open_ = [h for h in server.connections if h.transport is not None]  # not those closing
        if len(open_) >= self.settings.webhook_max_open_connections:
            # Oldest first: one that is only holding a socket (no request in hand) makes way.
            idle = next((h for h in open_ if getattr(h, "_current_request", None) is None), None)
            if idle is None:
                if ACCEPT_LOG.allow():
                    log.warning("webhook: %d connections open, all busy; one refused", len(open_))
                return _Refused()
            idle.force_close()
        return server()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """accept() failing (out of descriptors) is reported every time it is retried: log it now and then."""
        if "accept" not in str(context.get("message", "")):
            if self._previous_handler is not None:
                self._previous_handler(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        if ACCEPT_LOG.allow():
            left_out = ACCEPT_LOG.take_suppressed()
            log.warning(
                "webhook: %s (%s)%s",
                context.get("message"),
                context.get("exception"),
                f"; {left_out} more not logged" if left_out else "",
            )

    async def stop(self) -> None:
        """Stop taking posts and finish the ones in hand. The webhook stays set: other workers serve it."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            asyncio.get_running_loop().set_exception_handler(self._previous_handler)

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, self._secret):
            log.warning("webhook post without the right secret header refused")
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        try:
            async with asyncio.timeout(self.settings.webhook_body_timeout_seconds):
                body = await request.read()
        except TimeoutError:
            slow = web.json_response({"ok": False, "error": "body too slow"}, status=408)
            slow.force_close()  # rather than wait for the rest of the body
            return slow
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)

        async def handle() -> Outcome | None:  # created only once it is this update's turn
            return await until_stopped(self.app, handle_once(self.app, update))

        outcome = await self.lanes.run(update, handle())
        if outcome is DROPPED:  # the chat's queue is full (a flood): as a poller does, it is not handled
            return web.json_response({"ok": True, "result": "dropped"})
        if outcome is None:  # cut short by a shutdown: Telegram posts it again, to a worker still up
            return web.json_response({"ok": False, "error": "shutting down"}, status=503)
        if outcome == "busy":
            return web.json_response({"ok": False, "error": "being handled elsewhere"}, status=503)
        return web.json_response({"ok": True, "result": outcome})

    async def health(self, request: web.Request) -> web.Response:
        """For the load balancer: this worker is up and its database answers."""
        svc = self.app.bot_data.get("services")
        if not isinstance(svc, Services):
            return web.json_response({"ok": False, "error": "starting"}, status=503)
        try:
            async with asyncio.timeout(2.0):
                await svc.db.ping()
        except Exception as exc:
            return web.json_response({"ok": False, "error": f"database: {type(exc).__name__}"}, status=503)
        return web.json_response({"ok": True, "role": self.settings.role, "instance": svc.instance})
