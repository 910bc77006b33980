"""The local playground: the real bot, the local Bot API emulator, and a chat in the terminal.

Used by `limber` when no TELEGRAM_BOT_TOKEN is set. Interactive on a terminal; a scripted demo
otherwise (CI, pipes), with time running faster so the countdown is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.logs import setup_logging
from bot.prompt_clock import run_pass
from bot.services import Services
from emulator import Emulator, EmulatorClient, EmulatorError
from storage import prompts as prompt_repo
from storage import repo

# Only ever valid against the local emulator: not a secret.
PLAYGROUND_TOKEN = "100000:PLAYGROUND-local-only-token-0000"
USER_ID = 4242
PERSON_NAME = "Sam"  # the person you play: the bot greets them by this name
# Everything the playground keeps, in one folder: delete it to start afresh.
PLAYGROUND_DIR = Path("playground").absolute()
FILES_DIR = PLAYGROUND_DIR / "files"  # photos and documents the bot sends (charts, reports, exports)
DATABASE = PLAYGROUND_DIR / "limber.db"
LOG_FILE = PLAYGROUND_DIR / "limber.log"  # the bot's log lines: never printed into the chat
SAMPLE_LOCATION = {"latitude": 52.52, "longitude": 13.405}  # Berlin, sent by a "share location" button
SAMPLE_PLACE = "Berlin"
MAX_TEXT = 4096  # Telegram's limit for one message; apps split longer texts
PROMPT_NOW = "/promptnow"
# The language the playground person's Telegram app is set to (LIMBER_LANG=es): what first contact takes.
LANGUAGE = os.environ.get("LIMBER_LANG") or None
# Every picture the bot draws (figures, animations, routine previews) is kept here between runs.
FIGURES_DIR = FILES_DIR / "figures"
JSON = dict[str, Any]
log = logging.getLogger(__name__)


class ScaledClock:
    """Wall-clock time running `factor` times faster, so a demo shows a 30 s hold in 1.5 s."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self._start = datetime.now(UTC)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono) * self.factor)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.factor)


class ChatPrinter:
    """Shows what the bot does in the chat: new messages with numbered buttons, edits, notices, files."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.texts: dict[int, str] = {}
        self.buttons: dict[int, list[str]] = {}
        self.latest_with_buttons: int | None = None
        self.printed_seq = 0
        # The reply keyboard showing under the input field (Telegram keeps one per chat) and its message.
        self.reply_buttons: list[JSON] = []
        self.reply_message: int | None = None

    def _reply_keyboard(self, message_id: int, message: JSON) -> list[str]:
        """Labels of a reply keyboard sent with this message; a removal clears the one showing."""
        keyboard = message.get("reply_keyboard") or {}
        if keyboard.get("remove_keyboard") and self.reply_message is not None:
            self.buttons.pop(self.reply_message, None)
            if self.latest_with_buttons == self.reply_message:
                self.latest_with_buttons = max((m for m, b in self.buttons.items() if b), default=None)
            self.reply_buttons, self.reply_message = [], None
        if not keyboard.get("keyboard"):
            return []
        self.reply_buttons = [b if isinstance(b, dict) else {"text": b} for row in keyboard["keyboard"] for b in row]
        self.reply_message = message_id
        return [
            f"{b['text']} (sends a sample location: {SAMPLE_PLACE})" if b.get("request_location") else b["text"]
            for b in self.reply_buttons
        ]

    def _buttons_line(self, message_id: int, message: JSON) -> str:
        """The numbered buttons, or "" when they did not change."""
        labels = [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        labels = labels or self._reply_keyboard(message_id, message)
        if self.buttons.get(message_id) == labels:
            return ""
        self.buttons[message_id] = labels
        if labels:
            self.latest_with_buttons = message_id
        elif self.latest_with_buttons == message_id:
            self.latest_with_buttons = max((m for m, b in self.buttons.items() if b), default=None)
        return "  ".join(f"[#{n}] {label}" for n, label in enumerate(labels, 1))

    def show(self, event: JSON) -> None:
        self.printed_seq = max(self.printed_seq, int(event["seq"]))
        kind, message = event["type"], event.get("message") or {}
        message_id = message.get("message_id", 0)
        if kind == "message":
            text = message.get("text") or message.get("caption") or ""
            self.texts[message_id] = text
            self._print(f"\n🤖 Limber (message {message_id}):\n{_indent(text)}")
            if event.get("file_path"):
                media = "🎞 animation" if "animation" in message else "🖼 picture" if "photo" in message else "📎 file"
                self._print(f"   {media}: {event['file_path']}")
        elif kind == "edit":
            text = message.get("text") or message.get("caption") or ""
            before = self.texts.get(message_id, "").splitlines()
            new_lines = [line for line in text.splitlines() if line not in before] or ["(buttons changed)"]
            self.texts[message_id] = text
            self._print(
                f"   ✎ message {message_id} now says: " + " / ".join(line.strip() for line in new_lines if line)
            )
        elif kind == "callback_answer" and event.get("text"):
            self._print(f"   💬 {event['text']}")
        else:
            return
        line = self._buttons_line(message_id, message) if kind in ("message", "edit") else ""
        if line:
            self._print(f"   {line}")

    async def caught_up(self, seq: int) -> None:
        """Wait until events up to `seq` are on screen, so the demo's lines come in order."""
        async with asyncio.timeout(10):
            while self.printed_seq < seq:  # noqa: ASYNC110 - the follower task moves printed_seq
                await asyncio.sleep(0.01)

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _indent(text: str) -> str:
    return "\n".join(f"   {line}" for line in text.splitlines())


