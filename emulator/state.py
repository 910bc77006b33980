"""Per-token bot state kept by the emulator: updates, chats, messages, events, calls, faults."""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.latency import Latency

JSON = dict[str, Any]

# Telegram leaves these out unless a bot asks for them in allowed_updates.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """A Bot API error response: {"ok": false, "error_code", "description", "parameters"?}."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class UserApiError(Exception):
    """A mistake in a test's or playground's request to the /_emu API (not a Bot API error)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class StoredMessage:
    data: JSON  # exactly what the Bot API returns; replaced, never mutated, on edits
    from_bot: bool
    html: str | None = None
    edit_count: int = 0
    file_path: str | None = None
    # A reply keyboard / ForceReply / removal sent with the message: not part of Message.
    keyboard: JSON | None = None

    def view(self) -> JSON:
        """The emulator's own view: the Bot API message plus emulator-only keys."""
        view = dict(self.data)
        view["edit_count"] = self.edit_count
        if self.html is not None:
            view["html"] = self.html
        if self.file_path is not None:
            view["file_path"] = self.file_path
        if self.keyboard is not None:
            view["reply_keyboard"] = self.keyboard
        return view


@dataclass(slots=True)
class ChatState:
    chat: JSON
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    blocked: bool = False
    chat_instance: str = ""


@dataclass(slots=True)
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # "photo", "animation" or "document"
    local_path: Path
    api_path: str
    size: int
    file_name: str
    mime_type: str
    width: int = 0
    height: int = 0


@dataclass(slots=True)
class Fault:
    method: str  # lower-case
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass(slots=True)
class NetworkFault:
    """A transport fault: "reset" drops the connection unanswered; "delay" answers late (the call
    still takes effect), so a client with a shorter timeout gives up on a request that succeeded."""

    method: str  # lower-case
    kind: str
    seconds: float
    remaining: int
    chat_id: int | None


@dataclass(slots=True)
class CallbackRecord:
    created: float
    chat_id: int | None
    message_id: int | None
    answered: bool = False


