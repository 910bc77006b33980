"""The Bot API side of the emulator: parameter decoding and one function per method."""

from __future__ import annotations

import asyncio
import base64
import builtins
import functools
import inspect
import json
import logging
import re
import secrets
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.formatting import (
    DETECTED_TYPES,
    EntityParseError,
    check_url,
    detect_entities,
    parse_text,
    sort_entities,
    trim,
    utf16_len,
)
from emulator.media import guess_extension, guess_mime, image_size
from emulator.state import (
    JSON,
    ApiError,
    BotState,
    ChatState,
    FileRecord,
    StoredMessage,
)

_LOGGER = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
BLOCKED = "Forbidden: bot was blocked by the user"

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
INLINE_BUTTON_KINDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip
# Parameters that python-telegram-bot JSON-encodes into form fields; decoded for calls().
JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "link_preview_options",
        "reply_parameters", "commands", "scope", "menu_button", "allowed_updates", "media",
        "message_ids",
    }
)  # fmt: skip
INT_PARAMS = frozenset(
    {
        "chat_id", "message_id", "user_id", "offset", "limit", "timeout", "cache_time",
        "message_thread_id", "reply_to_message_id", "max_connections",
    }
)  # fmt: skip
BOOL_TRUE = frozenset({"true", "1", "yes", "on"})
DOCUMENT_KEYS = ("file_name", "mime_type", "file_id", "file_unique_id", "file_size")


def _sent_file(bot: BotState, result: Any) -> JSON | None:
    """The stored file a successful send returned in its message, as {"kind", "file_name"}."""
    if not isinstance(result, dict):
        return None
    photos = result.get("photo")
    media = result.get("animation") or result.get("document") or (photos[-1] if photos else None)
    record = bot.files.get(media.get("file_id", "")) if isinstance(media, dict) else None
    return None if record is None else {"kind": record.kind, "file_name": record.file_name}


@dataclass(slots=True)
class Upload:
    file_name: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class WithDescription:
    """A successful result that Telegram sends with a "description" (setWebhook & co)."""

    result: Any
    description: str


class Params:
    """Request parameters from a query string, form, multipart body or JSON body."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def raw(self, key: str) -> Any:
        value = self.values.get(key)
        return None if value == "" else value

    def str(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, key: builtins.str) -> int | None:
        value = self.raw(key)
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[+-]?\d{1,19}", text) else None

    def float(self, key: builtins.str) -> float | None:
        value = self.raw(key)
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    def bool(self, key: builtins.str) -> bool:
        value = self.raw(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        return isinstance(value, str) and value.strip().lower() in BOOL_TRUE

    def json(self, key: builtins.str, error: builtins.str) -> Any:
        value = self.raw(key)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, error) from None

    def for_record(self) -> JSON:
        """Parameters as calls() reports them: JSON fields decoded, ids as ints, files summarised."""
        record: JSON = {}
        for key, value in self.values.items():
            if key in JSON_PARAMS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            elif key in INT_PARAMS and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                value = int(value)
            record[key] = value
        for key, upload in self.files.items():
            record[key] = {
                "file_name": upload.file_name,
                "mime_type": upload.content_type,
                "size": len(upload.data),
            }
        return record


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def parse_chat_id(value: Any, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise bad("chat_id is empty")
        return None
    if isinstance(value, bool):
        raise bad("chat not found")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d{1,19}", text):
        return int(text)
    raise bad("chat not found")


@functools.cache
def telegram_method_names() -> dict[str, str]:
    """Every real Bot API method, lower-case -> camelCase, from python-telegram-bot's aliases."""
    try:
        import telegram  # only needed once an unimplemented method shows up
    except ImportError:  # pragma: no cover - the emulator also runs without PTB
        return {}
    return {
        name.lower(): name
        for name, _ in inspect.getmembers(telegram.Bot, inspect.isfunction)
        if not name.startswith("_") and name != name.lower()
    }


Handler = Callable[[BotState, Params], Any]


