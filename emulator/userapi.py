"""The user side of the emulator: what a person (or a test) does in a chat with the bot."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from emulator.botapi import DEFAULT_DESCRIPTIONS, MAX_TEXT
from emulator.formatting import detect_entities
from emulator.state import JSON, BotState, ChatState, Fault, StoredMessage, UserApiError

NEW_MESSAGE_KINDS = frozenset({"message", "channel_post", "business_message"})
EDITED_MESSAGE_KINDS = frozenset({"edited_message", "edited_channel_post", "edited_business_message"})
CHAT_TYPES = frozenset({"private", "group", "supergroup"})
_COMMAND = re.compile(r"(?<![\w/@#$])/[A-Za-z0-9_]{1,64}(?:@([A-Za-z0-9_]{3,32}))?")


class UserApi:
    def __init__(self, callback_query_ttl: float) -> None:
        self.callback_query_ttl = callback_query_ttl

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _user(
        bot: BotState,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
            raise UserApiError("user_id must be a positive integer")
        user = dict(bot.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "Test"})
        for key, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        bot.users[user_id] = user
        return user

    @staticmethod
    def _private_chat(bot: BotState, user: JSON) -> ChatState:
        chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return bot.ensure_chat(chat)

    @staticmethod
    def _member_update(bot: BotState, chat: ChatState, user: JSON, old: str, new: str) -> JSON:
        def member(status: str) -> JSON:
            state: JSON = {"user": bot.user, "status": status}
            if status == "kicked":
                state["until_date"] = 0
            return state

        return {
            "my_chat_member": {
                "chat": dict(chat.chat),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    @staticmethod
    def _addressed_to_bot(bot: BotState, text: str, reply_to: StoredMessage | None) -> bool:
        """Privacy mode: in groups the bot only sees commands, mentions and replies to it."""
        if reply_to is not None and reply_to.from_bot:
            return True
        username = bot.username.lower()
        for match in _COMMAND.finditer(text):
            target = match.group(1)
            if target is None or target.lower() == username:
                return True
        return f"@{username}" in text.lower()

    # --- actions ----------------------------------------------------------------------------

    def send(
        self,
        bot: BotState,
        *,
        user_id: int,
        text: str,
        first_name: str | None = None,
        chat_type: str = "private",
        chat_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        title: str | None = None,
        reply_to: int | None = None,
    ) -> tuple[JSON, bool]:
        """The user writes text; returns (update, delivered to the bot)."""
        if not isinstance(text, str) or not text.strip():
            raise UserApiError("text must be a non-empty string")
        text = text.strip(" \t\r\n\v\f")  # Telegram trims message text
        if len(text) > MAX_TEXT:
            raise UserApiError(f"Telegram apps split texts over {MAX_TEXT} characters")
        if chat_type not in CHAT_TYPES:
            raise UserApiError(f"chat_type must be one of {sorted(CHAT_TYPES)}; use inject_update for channels")
        user = self._user(
            bot,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        if chat_type == "private":
            if chat_id is not None and chat_id != user_id:
                raise UserApiError("a private chat's id is the user's id")
            chat = self._private_chat(bot, user)
        else:
            if not isinstance(chat_id, int) or chat_id >= 0:
                raise UserApiError("group chats need a negative chat_id")
            existing = bot.chats.get(chat_id)
            group: JSON = {"id": chat_id, "type": chat_type}
            if title is not None or existing is None:
                group["title"] = title or "Test Group"
            chat = bot.ensure_chat(group)
        if chat.blocked:
            # Writing to a blocked bot means pressing "Restart", which unblocks it first.
            chat.blocked = False
            bot.enqueue(self._member_update(bot, chat, user, "kicked", "member"))
        message: JSON = {
            "message_id": chat.next_message_id,
            "from": user,
            "chat": dict(chat.chat),
            "date": int(time.time()),
        }
        replied: StoredMessage | None = None
        if reply_to is not None:
            replied = chat.messages.get(reply_to)
            if replied is None:
                raise UserApiError(f"message {reply_to} not found in chat {chat.chat['id']}")
            reply_data = dict(replied.data)
            reply_data.pop("reply_to_message", None)
            message["reply_to_message"] = reply_data
        message["text"] = text
        entities = detect_entities(text, [])
        if entities:
            message["entities"] = entities
        bot.add_message(chat, StoredMessage(message, from_bot=False))
        delivered = chat_type == "private" or not bot.privacy_mode or self._addressed_to_bot(bot, text, replied)
        if not delivered:
            return {"update_id": bot.next_update_id, "message": message}, False
        before = bot.next_update_id
        update = bot.enqueue({"message": message})
        return update, bot.next_update_id != before

    def press(
        self,
        bot: BotState,
        *,
        user_id: int,
        message_id: int,
        button: int | str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """The user presses an inline button (or sends forged callback data)."""
        chat_id = user_id if chat_id is None else chat_id
        chat = bot.chats.get(chat_id)
        if chat is None:
            raise UserApiError(f"chat {chat_id} not found: the user has to write first")
        stored = chat.messages.get(message_id)
        if stored is None:
            raise UserApiError(f"message {message_id} not found in chat {chat_id}")
        if data is None:
            chosen = self._find_button(stored, button)
            data = chosen.get("callback_data")
            if data is None:
                kind = next((k for k in chosen if k != "text"), "text")
                raise UserApiError(f"button {chosen['text']!r} is a {kind} button, not callback")
        elif not isinstance(data, str):
            raise UserApiError("data must be a string")
        user = self._user(bot, user_id)
        query_id = bot.new_callback(self.callback_query_ttl, chat_id, message_id)
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": dict(stored.data),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        return bot.enqueue({"callback_query": query})

    @staticmethod
    def _find_button(stored: StoredMessage, button: int | str | None) -> JSON:
        markup = stored.data.get("reply_markup") or {}
        buttons: list[JSON] = [b for row in markup.get("inline_keyboard", []) for b in row]
        if not buttons:
            raise UserApiError(f"message {stored.data['message_id']} has no inline keyboard")
        labels = [b["text"] for b in buttons]
        if button is None:
            if len(buttons) == 1:
                return buttons[0]
            raise UserApiError(f"say which button (index or label): {labels}")
        if isinstance(button, int) and not isinstance(button, bool):
            if not 0 <= button < len(buttons):
                raise UserApiError(f"button index {button} out of range; buttons: {labels}")
            return buttons[button]
        if not isinstance(button, str):
            raise UserApiError("button must be an index or a label")
        exact = [b for b in buttons if b["text"] == button]
        if exact:
            return exact[0]
        needle = button.casefold()
        partial = [b for b in buttons if needle in b["text"].casefold()]
        if len(partial) == 1:
            return partial[0]
        if not partial:
            raise UserApiError(f"no button labelled {button!r}; buttons: {labels}")
        raise UserApiError(f"{button!r} matches several buttons: {[b['text'] for b in partial]}")

    def inject_update(self, bot: BotState, update: Any) -> JSON:
        """Queue a raw update; chats, users and messages in it become known to the emulator."""
        if not isinstance(update, dict):
            raise UserApiError("update must be an object")
        body = copy.deepcopy(update)
        body.pop("update_id", None)
        if len(body) != 1:
            raise UserApiError("an update holds exactly one field besides update_id")
        kind, payload = next(iter(body.items()))
        if not isinstance(payload, dict):
            raise UserApiError(f"{kind} must be an object")
        now = int(time.time())
        if "from" in payload and isinstance(payload["from"], dict) and "id" in payload["from"]:
            bot.users[int(payload["from"]["id"])] = payload["from"]
        if kind in NEW_MESSAGE_KINDS or kind in EDITED_MESSAGE_KINDS:
            chat_data = payload.get("chat")
            if not isinstance(chat_data, dict) or "id" not in chat_data or "type" not in chat_data:
                raise UserApiError(f"{kind}.chat with id and type is required")
            chat = bot.ensure_chat(chat_data)
            payload.setdefault("date", now)
            if kind in NEW_MESSAGE_KINDS:
                payload.setdefault("message_id", chat.next_message_id)
                bot.add_message(chat, StoredMessage(dict(payload), from_bot=False))
            else:
                if "message_id" not in payload:
                    raise UserApiError(f"{kind}.message_id is required")
                payload.setdefault("edit_date", now)
                stored = chat.messages.get(int(payload["message_id"]))
                if stored is not None and not stored.from_bot:
                    stored.data = dict(payload)
        elif kind == "callback_query":
            if "from" not in payload:
                raise UserApiError("callback_query.from is required")
            message = payload.get("message")
            chat_id = message_id = None
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                chat = bot.ensure_chat(message["chat"])
                chat_id, message_id = int(message["chat"]["id"]), message.get("message_id")
                payload.setdefault("chat_instance", chat.chat_instance)
            payload.setdefault("chat_instance", "0")
            if "id" in payload:
                bot.register_callback(str(payload["id"]), chat_id, message_id, time.monotonic())
            else:
                payload["id"] = bot.new_callback(self.callback_query_ttl, chat_id, message_id)
        elif kind in ("my_chat_member", "chat_member", "chat_join_request"):
            chat_data = payload.get("chat")
            if isinstance(chat_data, dict) and "id" in chat_data and "type" in chat_data:
                chat = bot.ensure_chat(chat_data)
                new_status = (payload.get("new_chat_member") or {}).get("status")
                if kind == "my_chat_member" and chat.chat.get("type") == "private":
                    chat.blocked = new_status == "kicked"
        return bot.enqueue(body)

    def block(self, bot: BotState, *, user_id: int, blocked: bool = True) -> JSON | None:
        """The user blocks (or unblocks) the bot; returns the my_chat_member update, if any."""
        existing = bot.chats.get(user_id)
        user = self._user(bot, user_id)
        chat = existing if existing is not None else self._private_chat(bot, user)
        if chat.blocked == blocked:
            return None
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        return bot.enqueue(self._member_update(bot, chat, user, old, new))

    @staticmethod
    def messages(bot: BotState, chat_id: int) -> list[JSON]:
        chat = bot.chats.get(chat_id)
        if chat is None:
            return []
        ordered = sorted(chat.messages.items())
        return [stored.view() for _, stored in ordered if stored.from_bot]

    @staticmethod
    def calls(bot: BotState, method: str | None = None) -> list[JSON]:
        if method is None:
            return list(bot.calls)
        key = method.lower()
        return [call for call in bot.calls if str(call["method"]).lower() == key]

    @staticmethod
    def fail_next(
        bot: BotState,
        *,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> JSON:
        if not isinstance(method, str) or not method:
            raise UserApiError("method is required")
        if isinstance(error_code, bool) or not isinstance(error_code, int):
            raise UserApiError("error_code must be an integer")
        if not 400 <= error_code <= 599:
            raise UserApiError("error_code must be a 4xx or 5xx status")
        if not isinstance(times, int) or times < 1:
            raise UserApiError("times must be at least 1")
        if error_code == 429:
            retry_after = 5 if retry_after is None else int(retry_after)
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        fault = Fault(method.lower(), error_code, description, retry_after, times, chat_id)
        bot.faults.append(fault)
        return {
            "method": method,
            "error_code": error_code,
            "description": description,
            "retry_after": retry_after,
            "times": times,
            "chat_id": chat_id,
        }
