"""The "floor" bot of `python -m bench.interactive`: bare python-telegram-bot, no logic, no storage.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python -m bench.floor SCRIPT.json [--concurrent]

It is the cheapest bot that answers Limber's users exactly as Limber does. SCRIPT.json holds, for each
user slot, the Bot API calls Limber made for each of that user's updates, recorded by the benchmark's
first round:

    {"slot_modulus": M, "slots": {"<slot>": [[{"method", "params", "message_id"?}, ...], ...]}}

For the n-th update of chat C the floor makes the calls recorded for the n-th update of slot C % M,
one after another as Limber's handlers do (same methods, texts, parse_mode, reply_markup), with three
translations: the chat id, message ids (a recorded message id becomes the id the emulator returned to
the floor for the same message; "message_id" of a call is the id its recorded message got) and the
callback query id (the live one). That per-chat counter and id map is all it keeps. The Application is
built and polled as `limber run` builds and polls Limber's (same timeouts, sequential updates,
`run_polling(allowed_updates=Update.ALL_TYPES)`), minus handlers, database and jobs.

With --concurrent it is the concurrent floor, the best a PTB bot can do at a real round trip:
different chats' updates are handled at once (at most FLOOR_CONCURRENCY, default 64, as Limber's
UPDATE_CONCURRENCY), one chat's strictly in arrival order (a lock per chat in a processor of its own,
not Limber's), and its Bot API pool is sized as Limber's (TELEGRAM_POOL_SIZE, default 32).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message, MessageEntity, Update
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

JSON = dict[str, Any]
Call = JSON
# Limber's default telegram_timeout_seconds (bot/config.py), applied the same way.
TIMEOUT_SECONDS = 10.0

log = logging.getLogger("bench.floor")


@dataclass(slots=True)
class ChatReplay:
    """What replay needs per chat: how many updates it has seen, and recorded → live message ids."""

    updates: int = 0
    message_ids: dict[int, int] = field(default_factory=dict)


def _snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def _decode(key: str, value: Any, bot: Bot) -> Any:
    """Recorded JSON back into the objects a PTB bot passes (as Limber's ui.send builds them)."""
    if key == "reply_markup" and isinstance(value, dict) and "inline_keyboard" in value:
        return InlineKeyboardMarkup.de_json(value, bot)
    if key == "link_preview_options" and isinstance(value, dict):
        return LinkPreviewOptions.de_json(value, bot)
    if key in ("entities", "caption_entities") and isinstance(value, list):
        return [MessageEntity.de_json(entity, bot) for entity in value]
    return value


class Replayer:
    """Replays the recorded calls of the n-th update of each chat."""

    def __init__(self, script: JSON) -> None:
        self.modulus = int(script["slot_modulus"])
        self.slots: dict[int, list[list[Call]]] = {int(slot): calls for slot, calls in script["slots"].items()}
        self.chats: dict[int, ChatReplay] = {}
        self._accepted: dict[str, frozenset[str]] = {}
        # Pictures as Limber sends them: uploaded once from the folder Limber draws into, then by this bot's
        # own file_id (another bot's ids are not valid here, as on Telegram).
        self.figures = Path(os.environ.get("FIGURES_DIR", "figures-cache"))
        self.file_ids: dict[str, str] = {}

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        state = self.chats.setdefault(chat.id, ChatReplay())
        index = state.updates
        state.updates += 1
        updates = self.slots.get(chat.id % self.modulus)
        if updates is None or index >= len(updates):
            log.warning("no recorded calls for update %d of chat %d", index, chat.id)
            return
        query_id = update.callback_query.id if update.callback_query is not None else None
        for call in updates[index]:
            params = self._translate(call["params"], chat.id, state, query_id)
            sent = call.get("file")
            if sent is not None and not (self.figures / str(sent["file_name"])).is_file():
                sent = None  # not one of Limber's pictures: replayed as recorded
            if sent is not None:
                name = str(sent["file_name"])
                params[sent["kind"]] = self.file_ids.get(name) or InputFile(
                    (self.figures / name).read_bytes(), filename=name
                )
            result = await self._invoke(context.bot, call["method"], params)
            recorded_id = call.get("message_id")
            if recorded_id is not None and isinstance(result, Message):
                state.message_ids[int(recorded_id)] = result.message_id
            if sent is not None and isinstance(result, Message):
                media = result.animation or result.document or (result.photo[-1] if result.photo else None)
                if media is not None:
                    self.file_ids[str(sent["file_name"])] = media.file_id

    @staticmethod
    def _translate(params: JSON, chat_id: int, state: ChatReplay, query_id: str | None) -> JSON:
        live = dict(params)
        if "chat_id" in live:
            live["chat_id"] = chat_id
        if isinstance(live.get("message_id"), int):
            live["message_id"] = state.message_ids.get(live["message_id"], live["message_id"])
        if "callback_query_id" in live and query_id is not None:
            live["callback_query_id"] = query_id
        return live

    async def _invoke(self, bot: Bot, method: str, params: JSON) -> Any:
        name = _snake(method)
        function: Callable[..., Any] | None = getattr(bot, name, None)
        if function is None:
            return await bot.do_api_request(name, api_kwargs=params)
        accepted = self._accepted.get(name)
        if accepted is None:
            accepted = frozenset(inspect.signature(function).parameters) - {"api_kwargs"}
            self._accepted[name] = accepted
        kwargs = {key: _decode(key, value, bot) for key, value in params.items() if key in accepted}
        extra = {key: value for key, value in params.items() if key not in accepted}
        return await function(**kwargs, api_kwargs=extra or None)


class PerChatProcessor(BaseUpdateProcessor):
    """Different chats at once (at most `limit`), one chat's updates in arrival order: a lock per chat."""

    def __init__(self, limit: int) -> None:
        # Updates waiting for their chat's lock must not take running slots: PTB's bound is generous.
        super().__init__(max_concurrent_updates=limit * 64)
        self._running = asyncio.Semaphore(limit)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._running:
                await coroutine
            return
        lock, users = self._locks.get(chat.id, (asyncio.Lock(), 0))
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock, self._running:  # asyncio.Lock wakes waiters first come, first served
                await coroutine
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build(token: str, api_url: str, script: JSON, *, concurrent: bool = False) -> Application:
    """The Application as bot/app.py builds Limber's, with one replaying handler instead of Limber's."""
    api = api_url.rstrip("/")
    builder = Application.builder().token(token).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    if concurrent:
        pool = int(os.environ.get("TELEGRAM_POOL_SIZE", "32"))
        request = HTTPXRequest(
            connection_pool_size=pool,
            connect_timeout=TIMEOUT_SECONDS,
            read_timeout=TIMEOUT_SECONDS,
            write_timeout=TIMEOUT_SECONDS,
            pool_timeout=5.0,
        )
        builder = builder.request(request).concurrent_updates(
            PerChatProcessor(int(os.environ.get("FLOOR_CONCURRENCY", "64")))
        )
    else:
        builder = builder.connect_timeout(TIMEOUT_SECONDS).read_timeout(TIMEOUT_SECONDS).write_timeout(TIMEOUT_SECONDS)
    app = builder.build()
    app.add_handler(TypeHandler(Update, Replayer(script)))
    return app


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    concurrent = "--concurrent" in args
    args = [arg for arg in args if arg != "--concurrent"]
    if len(args) != 1:
        print(
            "usage: python -m bench.floor SCRIPT.json [--concurrent] (TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL set)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    script = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    app = build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"], script, concurrent=concurrent)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