class BotApi:
    def __init__(self, files_dir: Callable[[], Path], callback_query_ttl: float) -> None:
        self._files_dir = files_dir
        self.callback_query_ttl = callback_query_ttl
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "logOut": self.log_out,
            "close": self.log_out,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "sendPhoto": self.send_photo,
            "sendAnimation": self.send_animation,
            "sendDocument": self.send_document,
            "getFile": self.get_file,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendChatAction": self.send_chat_action,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "getChat": self.get_chat,
            "setMyName": self._text_setter("name"),
            "getMyName": self._text_getter("name"),
            "setMyDescription": self._text_setter("description"),
            "getMyDescription": self._text_getter("description"),
            "setMyShortDescription": self._text_setter("short_description"),
            "getMyShortDescription": self._text_getter("short_description"),
        }
        self.handlers = {name.lower(): handler for name, handler in handlers.items()}
        self.canonical = {name.lower(): name for name in handlers}

    # --- dispatch ---------------------------------------------------------------------------

    async def call(self, bot: BotState, method: str, params: Params) -> tuple[int, JSON]:
        """Run one Bot API call and record it; returns (HTTP status, response body)."""
        key = method.lower()
        record: JSON = {
            "seq": bot.next_seq(),
            "time": time.time(),
            "method": self.canonical.get(key, method),
            "params": params.for_record(),
            "status": None,
            "ok": None,
        }
        bot.calls.append(record)
        try:
            result = self._run(bot, key, params)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as error:
            status, body = error.code, error.body()
            record["description"] = error.description
        except Exception as error:
            # An emulator bug: answer like a Telegram outage but keep the cause visible.
            _LOGGER.exception("emulator failed on %s", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            record["description"] = f"emulator error: {error!r}"
        else:
            status, body = 200, {"ok": True, "result": result}
            sent = _sent_file(bot, result)
            if sent is not None:
                # Which file a send carried, uploaded or by file_id: a replaying bot needs the name.
                record["file"] = sent
            if isinstance(result, WithDescription):
                body = {"ok": True, "result": result.result, "description": result.description}
        record["status"] = status
        record["ok"] = status == 200
        return status, body

    def _run(self, bot: BotState, key: str, params: Params) -> Any:
        chat_id: int | None = None
        if bot.faults:
            try:
                chat_id = parse_chat_id(params.raw("chat_id"), required=False)
            except ApiError:
                chat_id = None
            fault = bot.take_fault(key, chat_id)
            if fault is not None:
                parameters = None
                if fault.error_code == 429:
                    parameters = {"retry_after": fault.retry_after}
                raise ApiError(fault.error_code, fault.description, parameters)
        handler = self.handlers.get(key)
        if handler is None:
            known = telegram_method_names().get(key)
            if known is not None:
                # A real method the emulator lacks: say so instead of a misleading 404.
                raise bad(f"{known} is not supported by the Limber emulator")
            raise ApiError(404, "Not Found")
        return handler(bot, params)

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _chat(bot: BotState, chat_id: int | None) -> ChatState:
        chat = bot.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad("chat not found")
        return chat

    def _users(self, bot: BotState) -> Callable[[int], JSON | None]:
        return bot.users.get

    def _formatted(
        self, bot: BotState, p: Params, text_key: str, mode_key: str, entities_key: str
    ) -> tuple[str, list[JSON], str | None]:
        """(plain text, entities, raw HTML or None) after parse_mode, trimming and detection."""
        text = p.str(text_key) or ""
        parse_mode = p.str(mode_key)
        given = p.json(entities_key, "can't parse entities JSON object")
        html: str | None = None
        if given is not None:
            entities = self._given_entities(given, text)
        else:
            try:
                text_out, entities = parse_text(text, parse_mode, self._users(bot))
            except EntityParseError as error:
                raise bad(f"can't parse entities: {error}") from None
            except ValueError:
                raise bad("unsupported parse_mode") from None
            if parse_mode and parse_mode.strip().lower() == "html":
                html = text
            text = text_out
        text, entities = trim(text, entities)
        return text, detect_entities(text, entities), html

    @staticmethod
    def _given_entities(given: Any, text: str) -> list[JSON]:
        if not isinstance(given, list):
            raise bad("can't parse entities: expected an Array")
        total = utf16_len(text)
        entities: list[JSON] = []
        for item in given:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise bad("can't parse MessageEntity: expected an Object with a type")
            offset, length = item.get("offset"), item.get("length")
            if not isinstance(offset, int) or not isinstance(length, int):
                raise bad("can't parse MessageEntity: offset and length must be Numbers")
            if item["type"] in DETECTED_TYPES or length <= 0 or offset >= total:
                continue
            entities.append({**item, "length": min(length, total - offset)})
        return sort_entities(entities)

    def _reply_markup(self, p: Params) -> tuple[JSON | None, JSON | None]:
        """(inline keyboard for Message.reply_markup, other keyboard kept aside)."""
        markup = p.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad("object expected as reply markup")
        if "inline_keyboard" in markup:
            return self._inline_keyboard(markup["inline_keyboard"]), None
        if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
            return None, markup
        raise bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _inline_keyboard(rows: Any) -> JSON | None:
        if not isinstance(rows, list):
            raise bad('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        clean_rows: list[list[JSON]] = []
        for row in rows:
            if not isinstance(row, list):
                raise bad('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
            clean_row: list[JSON] = []
            for button in row:
                prefix = "can't parse inline keyboard button: "
                if not isinstance(button, dict):
                    raise bad(prefix + "InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str):
                    raise bad(prefix + 'Can\'t find field "text"')
                kind = next((k for k in INLINE_BUTTON_KINDS if button.get(k) not in (None, "")), "")
                if not kind and "callback_data" in button:
                    kind = "callback_data"
                if not kind:
                    raise bad(prefix + "Text buttons are unallowed in the inline keyboard")
                if kind == "callback_data":
                    data = button["callback_data"]
                    if not isinstance(data, str):
                        data = json.dumps(data)
                    if not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                        raise bad("BUTTON_DATA_INVALID")
                if kind == "url" and check_url(str(button["url"])) is None:
                    raise bad("BUTTON_URL_INVALID")
                clean_row.append(button)
            if clean_row:
                clean_rows.append(clean_row)
        return {"inline_keyboard": clean_rows} if clean_rows else None

    @staticmethod
    def _reply_to(chat: ChatState, p: Params) -> JSON | None:
        parameters = p.json("reply_parameters", "can't parse reply parameters JSON object")
        allow = p.bool("allow_sending_without_reply")
        message_id: int | None = None
        if isinstance(parameters, dict):
            raw_id = parameters.get("message_id")
            message_id = raw_id if isinstance(raw_id, int) else None
            allow = bool(parameters.get("allow_sending_without_reply", allow))
        else:
            message_id = p.int("reply_to_message_id")
        if message_id is None:
            return None
        stored = chat.messages.get(message_id)
        if stored is None:
            if allow:
                return None
            raise bad("message to be replied not found")
        replied = dict(stored.data)
        replied.pop("reply_to_message", None)
        return replied

    @staticmethod
    def _writable(chat: ChatState) -> None:
        if chat.blocked:
            raise ApiError(403, BLOCKED)

    def _deliver(
        self,
        bot: BotState,
        chat: ChatState,
        p: Params,
        body: JSON,
        *,
        inline: JSON | None,
        keyboard: JSON | None,
        html: str | None = None,
        file_path: str | None = None,
    ) -> JSON:
        """Store a new bot message in the chat, emit its event, count it for stats()."""
        reply_to = self._reply_to(chat, p)
        data: JSON = {
            "message_id": chat.next_message_id,
            "from": bot.user,
            "chat": dict(chat.chat),
            "date": int(time.time()),
        }
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        data.update(body)
        if inline is not None:
            data["reply_markup"] = inline
        if p.bool("protect_content"):
            data["has_protected_content"] = True
        stored = StoredMessage(data, from_bot=True, html=html, file_path=file_path)
        stored.keyboard = keyboard
        bot.add_message(chat, stored)
        bot.sends.append((time.monotonic(), int(chat.chat["id"])))
        event: JSON = {"message_id": data["message_id"], "message": stored.view()}
        if file_path is not None:
            event["file_path"] = file_path
        bot.add_event("message", int(chat.chat["id"]), **event)
        return data

    def _caption(self, bot: BotState, p: Params) -> tuple[JSON, str | None]:
        text, entities, html = self._formatted(bot, p, "caption", "parse_mode", "caption_entities")
        if len(text) > MAX_CAPTION:
            raise bad("message caption is too long")
        body: JSON = {}
        if text:
            body["caption"] = text
            if entities:
                body["caption_entities"] = entities
        return body, html

    # --- getMe, updates, webhooks -----------------------------------------------------------

    @staticmethod
    def get_me(bot: BotState, p: Params) -> JSON:
        return bot.get_me()

    async def get_updates(self, bot: BotState, p: Params) -> list[JSON]:
        if bot.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        if bot.poller is not None and not bot.poller.done():
            bot.poller.set_result("conflict")
        allowed = p.json("allowed_updates", "can't parse allowed updates JSON object")
        if isinstance(allowed, list):
            bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        offset = p.int("offset")
        if offset is not None and offset != 0:
            bot.confirm(offset)
        limit = p.int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(p.float("timeout") or 0.0, 0.0)
        if bot.updates or timeout <= 0:
            return bot.take(limit)
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        bot.poller = waiter
        try:
            async with asyncio.timeout(timeout):
                reason = await waiter
        except TimeoutError:
            reason = "timeout"
        finally:
            if bot.poller is waiter:
                bot.poller = None
        if reason == "conflict":
            raise ApiError(409, CONFLICT_POLL)
        if reason == "webhook":
            raise ApiError(409, CONFLICT_WEBHOOK)
        return bot.take(limit)

    @staticmethod
    def set_webhook(bot: BotState, p: Params) -> WithDescription:
        url = (p.str("url") or "").strip()
        if p.bool("drop_pending_updates"):
            bot.updates.clear()
        if not url:
            return BotApi.delete_webhook(bot, p)
        if not url.lower().startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        port = re.match(r"https://[^/:]+(?::(\d+))?", url, re.IGNORECASE)
        if port and port.group(1) and port.group(1) not in ("80", "88", "443", "8443"):
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = p.str("secret_token") or ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        same = bot.webhook_url == url
        bot.webhook_url = url
        bot.webhook_secret = secret
        info: JSON = {"max_connections": p.int("max_connections") or 40, "ip_address": "127.0.0.1"}
        allowed = p.json("allowed_updates", "can't parse allowed updates JSON object")
        if isinstance(allowed, list):
            bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
            if allowed:
                info["allowed_updates"] = allowed
        bot.webhook_info = info
        if bot.poller is not None and not bot.poller.done():
            bot.poller.set_result("webhook")
        bot.notify()
        return WithDescription(True, "Webhook is already set" if same else "Webhook was set")

    @staticmethod
    def delete_webhook(bot: BotState, p: Params) -> WithDescription:
        if p.bool("drop_pending_updates"):
            bot.updates.clear()
        was_set = bool(bot.webhook_url)
        bot.webhook_url = ""
        bot.webhook_info = {}
        bot.webhook_secret = ""
        return WithDescription(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    @staticmethod
    def get_webhook_info(bot: BotState, p: Params) -> JSON:
        info: JSON = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if bot.webhook_url:
            info.update(bot.webhook_info)
        return info

    @staticmethod
    def log_out(bot: BotState, p: Params) -> bool:
        return True

    # --- messages ---------------------------------------------------------------------------

    def send_message(self, bot: BotState, p: Params) -> JSON:
        chat_id = parse_chat_id(p.raw("chat_id"))
        text, entities, html = self._formatted(bot, p, "text", "parse_mode", "entities")
        if not text:
            raise bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad("message is too long")
        inline, keyboard = self._reply_markup(p)
        chat = self._chat(bot, chat_id)
        self._writable(chat)
        body: JSON = {"text": text}
        if entities:
            body["entities"] = entities
        return self._deliver(bot, chat, p, body, inline=inline, keyboard=keyboard, html=html)

    def _editable(self, bot: BotState, p: Params) -> tuple[ChatState, StoredMessage]:
        if p.raw("inline_message_id") is not None:
            raise bad("MESSAGE_ID_INVALID")
        chat = self._chat(bot, parse_chat_id(p.raw("chat_id")))
        message_id = p.int("message_id")
        if message_id is None:
            raise bad("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None:
            raise bad("message to edit not found")
        if not stored.from_bot:
            raise bad("message can't be edited")
        return chat, stored

    @staticmethod
    def _commit_edit(bot: BotState, chat: ChatState, stored: StoredMessage, data: JSON, html: str | None) -> JSON:
        old = {k: v for k, v in stored.data.items() if k != "edit_date"}
        if data == old:
            raise ApiError(400, NOT_MODIFIED)
        data["edit_date"] = int(time.time())
        stored.data = data
        stored.html = html
        stored.edit_count += 1
        bot.add_event("edit", int(chat.chat["id"]), message_id=data["message_id"], message=stored.view())
        return data

    @staticmethod
    def _base(stored: StoredMessage, *drop: str) -> JSON:
        return {k: v for k, v in stored.data.items() if k != "edit_date" and k not in drop}

    def edit_message_text(self, bot: BotState, p: Params) -> JSON:
        text, entities, html = self._formatted(bot, p, "text", "parse_mode", "entities")
        if not text:
            raise bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad("message is too long")
        inline, _ = self._reply_markup(p)
        chat, stored = self._editable(bot, p)
        if "text" not in stored.data:
            raise bad("there is no text in the message to edit")
        data = self._base(stored, "entities", "reply_markup")
        data["text"] = text
        if entities:
            data["entities"] = entities
        if inline is not None:
            data["reply_markup"] = inline
        return self._commit_edit(bot, chat, stored, data, html)

    def edit_message_caption(self, bot: BotState, p: Params) -> JSON:
        caption, html = self._caption(bot, p)
        inline, _ = self._reply_markup(p)
        chat, stored = self._editable(bot, p)
        if "text" in stored.data:
            raise bad("there is no caption in the message to edit")
        data = self._base(stored, "caption", "caption_entities", "reply_markup")
        data.update(caption)
        if inline is not None:
            data["reply_markup"] = inline
        return self._commit_edit(bot, chat, stored, data, html)

    def edit_message_reply_markup(self, bot: BotState, p: Params) -> JSON:
        inline, _ = self._reply_markup(p)
        chat, stored = self._editable(bot, p)
        data = self._base(stored, "reply_markup")
        if inline is not None:
            data["reply_markup"] = inline
        return self._commit_edit(bot, chat, stored, data, stored.html)

    def delete_message(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(bot, parse_chat_id(p.raw("chat_id")))
        message_id = p.int("message_id")
        if message_id is None:
            raise bad("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None:
            raise bad("message to delete not found")
        if not stored.from_bot and chat.chat.get("type") != "private":
            raise bad("message can't be deleted")
        del chat.messages[message_id]
        bot.add_event("delete", int(chat.chat["id"]), message_id=message_id)
        return True

    def delete_messages(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(bot, parse_chat_id(p.raw("chat_id")))
        ids = p.json("message_ids", "can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message identifiers are not specified")
        for message_id in ids:
            stored = chat.messages.get(message_id) if isinstance(message_id, int) else None
            if stored is None or (not stored.from_bot and chat.chat.get("type") != "private"):
                continue
            del chat.messages[message_id]
            bot.add_event("delete", int(chat.chat["id"]), message_id=message_id)
        return True

    def answer_callback_query(self, bot: BotState, p: Params) -> bool:
        query_id = p.str("callback_query_id") or ""
        now = time.monotonic()
        bot.expire_callbacks(self.callback_query_ttl, now)
        record = bot.callbacks.get(query_id)
        if record is None or record.answered or now - record.created > self.callback_query_ttl:
            raise ApiError(400, TOO_OLD)
        record.answered = True
        bot.add_event(
            "callback_answer",
            record.chat_id,
            callback_query_id=query_id,
            message_id=record.message_id,
            text=p.str("text"),
            show_alert=p.bool("show_alert"),
            url=p.str("url"),
        )
        return True

    # --- files ------------------------------------------------------------------------------

    def send_photo(self, bot: BotState, p: Params) -> JSON:
        return self._send_file(bot, p, "photo")

    def send_document(self, bot: BotState, p: Params) -> JSON:
        return self._send_file(bot, p, "document")

    def send_animation(self, bot: BotState, p: Params) -> JSON:
        return self._send_file(bot, p, "animation")

    def _send_file(self, bot: BotState, p: Params, kind: str) -> JSON:
        chat_id = parse_chat_id(p.raw("chat_id"))
        caption, html = self._caption(bot, p)
        inline, keyboard = self._reply_markup(p)
        chat = self._chat(bot, chat_id)
        self._writable(chat)
        record = self._input_file(bot, p, kind)
        if kind == "photo":
            size = {
                "file_id": record.file_id,
                "file_unique_id": record.file_unique_id,
                "file_size": record.size,
                "width": record.width,
                "height": record.height,
            }
            body: JSON = {"photo": [size]}
        elif kind == "animation":
            animation = {
                "file_name": record.file_name,
                "mime_type": record.mime_type,
                "file_id": record.file_id,
                "file_unique_id": record.file_unique_id,
                "file_size": record.size,
                "width": record.width,
                "height": record.height,
                "duration": 0,
            }
            # As Telegram does: an animation also comes as a document, for clients that predate animations.
            body = {"animation": animation, "document": {k: v for k, v in animation.items() if k in DOCUMENT_KEYS}}
        else:
            body = {
                "document": {
                    "file_name": record.file_name,
                    "mime_type": record.mime_type,
                    "file_id": record.file_id,
                    "file_unique_id": record.file_unique_id,
                    "file_size": record.size,
                }
            }
        body.update(caption)
        return self._deliver(
            bot,
            chat,
            p,
            body,
            inline=inline,
            keyboard=keyboard,
            html=html,
            file_path=str(record.local_path),
        )

    def _input_file(self, bot: BotState, p: Params, kind: str) -> FileRecord:
        upload = p.files.get(kind)
        value = p.raw(kind)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = p.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad(f"there is no {kind} in the request")
        if upload is not None:
            return self._store_upload(bot, upload, kind)
        if value is None:
            raise bad(f"there is no {kind} in the request")
        file_id = str(value).strip()
        if file_id.lower().startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        record = bot.files.get(file_id)
        if record is None:
            raise bad("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad(f"can't use file of type {record.kind.title()} as {kind.title()}")
        return record

    def _store_upload(self, bot: BotState, upload: Upload, kind: str) -> FileRecord:
        data = upload.data
        if not data:
            raise bad("file must be non-empty")
        width = height = 0
        if kind == "animation":
            width, height = image_size(data) or (0, 0)
        if kind == "photo":
            size = image_size(data)
            if size is not None:
                width, height = size
                if width + height > 10000 or max(width, height) > 20 * max(min(width, height), 1):
                    raise bad("PHOTO_INVALID_DIMENSIONS")
        file_name = _safe_name(upload.file_name)
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = guess_mime(file_name, data)
        bot.file_counter += 1
        number = bot.file_counter
        ext = guess_extension(file_name, mime) or (".jpg" if kind == "photo" else "")
        folder = {"photo": "photos", "animation": "animations"}.get(kind, "documents")
        api_path = f"{folder}/file_{number}{ext}"
        disk_name = file_name
        if file_name == upload.content_type.replace("/", "."):
            # python-telegram-bot's stand-in name for nameless bytes; give the file a usable one.
            disk_name = f"{kind}_{number}{ext}"
        local_path = _unique_path(self._files_dir() / str(bot.bot_id), disk_name)
        local_path.write_bytes(data)
        raw_id = struct.pack(">QI", bot.bot_id, number) + secrets.token_bytes(12)
        raw_unique = struct.pack(">I", number) + secrets.token_bytes(6)
        record = FileRecord(
            file_id={"photo": "AgAC", "animation": "CgAC"}.get(kind, "BQAC") + _b64(raw_id),
            file_unique_id=("AQAD" if kind == "photo" else "AgAD") + _b64(raw_unique),
            kind=kind,
            local_path=local_path,
            api_path=api_path,
            size=len(data),
            file_name=file_name,
            mime_type=mime,
            width=width,
            height=height,
        )
        bot.files[record.file_id] = record
        bot.files_by_path[api_path] = record
        return record

    @staticmethod
    def get_file(bot: BotState, p: Params) -> JSON:
        record = bot.files.get((p.str("file_id") or "").strip())
        if record is None:
            raise bad("invalid file_id")
        if record.size > MAX_DOWNLOAD:
            raise bad("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": record.api_path,
        }

    # --- commands, menu, chat info ----------------------------------------------------------

    @staticmethod
    def _scope_key(p: Params) -> tuple[str, JSON, str]:
        scope = p.json("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad("wrong bot command scope type specified")
        language = p.str("language_code") or ""
        key = json.dumps([scope.get("type"), scope.get("chat_id"), scope.get("user_id"), language])
        return key, scope, language

    def set_my_commands(self, bot: BotState, p: Params) -> bool:
        commands = p.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad("can't parse BotCommand: expected an Object")
            command = str(item.get("command", "")).strip().removeprefix("/")
            description = str(item.get("description", "")).strip()
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": command, "description": description})
        key, scope, language = self._scope_key(p)
        if clean:
            bot.commands[key] = clean
        else:
            bot.commands.pop(key, None)
        bot.add_event("commands", scope.get("chat_id"), commands=clean, scope=scope,
                      language_code=language)  # fmt: skip
        return True

    def get_my_commands(self, bot: BotState, p: Params) -> list[JSON]:
        key, _, _ = self._scope_key(p)
        return [dict(command) for command in bot.commands.get(key, [])]

    def delete_my_commands(self, bot: BotState, p: Params) -> bool:
        key, scope, language = self._scope_key(p)
        bot.commands.pop(key, None)
        bot.add_event("commands", scope.get("chat_id"), commands=[], scope=scope,
                      language_code=language)  # fmt: skip
        return True

    def send_chat_action(self, bot: BotState, p: Params) -> bool:
        chat_id = parse_chat_id(p.raw("chat_id"))
        action = p.str("action") or ""
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        chat = self._chat(bot, chat_id)
        self._writable(chat)
        bot.add_event("chat_action", chat_id, action=action)
        return True

    def set_chat_menu_button(self, bot: BotState, p: Params) -> bool:
        chat_id = parse_chat_id(p.raw("chat_id"), required=False)
        if chat_id is not None:
            self._chat(bot, chat_id)
        button = p.json("menu_button", "can't parse menu button JSON object") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad("can't parse menu button JSON object")
        bot.menu_buttons[chat_id] = button
        return True

    def get_chat_menu_button(self, bot: BotState, p: Params) -> JSON:
        chat_id = parse_chat_id(p.raw("chat_id"), required=False)
        if chat_id is not None:
            self._chat(bot, chat_id)
        button = bot.menu_buttons.get(chat_id)
        if button is None or button.get("type") == "default":
            button = bot.menu_buttons.get(None)
        if button is None or button.get("type") == "default":
            return {"type": "commands"}
        return dict(button)

    def get_chat(self, bot: BotState, p: Params) -> JSON:
        chat = self._chat(bot, parse_chat_id(p.raw("chat_id")))
        return {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @staticmethod
    def _text_setter(field: str) -> Handler:
        def setter(bot: BotState, p: Params) -> bool:
            key = f"{field}:{p.str('language_code') or ''}"
            value = p.str(field) or ""
            if value:
                bot.texts[key] = value
            else:
                bot.texts.pop(key, None)
            return True

        return setter

    @staticmethod
    def _text_getter(field: str) -> Handler:
        def getter(bot: BotState, p: Params) -> JSON:
            language = p.str("language_code") or ""
            value = bot.texts.get(f"{field}:{language}", bot.texts.get(f"{field}:", ""))
            if field == "name" and not value:
                value = bot.first_name
            return {field: value}

        return getter


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\0", "").strip()
    return name if name not in ("", ".", "..") else "file"


def _disk_name(name: str) -> str:
    """A name that is easy to type in a shell: no spaces, parentheses or other punctuation."""
    return re.sub(r"[^\w.\-]+", "-", name, flags=re.UNICODE).strip("-.") or "file"


def _unique_path(directory: Path, name: str) -> Path:
    """directory/name, or "stem-2.ext" and so on when taken, so the original name stays visible."""
    directory.mkdir(parents=True, exist_ok=True)
    name = _disk_name(name)
    path = directory / name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    counter = 2
    while path.exists():
        path = directory / (f"{stem}-{counter}.{suffix}" if suffix else f"{stem}-{counter}")
        counter += 1
    return path
