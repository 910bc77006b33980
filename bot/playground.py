"""The local playground: the real bot, the local Bot API emulator, and a chat in the terminal.

Used by `limber` when no TELEGRAM_BOT_TOKEN is set. Interactive on a terminal; a scripted demo
otherwise (CI, pipes), with time running faster so the countdown is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot.app import build_application, start_polling, stop_polling
from bot.clock import Clock, SystemClock
from bot.emulator import Emulator, EmulatorClient
from bot.settings import Settings

# Only ever valid against the local emulator: not a secret.
PLAYGROUND_TOKEN = "100000:PLAYGROUND-local-only-token-0000"
USER_ID = 4242
FILES_DIR = Path("playground-files").absolute()
# Every picture the bot draws (figures, animations, routine previews) is kept here between runs.
FIGURES_DIR = FILES_DIR / "figures"
JSON = dict[str, Any]


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

    def _buttons_line(self, message_id: int, message: JSON) -> str:
        """The numbered buttons, or "" when they did not change."""
        labels = [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
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
                kind = "🎞 animation" if "animation" in message else "🖼 picture" if "photo" in message else "📎 file"
                self._print(f"   {kind}: {event['file_path']}")
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


async def _press(client: EmulatorClient, printer: ChatPrinter, line: str) -> str | None:
    """Press `#n` (newest message with buttons) or `#n@message`; returns an error to show, if any."""
    spec, _, target = line[1:].partition("@")
    message_id = int(target) if target.isdigit() else printer.latest_with_buttons
    if not spec.isdigit() or message_id is None:
        return "Type #n to press button n of the newest message with buttons (or #n@message_id)."
    labels = printer.buttons.get(message_id, [])
    if not 1 <= int(spec) <= len(labels):
        return f"Message {message_id} has no button #{spec}."
    await client.press(USER_ID, message_id, button=int(spec) - 1)
    return None


async def _interactive(client: EmulatorClient, printer: ChatPrinter) -> None:
    loop = asyncio.get_running_loop()
    print(
        "You are chatting with Limber through the local emulator. Type messages; #n presses button n; "
        "/quit leaves.\nTry /start, then /stretch hips.",
        flush=True,
    )
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            return
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("#"):
            problem = await _press(client, printer, line.strip())
            if problem:
                print(problem, flush=True)
            continue
        await client.send(USER_ID, line, first_name="You")


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
        await client.send(USER_ID, text, first_name="Demo")
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
    # The chat is the show here: library start-up chatter only at DEBUG.
    if settings.log_level != "DEBUG":
        for name in ("alembic", "apscheduler", "telegram.ext", "bot.app"):
            logging.getLogger(name).setLevel(logging.WARNING)
    emulator = Emulator(files_dir=FILES_DIR)
    url = await emulator.start(port=port)
    with tempfile.TemporaryDirectory() as tmp:
        clock: Clock = SystemClock() if interactive else ScaledClock(20)
        local = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(PLAYGROUND_TOKEN),
                "telegram_api_url": url,
                # The demo starts from a clean slate; the playground keeps your data between runs.
                "database_url": settings.database_url if interactive else f"sqlite:///{tmp}/demo.db",
                "timer_tick_seconds": settings.timer_tick_seconds,
                "figures_dir": FIGURES_DIR,
            }
        )
        app = build_application(local, clock=clock)
        await start_polling(app)
        client = EmulatorClient(url, PLAYGROUND_TOKEN)
        printer = ChatPrinter(sys.stdout)
        follower = asyncio.create_task(_follow(client, printer))
        print(f"Local Bot API emulator at {url}; database {local.database_url}", flush=True)
        print(f"Pictures: drawn into {FIGURES_DIR}; each one sent is shown by its path below", flush=True)
        try:
            if interactive:
                await _interactive(client, printer)
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