async def _follow(client: EmulatorClient, printer: ChatPrinter) -> None:
    after = 0
    while True:
        for event in await client.events(after=after, timeout=10):
            after = max(after, int(event["seq"]))
            if event.get("chat_id") == USER_ID:
                printer.show(event)
            printer.printed_seq = max(printer.printed_seq, after)


_own_message_ids = itertools.count(1_000_000)


def location_update(location: JSON) -> JSON:
    """A shared location, as Telegram delivers it when the person taps a "share location" button."""
    person = {"id": USER_ID, "is_bot": False, "first_name": PERSON_NAME}
    return {
        "message": {
            "message_id": next(_own_message_ids),
            "from": person,
            "chat": {"id": USER_ID, "type": "private", "first_name": PERSON_NAME},
            "date": int(time.time()),
            "location": location,
        }
    }


async def _press(client: EmulatorClient, printer: ChatPrinter, line: str) -> str | None:
    """Press `#n` (newest message with buttons) or `#n@message`; returns an error to show, if any."""
    spec, _, target = line[1:].partition("@")
    message_id = int(target) if target.isdigit() else printer.latest_with_buttons
    if not spec.isdigit() or message_id is None:
        return "Type #n to press button n of the newest message with buttons (or #n@message_id)."
    labels = printer.buttons.get(message_id, [])
    if not 1 <= int(spec) <= len(labels):
        return f"Message {message_id} has no button #{spec}."
    if message_id == printer.reply_message:
        # A reply keyboard button sends a message: its text, or a location.
        button = printer.reply_buttons[int(spec) - 1]
        if button.get("request_location"):
            print(f"🧑 You share a location ({SAMPLE_PLACE}).", flush=True)
            await client.inject_update(location_update(SAMPLE_LOCATION))
        else:
            await client.send(USER_ID, button["text"], first_name=PERSON_NAME, language_code=LANGUAGE)
        return None
    await client.press(USER_ID, message_id, button=int(spec) - 1)
    return None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text into messages of at most `limit` characters, at a line break or space when
    there is one in the second half of a piece, as Telegram apps do."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ") if cut < limit else text[cut:]
    if text.strip():
        parts.append(text)
    return [p for p in parts if p.strip()]


async def prompt_now(app: Application) -> str:
    """Make today's daily prompt due now and run the prompt clock once (the playground's /promptnow)."""
    svc: Services = app.bot_data["services"]
    now = svc.clock.now()
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=USER_ID)
        user = await repo.get_user(db, user_id=USER_ID)
        if user is None:
            return "Say /start first."
        today = now.astimezone(ZoneInfo(prefs.timezone)).date()
        await prompt_repo.forget_day(db, user_id=USER_ID, local_date=today)
        await prompt_repo.update_preferences(
            db,
            prefs=prefs,
            reminders_on=True,
            reminder_time=prefs.reminder_time or "08:00",
            prompts_paused=False,
            next_prompt_at=now,
            next_prompt_date=today,
        )
    report = await run_pass(app.bot, svc, app.bot_data["limiter"])
    log.info("prompt pass: %s", report)
    return "(playground) Today's prompt is due now; the next ones follow your /reminders settings."


