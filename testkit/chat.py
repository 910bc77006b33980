"""People in private chats with the bot, through the emulator's client, and what they read off messages."""

from __future__ import annotations

import itertools
from typing import Any

from emulator import EmulatorClient

TOKEN = "123456:TEST-limber-token-abcdefghijklmnop"
JSON = dict[str, Any]


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

    async def settled(self, timeout: float = 10.0) -> None:
        """Send /help and wait for its answer: the bot handles a chat's updates in order, so by then it has
        answered everything sent before (a sentinel, instead of sleeping and hoping nothing more comes)."""
        await self.send("/help")
        await self.expect("What I can do", timeout=timeout)

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
