"""EmulatorClient: the user's side of a chat with the bot, over the emulator's /_emu HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]


class EmulatorError(Exception):
    """The emulator refused a user-side request (unknown message, bad button, ...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _describe(event: JSON) -> str:
    message = event.get("message") or {}
    text = message.get("text") or message.get("caption") or event.get("text") or ""
    if len(text) > 60:
        text = text[:57] + "..."
    extra = f" {text!r}" if text else ""
    if event.get("type") == "chat_action":
        extra = f" {event.get('action')}"
    return f"  #{event['seq']} {event['type']} chat={event.get('chat_id')}{extra}"


class EmulatorClient:
    """Acts as Telegram users talking to the bot behind `token`.

    wait_for() without `after` continues from a cursor that moves to the last event it
    returned and to the moment of the latest send/press/inject_update/block, so a reply to
    the action just taken is never missed nor confused with an earlier one.
    """

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None
        self._cursor = 0

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def cursor(self) -> int:
        """The event seq after which wait_for() looks by default."""
        return self._cursor

    async def _call(self, action: str, payload: JSON | None = None, *, wait: float = 0) -> tuple[Any, JSON]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"{self.base_url}/_emu/bot{self.token}/{action}"
        client_timeout = aiohttp.ClientTimeout(total=wait + 30)
        async with self._session.post(url, json=payload or {}, timeout=client_timeout) as response:
            body = await response.json(content_type=None)
        if not body.get("ok"):
            raise EmulatorError(str(body.get("error") or body.get("description")), response.status)
        return body["result"], body

    async def _act(self, action: str, payload: JSON) -> Any:
        result, body = await self._call(action, payload)
        self._cursor = max(self._cursor, int(body.get("event_seq", 0)))
        return result

    # --- user actions -----------------------------------------------------------------------

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Test",
        chat_type: str = "private",
        chat_id: int | None = None,
        reply_to: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        title: str | None = None,
    ) -> JSON:
        """The user writes `text`; returns the update queued for the bot.

        In groups (negative chat_id) privacy mode applies: the bot only gets commands,
        mentions and replies to its own messages.
        """
        payload: JSON = {
            "user_id": user_id,
            "text": text,
            "first_name": first_name,
            "chat_type": chat_type,
            "chat_id": chat_id,
            "reply_to": reply_to,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "title": title,
        }
        result: JSON = await self._act("send", {k: v for k, v in payload.items() if v is not None})
        return result

    async def press(
        self,
        user_id: int,
        message_id: int,
        *,
        button: int | str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """Press an inline button: by 0-based index over all buttons row by row, or by label
        (exact, else the only one containing it, case-insensitive). `data` forges callback data.
        """
        payload: JSON = {"user_id": user_id, "message_id": message_id, "chat_id": chat_id}
        if button is not None:
            payload["button"] = button
            if isinstance(button, str):
                payload["button_is_label"] = True
        if data is not None:
            payload["data"] = data
        result: JSON = await self._act("press", payload)
        return result

    async def inject_update(self, update: JSON) -> JSON:
        """Queue any raw update (edited messages, stickers, photos, channel posts, ...)."""
        result: JSON = await self._act("inject_update", {"update": update})
        return result

    async def block(self, user_id: int, blocked: bool = True) -> JSON | None:
        """The user blocks (or unblocks) the bot; returns the my_chat_member update, if any."""
        result: JSON | None = await self._act("block", {"user_id": user_id, "blocked": blocked})
        return result

    # --- inspection -------------------------------------------------------------------------

    async def messages(self, chat_id: int) -> list[JSON]:
        """The bot's messages in the chat as they are now, plus "edit_count" (and "html")."""
        result, _ = await self._call("messages", {"chat_id": chat_id})
        return list(result)

    # The server does the waiting (long poll), so a timeout parameter is the natural API.
    async def events(self, after: int = 0, timeout: float = 0) -> list[JSON]:  # noqa: ASYNC109
        """Events with seq > after; with a timeout, waits until at least one exists."""
        result, _ = await self._call("events", {"after": after, "timeout": timeout}, wait=timeout)
        return list(result)

    async def wait_for(
        self,
        predicate: Callable[[JSON], bool],
        *,
        after: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline spread over several long polls
    ) -> JSON:
        """The first event after `after` (default: the cursor) matching `predicate`."""
        start = self._cursor if after is None else after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor = start
        seen: list[JSON] = []
        while True:
            remaining = deadline - loop.time()
            batch = await self.events(after=cursor, timeout=max(remaining, 0.0))
            for event in batch:
                cursor = max(cursor, int(event["seq"]))
                if predicate(event):
                    if after is None:
                        self._cursor = max(self._cursor, int(event["seq"]))
                    return event
                seen.append(event)
                del seen[:-10]
            if remaining <= 0:
                history = "\n".join(_describe(e) for e in seen) or "  (no events at all)"
                raise TimeoutError(f"no matching event within {timeout}s after seq {start}; last events:\n{history}")

    async def wait_for_message(
        self,
        chat_id: int | None = None,
        *,
        contains: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - passed on to wait_for
    ) -> JSON:
        """Shortcut: the next "message" event (optionally in a chat, containing some text)."""

        def matches(event: JSON) -> bool:
            if event["type"] != "message" or (chat_id is not None and event["chat_id"] != chat_id):
                return False
            message = event.get("message") or {}
            text = message.get("text") or message.get("caption") or ""
            return contains is None or contains in text

        return await self.wait_for(matches, timeout=timeout)

    async def calls(self, method: str | None = None) -> list[JSON]:
        """Every Bot API call the bot made: {"seq","time","method","params","status","ok"}."""
        payload = {"method": method} if method is not None else {}
        result, _ = await self._call("calls", payload)
        return list(result)

    async def set_latency(self, ms: float, jitter_ms: float = 0.0, *, seed: int | None = None) -> JSON:
        """Delay every Bot API answer to this bot by `ms` plus up to `jitter_ms` (0 turns it off)."""
        payload: JSON = {"ms": ms, "jitter_ms": jitter_ms}
        if seed is not None:
            payload["seed"] = seed
        result, _ = await self._call("latency", payload)
        return dict(result)

    async def stats(self) -> JSON:
        """Successful sendMessage/sendPhoto/sendDocument counts and 1 s sliding-window peaks."""
        result, _ = await self._call("stats")
        per_chat = {int(k): int(v) for k, v in result["max_per_second_per_chat"].items()}
        return {**result, "max_per_second_per_chat": per_chat}

    async def state(self) -> JSON:
        result, _ = await self._call("state")
        return dict(result)

    # --- control ----------------------------------------------------------------------------

    async def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> JSON:
        """Make the next `times` calls of `method` (optionally only for chat_id) fail."""
        payload: JSON = {
            "method": method,
            "error_code": error_code,
            "description": description,
            "retry_after": retry_after,
            "times": times,
            "chat_id": chat_id,
        }
        result, _ = await self._call("fail_next", payload)
        return dict(result)

    async def network_fault(
        self, method: str, *, kind: str, seconds: float = 0.0, times: int = 1, chat_id: int | None = None
    ) -> JSON:
        """Make the next `times` calls of `method` drop the connection ("reset") or answer only
        after `seconds` ("delay": the call still takes effect, as a slow Telegram would)."""
        payload: JSON = {"method": method, "kind": kind, "seconds": seconds, "times": times, "chat_id": chat_id}
        result, _ = await self._call("network_fault", payload)
        return dict(result)

    async def route_webhook(self, targets: list[str], *, ordered: bool = True) -> JSON:
        """Where the webhook URL leads locally: the workers' URLs, posted to in turn. `ordered=False`
        posts a chat's next update without waiting for the answer to its previous one."""
        result, _ = await self._call("route_webhook", {"targets": targets, "ordered": ordered})
        return dict(result)

    async def redeliver(self, times: int) -> JSON:
        """Post each of the next `times` updates to two workers at once (Telegram re-sending)."""
        result, _ = await self._call("redeliver", {"times": times})
        return dict(result)

    async def reset(self) -> None:
        """Forget everything for this token: chats, messages, updates, events, calls, faults."""
        _, body = await self._call("reset")
        self._cursor = int(body.get("event_seq", 0))
