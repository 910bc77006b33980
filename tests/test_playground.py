"""The terminal playground as a person uses it: `limber playground` in a process, typed lines on stdin."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.playground import MAX_TEXT, split_text

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR)")


def test_a_long_text_is_split_at_a_space_or_line_break_as_telegram_apps_do() -> None:
    words = ("ouch " * 1000).strip()  # 4,999 characters
    parts = split_text(words)
    assert [len(p) for p in parts] == [4094, 904]  # split at the last space that fits
    assert " ".join(parts) == words
    solid = "x" * 5000
    assert [len(p) for p in split_text(solid)] == [MAX_TEXT, 5000 - MAX_TEXT]
    assert "".join(split_text(solid)) == solid
    assert split_text("7") == ["7"]
    assert split_text("a" * 4000 + "\n" + "b" * 1000) == ["a" * 4000, "b" * 1000]


class Terminal:
    """The playground's terminal: what it printed so far, and typing into it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out = ""
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(4096):
            self.out += chunk.decode("utf-8", "replace")

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def until(self, text: str, *, count: int = 1, after: int = 0, timeout: float = 30) -> int:
        """Wait until `text` was printed `count` times after offset `after`; the offset past the last one."""
        async with asyncio.timeout(timeout):
            while self.out.count(text, after) < count:  # the reader task fills self.out
                await asyncio.sleep(0.05)
        index = after
        for _ in range(count):
            index = self.out.index(text, index) + len(text)
        return index

    def button(self, label: str, after: int = 0) -> str:
        """The `#n` that presses the newest button with this label."""
        numbers = re.findall(rf"\[#(\d+)\] [^\[\n]*{re.escape(label)}", self.out[after:])
        assert numbers, f"no button {label!r} on screen"
        return f"#{numbers[-1]}"


@pytest.fixture
async def terminal(tmp_path: Path) -> AsyncIterator[Terminal]:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL")}
    env.update({"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.main",
        "playground",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    term = Terminal(proc)
    try:
        yield term
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        term.reader.cancel()


async def test_the_playground_takes_a_long_line_a_location_and_a_prompt_with_no_log_lines_in_the_chat(
    terminal: Terminal, tmp_path: Path
) -> None:
    await terminal.until("Try /start")
    await terminal.type("/start")
    await terminal.until("Hi, Sam! I'm Limber")

    await terminal.type("my back " * 625)  # 5,000 characters
    mark = await terminal.until("sent as 2 messages")
    mark = await terminal.until("I'm a stretching coach", count=2, after=mark)

    await terminal.type("/reminders")
    mark = await terminal.until("Daily prompts: off", after=mark)
    await terminal.until("Time zone…", after=mark)
    await terminal.type(terminal.button("Time zone", mark))
    mark = await terminal.until("Which time zone are you in?", after=mark)
    await terminal.until("Share my location (sends a sample location: Berlin)", after=mark)
    await terminal.type(terminal.button("Share my location", mark))
    mark = await terminal.until("Time zone set to Europe/Berlin from your location.", after=mark)

    await terminal.type("/promptnow")
    mark = await terminal.until("Time for today's stretch", after=mark)
    await terminal.until("[#1] 0", after=mark)

    for _ in range(2):
        await terminal.type("/progress")
        mark = await terminal.until("🖼 picture: ", after=mark)
    await terminal.until("\n", after=mark)
    files = re.findall(r"🖼 picture: (\S+)", terminal.out)
    assert [Path(f).name for f in files] == ["limber-progress.png", "limber-progress-2.png"]
    assert all(Path(f).is_relative_to(tmp_path / "playground" / "files") for f in files)

    await terminal.type("/quit")
    assert await asyncio.wait_for(terminal.proc.wait(), 30) == 0
    await terminal.reader
    assert "Traceback" not in terminal.out
    assert not LOG_LINE.search(terminal.out), "a log line reached the chat"
    assert "Hi, You" not in terminal.out
    # The playground keeps its data and log in its folder, and says where.
    assert (tmp_path / "playground" / "limber.db").exists()
    log = tmp_path / "playground" / "limber.log"
    assert str(log) in terminal.out and "INFO bot.playground: prompt pass: PassReport(" in log.read_text(
        encoding="utf-8"
    )