class BotState:
    """Everything one bot token sees. Mutated only from the event loop, so no locking."""

    def __init__(
        self,
        token: str,
        seq: itertools.count[int],
        *,
        first_name: str,
        username: str,
        privacy_mode: bool,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.first_name = first_name
        self.username = username
        self.privacy_mode = privacy_mode
        self._seq = seq
        self.poller: asyncio.Future[str] | None = None
        self.event_waiters: set[asyncio.Future[None]] = set()
        # Called when there is something new to post to the webhook (emulator.webhooks).
        self.on_update: Callable[[], None] | None = None
        # The round trip added to every Bot API answer (kept across reset(): it is the network's, not the bot's).
        self.latency = Latency()
        self.reset()

    def reset(self) -> None:
        self.updates: deque[JSON] = deque()
        self.next_update_id = 100_000_001
        self.allowed_updates: frozenset[str] | None = None
        self.webhook_url = ""
        self.webhook_info: JSON = {}
        self.webhook_secret = ""
        # Where the webhook URL leads locally (the workers behind the load balancer), in turn.
        self.webhook_targets: list[str] = []
        self.webhook_ordered = True  # a chat's next update waits until its previous one is answered
        self.redeliver = 0  # the next posts go to two targets at once
        self.webhook_posts = 0
        self.webhook_delivered = 0
        self.webhook_failures = 0
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, ChatState] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.callback_order: deque[tuple[float, str]] = deque()
        self.next_callback = 1
        self.commands: dict[str, list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.texts: dict[str, str] = {}  # name, description, short_description by language
        self.faults: list[Fault] = []
        self.network_faults: list[NetworkFault] = []
        self.calls: list[JSON] = []
        self.events: list[JSON] = []
        self.event_seqs: list[int] = []
        self.sends: list[tuple[float, int]] = []
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.file_counter = 0

    # --- identity -------------------------------------------------------------------------

    @property
    def user(self) -> JSON:
        """The bot as a User inside messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def get_me(self) -> JSON:
        return {
            **self.user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def next_seq(self) -> int:
        return next(self._seq)

    # --- chats ------------------------------------------------------------------------------

    def ensure_chat(self, chat: JSON) -> ChatState:
        chat_id = int(chat["id"])
        state = self.chats.get(chat_id)
        if state is None:
            digest = hashlib.sha256(f"{self.bot_id}:{chat_id}".encode()).digest()
            instance = str(int.from_bytes(digest[:8], "big", signed=True))
            state = ChatState(chat=dict(chat), chat_instance=instance)
            self.chats[chat_id] = state
        else:
            state.chat.update(chat)
        return state

    def add_message(self, chat: ChatState, message: StoredMessage) -> None:
        message_id = int(message.data["message_id"])
        chat.messages[message_id] = message
        if message_id >= chat.next_message_id:
            chat.next_message_id = message_id + 1

    # --- updates ----------------------------------------------------------------------------

    def wants(self, update_type: str) -> bool:
        if self.allowed_updates is None:
            return update_type not in DEFAULT_EXCLUDED_UPDATES
        return update_type in self.allowed_updates

    def enqueue(self, update: JSON) -> JSON:
        """Assign update_id and queue the update (if allowed_updates lets it through)."""
        update = {"update_id": self.next_update_id, **update}
        update_type = next((key for key in update if key != "update_id"), "")
        if self.wants(update_type):
            self.next_update_id += 1
            self.updates.append(update)
            if self.poller is not None and not self.poller.done():
                self.poller.set_result("update")
            self.notify()
        return update

    def notify(self) -> None:
        if self.on_update is not None and self.webhook_url:
            self.on_update()

    def confirm_one(self, update_id: int) -> None:
        """A webhook post of this update was answered 2xx: it is no longer pending."""
        for index, update in enumerate(self.updates):
            if update["update_id"] == update_id:
                del self.updates[index]
                return

    def confirm(self, offset: int) -> None:
        updates = self.updates
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    def take(self, limit: int) -> list[JSON]:
        return list(itertools.islice(self.updates, limit))

    # --- callback queries -------------------------------------------------------------------

    def new_callback(self, ttl: float, chat_id: int | None, message_id: int | None) -> str:
        now = time.monotonic()
        self.expire_callbacks(ttl, now)
        query_id = str(self.bot_id % 1_000_000 * 10**12 + self.next_callback)
        self.next_callback += 1
        self.register_callback(query_id, chat_id, message_id, now)
        return query_id

    def register_callback(self, query_id: str, chat_id: int | None, message_id: int | None, now: float) -> None:
        self.callbacks[query_id] = CallbackRecord(now, chat_id, message_id)
        self.callback_order.append((now, query_id))

    def expire_callbacks(self, ttl: float, now: float) -> None:
        order = self.callback_order
        while order and now - order[0][0] > ttl:
            _, query_id = order.popleft()
            self.callbacks.pop(query_id, None)

    # --- events -----------------------------------------------------------------------------

    def add_event(self, event_type: str, chat_id: int | None, **fields: Any) -> JSON:
        seq = self.next_seq()
        event: JSON = {"seq": seq, "type": event_type, "chat_id": chat_id, **fields}
        self.events.append(event)
        self.event_seqs.append(seq)
        if self.event_waiters:
            for waiter in self.event_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.event_waiters.clear()
        return event

    def events_after(self, after: int, limit: int | None = None) -> list[JSON]:
        start = bisect.bisect_right(self.event_seqs, after)
        end = len(self.events) if limit is None else start + limit
        return self.events[start:end]

    @property
    def last_event_seq(self) -> int:
        return self.event_seqs[-1] if self.event_seqs else 0

    # --- faults -----------------------------------------------------------------------------

    def take_network_fault(self, method: str, chat_id: int | None) -> NetworkFault | None:
        for index, fault in enumerate(self.network_faults):
            if fault.method != method or (fault.chat_id is not None and fault.chat_id != chat_id):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.network_faults[index]
            return fault
        return None

    def take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.method != method:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.faults[index]
            return fault
        return None

    # --- stats ------------------------------------------------------------------------------

    def stats(self) -> JSON:
        per_chat_times: dict[int, list[float]] = {}
        for moment, chat_id in self.sends:
            per_chat_times.setdefault(chat_id, []).append(moment)
        return {
            "webhook_posts": self.webhook_posts,
            "webhook_delivered": self.webhook_delivered,
            "webhook_failures": self.webhook_failures,
            "sent": len(self.sends),
            "max_per_second_overall": max_in_window([moment for moment, _ in self.sends]),
            "max_per_second_per_chat": {chat_id: max_in_window(times) for chat_id, times in per_chat_times.items()},
            **self.latency.stats(),
        }


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Largest number of timestamps inside any half-open window [t, t + window)."""
    best = 0
    start = 0
    ordered = sorted(times)
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
