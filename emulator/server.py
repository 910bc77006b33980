"""The emulator's HTTP server: Bot API at /bot<token>/<method>, files, and the /_emu user API."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.botapi import BotApi, Params, Upload, parse_chat_id
from emulator.latency import Latency, Sleep
from emulator.state import JSON, ApiError, BotState, NetworkFault, UserApiError
from emulator.userapi import UserApi
from emulator.webhooks import WebhookDelivery

TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
MAX_BODY = 100 * 1024 * 1024  # Telegram's own limit for uploads is 50 MB

_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _chat_id(params: Params) -> int | None:
    try:
        return parse_chat_id(params.raw("chat_id"), required=False)
    except ApiError:
        return None


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dumps(body), status=status, content_type="application/json")


UserHandler = Callable[[BotState, JSON], Awaitable[tuple[Any, JSON]]]


class Emulator:
    """A local stand-in for api.telegram.org, with a user-side API for tests and the playground.

    Every token gets its own bot state (updates, chats, messages), so bots can share one server.
    """

    def __init__(
        self,
        tokens: set[str] | None = None,
        files_dir: Path | None = None,
        callback_query_ttl: float = 900,
        *,
        bot_first_name: str = "Limber",
        bot_username: str = "limber_test_bot",
        privacy_mode: bool = True,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        latency_seed: int | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # A round trip on every Bot API answer (emulator.latency): per token, changed with the `latency` action.
        self.latency = (latency_ms, jitter_ms, latency_seed)
        self._sleep = sleep
        self.tokens = set(tokens) if tokens is not None else None
        self._files_dir = Path(files_dir) if files_dir is not None else None
        self._own_files_dir = False
        self.callback_query_ttl = callback_query_ttl
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.privacy_mode = privacy_mode
        self._seq = itertools.count(1)
        self._bots: dict[str, BotState] = {}
        self._deliveries: list[WebhookDelivery] = []
        self.api = BotApi(self.files_dir, callback_query_ttl)
        self.users = UserApi(callback_query_ttl)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        sockets = [s for s in runner.addresses if isinstance(s, tuple)]
        bound_host, bound_port = sockets[0][0], sockets[0][1]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Wake every long poll so handlers finish, then shut the server down."""
        for delivery in self._deliveries:
            await delivery.close()
        for bot in self._bots.values():
            if bot.poller is not None and not bot.poller.done():
                bot.poller.set_result("shutdown")
            for waiter in bot.event_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            bot.event_waiters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._own_files_dir and self._files_dir is not None:
            shutil.rmtree(self._files_dir, ignore_errors=True)
            self._files_dir = None
            self._own_files_dir = False

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def files_dir(self) -> Path:
        """Where uploads are kept (files_dir/<bot id>/<original name>); created on first use."""
        if self._files_dir is None:
            self._files_dir = Path(tempfile.mkdtemp(prefix="limber-emulator-"))
            self._own_files_dir = True
        self._files_dir.mkdir(parents=True, exist_ok=True)
        return self._files_dir

    # --- state ------------------------------------------------------------------------------

    def bot(self, token: str) -> BotState:
        """The state behind a token (for in-process inspection); raises ApiError for bad tokens."""
        state = self._bots.get(token)
        if state is not None:
            return state
        if not TOKEN_RE.fullmatch(token):
            raise ApiError(404, "Not Found")
        if self.tokens is not None and token not in self.tokens:
            raise ApiError(401, "Unauthorized")
        state = BotState(
            token,
            self._seq,
            first_name=self.bot_first_name,
            username=self.bot_username,
            privacy_mode=self.privacy_mode,
        )
        ms, jitter, seed = self.latency
        state.latency = Latency(ms, jitter, seed)
        delivery = WebhookDelivery(state)
        state.on_update = delivery.wake
        self._deliveries.append(delivery)
        self._bots[token] = state
        return state

    # --- HTTP -------------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("GET", "/_emu/health", self._health)
        app.router.add_route("*", "/_emu/bot{token}/{action}", self._user_api)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    @staticmethod
    async def _not_found(request: web.Request) -> web.Response:
        return _json_response(ApiError(404, "Not Found").body(), 404)

    @staticmethod
    async def _health(request: web.Request) -> web.Response:
        return _json_response({"ok": True})

    async def _bot_api(self, request: web.Request) -> web.Response:
        try:
            bot = self.bot(request.match_info["token"])
            params = await self._read_params(request)
        except ApiError as error:
            return _json_response(error.body(), error.code)
        if bot.network_faults:
            fault = bot.take_network_fault(request.match_info["method"].lower(), _chat_id(params))
            if fault is not None and fault.kind == "reset":
                # The connection drops with no answer, as a proxy or a flaky network would.
                assert request.transport is not None
                request.transport.abort()
                raise ConnectionResetError("injected connection reset")
            if fault is not None:
                await asyncio.sleep(fault.seconds)
        status, body = await self.api.call(bot, request.match_info["method"], params)
        await bot.latency.wait(self._sleep)
        return _json_response(body, status)

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json(loads=json.loads)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON object expected")
                values.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = Upload(
                            file_name=value.filename or key,
                            content_type=value.content_type or "",
                            data=value.file.read(),
                        )
                    else:
                        values[key] = value
        return Params(values, files)

    async def _download(self, request: web.Request) -> web.Response:
        try:
            bot = self.bot(request.match_info["token"])
        except ApiError as error:
            return _json_response(error.body(), error.code)
        record = bot.files_by_path.get(request.match_info["path"])
        if record is None or not record.local_path.is_file():
            return _json_response(ApiError(404, "Not Found").body(), 404)
        return web.Response(
            body=record.local_path.read_bytes(),
            content_type=record.mime_type if "/" in record.mime_type else "application/octet-stream",
        )

    # --- user API ---------------------------------------------------------------------------

    async def _user_api(self, request: web.Request) -> web.Response:
        handlers: dict[str, UserHandler] = {
            "send": self._u_send,
            "press": self._u_press,
            "inject_update": self._u_inject,
            "messages": self._u_messages,
            "events": self._u_events,
            "calls": self._u_calls,
            "fail_next": self._u_fail_next,
            "network_fault": self._u_network_fault,
            "block": self._u_block,
            "stats": self._u_stats,
            "latency": self._u_latency,
            "reset": self._u_reset,
            "state": self._u_state,
            "route_webhook": self._u_route_webhook,
            "redeliver": self._u_redeliver,
        }
        try:
            bot = self.bot(request.match_info["token"])
        except ApiError as error:
            return _json_response({"ok": False, "error": error.description}, error.code)
        handler = handlers.get(request.match_info["action"])
        if handler is None:
            return _json_response({"ok": False, "error": f"unknown action; try one of {sorted(handlers)}"}, 404)
        try:
            payload: JSON = dict(request.query)
            if request.can_read_body:
                body = await request.json()
                if not isinstance(body, dict):
                    raise UserApiError("request body must be a JSON object")
                payload.update(body)
            result, extra = await handler(bot, payload)
        except UserApiError as error:
            return _json_response({"ok": False, "error": str(error)}, error.status)
        except (TypeError, ValueError) as error:
            return _json_response({"ok": False, "error": f"bad request: {error}"}, 400)
        return _json_response({"ok": True, "result": result, "event_seq": bot.last_event_seq, **extra})

    @staticmethod
    def _int(payload: JSON, key: str, default: int | None = None) -> int | None:
        value = payload.get(key, default)
        if value is None or isinstance(value, int):
            return value
        return int(value)

    async def _u_send(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        update, delivered = self.users.send(
            bot,
            user_id=self._int(payload, "user_id") or 0,
            text=payload.get("text", ""),
            first_name=payload.get("first_name"),
            chat_type=payload.get("chat_type", "private"),
            chat_id=self._int(payload, "chat_id"),
            last_name=payload.get("last_name"),
            username=payload.get("username"),
            language_code=payload.get("language_code"),
            title=payload.get("title"),
            reply_to=self._int(payload, "reply_to"),
        )
        return update, {"delivered": delivered}

    async def _u_press(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        button = payload.get("button")
        if isinstance(button, str) and button.isdigit() and "button_is_label" not in payload:
            button = int(button)  # query strings carry indexes as text
        update = self.users.press(
            bot,
            user_id=self._int(payload, "user_id") or 0,
            message_id=self._int(payload, "message_id") or 0,
            button=button,
            data=payload.get("data"),
            chat_id=self._int(payload, "chat_id"),
        )
        return update, {}

    async def _u_inject(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        return self.users.inject_update(bot, payload.get("update")), {}

    async def _u_messages(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        chat_id = self._int(payload, "chat_id")
        if chat_id is None:
            raise UserApiError("chat_id is required")
        return self.users.messages(bot, chat_id), {}

    async def _u_events(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        after = self._int(payload, "after", 0) or 0
        limit = self._int(payload, "limit")
        timeout = float(payload.get("timeout", 0) or 0)
        events = bot.events_after(after, limit)
        if not events and timeout > 0:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            bot.event_waiters.add(waiter)
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                pass
            finally:
                bot.event_waiters.discard(waiter)
            events = bot.events_after(after, limit)
        return events, {}

    async def _u_calls(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        return self.users.calls(bot, payload.get("method")), {}

    async def _u_fail_next(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        retry_after = self._int(payload, "retry_after")
        fault = self.users.fail_next(
            bot,
            method=payload.get("method", ""),
            error_code=self._int(payload, "error_code") or 0,
            description=payload.get("description"),
            retry_after=retry_after,
            times=self._int(payload, "times", 1) or 1,
            chat_id=self._int(payload, "chat_id"),
        )
        return fault, {}

    async def _u_network_fault(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        kind = payload.get("kind")
        method = payload.get("method")
        if kind not in ("reset", "delay") or not isinstance(method, str) or not method:
            raise UserApiError("network_fault needs a method and kind 'reset' or 'delay'")
        seconds = float(payload.get("seconds") or 0)
        times = self._int(payload, "times", 1) or 1
        bot.network_faults.append(NetworkFault(method.lower(), kind, seconds, times, self._int(payload, "chat_id")))
        return {"method": method, "kind": kind, "seconds": seconds, "times": times}, {}

    async def _u_block(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        blocked = payload.get("blocked", True)
        if isinstance(blocked, str):
            blocked = blocked.lower() in ("1", "true", "yes")
        update = self.users.block(bot, user_id=self._int(payload, "user_id") or 0, blocked=bool(blocked))
        return update, {}

    async def _u_stats(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        return bot.stats(), {}

    async def _u_latency(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        """Set this token's round trip: `ms` fixed plus up to `jitter_ms` on every Bot API answer (0 turns it off)."""
        try:
            bot.latency = Latency(
                float(payload.get("ms") or 0), float(payload.get("jitter_ms") or 0), payload.get("seed")
            )
        except ValueError as error:
            raise UserApiError(str(error)) from None
        return bot.latency.stats(), {}

    async def _u_reset(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        bot.reset()
        return True, {}

    async def _u_route_webhook(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        """Where the webhook's public URL leads here: worker URLs, posted to in turn."""
        targets = payload.get("targets")
        if not isinstance(targets, list) or not all(isinstance(t, str) and t.startswith("http") for t in targets):
            raise UserApiError("route_webhook needs targets: a list of http(s) URLs")
        bot.webhook_targets = list(targets)
        bot.webhook_ordered = payload.get("ordered", True) is not False
        bot.notify()
        return {"targets": bot.webhook_targets, "ordered": bot.webhook_ordered}, {}

    async def _u_redeliver(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        """Post each of the next `times` updates to two targets at once, as a re-sending Telegram would."""
        bot.redeliver = self._int(payload, "times", 1) or 0
        return {"times": bot.redeliver}, {}

    async def _u_state(self, bot: BotState, payload: JSON) -> tuple[Any, JSON]:
        """A summary for the playground: known chats and pending updates."""
        chats = [{**chat.chat, "blocked": chat.blocked, "messages": len(chat.messages)} for chat in bot.chats.values()]
        state = {
            "bot": bot.get_me(),
            "chats": chats,
            "pending_updates": len(bot.updates),
            "webhook_url": bot.webhook_url,
        }
        return state, {}