async def _interactive(
    client: EmulatorClient,
    printer: ChatPrinter,
    app: Application | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    print(
        f"You are {PERSON_NAME}, chatting with Limber through the local emulator. Type messages; "
        f"#n presses button n; {PROMPT_NOW} sends today's daily prompt now; /quit leaves.\n"
        "Try /start, then /stretch hips.",
        flush=True,
    )
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            return
        line = line.rstrip("\n")
        if not line.strip():
            continue
        try:
            await _typed(client, printer, app, line)
        except EmulatorError as exc:
            # What the Telegram app would refuse to send: said plainly, and the chat goes on.
            print(f"(The Telegram app would not send that: {exc})", flush=True)


async def _typed(
    client: EmulatorClient,
    printer: ChatPrinter,
    app: Application | None,
    line: str,
) -> None:
    """One typed line: a button press, a playground command, or a message (split when too long)."""
    if line.startswith("#"):
        problem = await _press(client, printer, line.strip())
        if problem:
            print(problem, flush=True)
        return
    if line.strip() == PROMPT_NOW and app is not None:
        print(await prompt_now(app), flush=True)
        return
    parts = split_text(line)
    if len(parts) > 1:
        print(f"(That is {len(line)} characters: sent as {len(parts)} messages, as Telegram apps do.)", flush=True)
    for part in parts:
        await client.send(USER_ID, part, first_name=PERSON_NAME, language_code=LANGUAGE)


async def _demo(client: EmulatorClient, printer: ChatPrinter, out: TextIO) -> None:
    """A full `/stretch hips` session: rating, a skip, a timed step, a "this hurts", done, summary."""

    def text_of(message: JSON) -> str:
        return message.get("text") or message.get("caption") or ""

    def step_or(*needles: str) -> Callable[[JSON], bool]:
        def matches(event: JSON) -> bool:
            text = text_of(event.get("message") or {})
            return event["type"] == "message" and any(n in text for n in needles)

        return matches

    async def say(text: str, wait: Callable[[JSON], bool]) -> JSON:
        print(f"\n🧑 You: {text}", file=out, flush=True)
        await client.send(USER_ID, text, first_name=PERSON_NAME, language_code=LANGUAGE)
        event = await client.wait_for(wait, timeout=30)
        await printer.caught_up(int(event["seq"]))
        return event

    async def press(message: JSON, label: str, wait: Callable[[JSON], bool]) -> JSON:
        print(f"\n🧑 You press: {label}", file=out, flush=True)
        await client.press(USER_ID, message["message_id"], button=label)
        event = await client.wait_for(wait, timeout=60)
        await printer.caught_up(int(event["seq"]))
        return event

    await say("/start", step_or("Limber"))
    event = await say("/stretch hips", step_or("how is your pain"))
    event = await press(event["message"], "6", step_or("Step 1 of"))
    plan = iter(["Skip", "timer", "This hurts"])
    action = next(plan)
    while "Step" in text_of(event["message"]):
        message = event["message"]
        labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        nxt = step_or("Step ", "last step")
        if action == "timer" and "▶ Start timer" in labels:
            await press(message, "Start timer", lambda e: e["type"] == "edit" and "Time's up" in text_of(e["message"]))
            event = await press(message, "Done", nxt)
        elif action in ("Skip", "This hurts"):
            event = await press(message, action, nxt)
        else:
            event = await press(message, "Done", nxt)
            continue
        action = next(plan, "Done")
    await press(event["message"], "3", step_or("Summary"))
    await say("pain 3/10", step_or("Noted"))
    print("\nDemo finished: that was the real bot, over HTTP, against the local emulator.", file=out, flush=True)


async def run(settings: Settings, *, interactive: bool, port: int = 0) -> int:
    """Start the emulator and the bot, then chat (interactive) or play the demo; 0 on success."""
    PLAYGROUND_DIR.mkdir(parents=True, exist_ok=True)
    # The chat is the show here: log lines go to a file, never between the messages.
    setup_logging(settings.log_level, settings.secrets(), path=LOG_FILE)
    if settings.log_level != "DEBUG":
        for name in ("alembic", "apscheduler", "telegram.ext", "bot.app"):
            logging.getLogger(name).setLevel(logging.WARNING)
    emulator = Emulator(files_dir=FILES_DIR)
    url = await emulator.start(port=port)
    with tempfile.TemporaryDirectory() as tmp:
        clock: Clock = SystemClock() if interactive else ScaledClock(20)
        # The playground keeps your data between runs in its folder (unless DATABASE_URL says otherwise);
        # the demo starts from a clean slate.
        own = settings.database_url if "database_url" in settings.model_fields_set else f"sqlite:///{DATABASE}"
        local = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(PLAYGROUND_TOKEN),
                "telegram_api_url": url,
                "database_url": own if interactive else f"sqlite:///{tmp}/demo.db",
                "timer_tick_seconds": settings.timer_tick_seconds,
                "figures_dir": FIGURES_DIR,
            }
        )
        app = build_application(local, clock=clock)
        await start_polling(app)
        client = EmulatorClient(url, PLAYGROUND_TOKEN)
        printer = ChatPrinter(sys.stdout)
        follower = asyncio.create_task(_follow(client, printer))
        print(
            f"Local Bot API emulator at {url}; database {local.database_url}\n"
            f"Files the bot sends are saved in {FILES_DIR}; its log is in {LOG_FILE}.\n"
            f"Pictures: drawn into {FIGURES_DIR}; each one sent is shown by its path below.",
            flush=True,
        )
        try:
            if interactive:
                await _interactive(client, printer, app)
            else:
                await _demo(client, printer, sys.stdout)
                await asyncio.sleep(0.2)  # let the follower print the last events
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await client.close()
            await stop_polling(app)
            await emulator.stop()
    return 0


async def serve_emulator(port: int) -> int:
    """`limber emulator`: the emulator alone, e.g. for a bot started separately with TELEGRAM_API_URL."""
    emulator = Emulator(files_dir=FILES_DIR)
    url = await emulator.start(port=port)
    print(f"Bot API emulator listening at {url} (Ctrl-C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
    return 0
