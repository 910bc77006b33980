"""The bot token never reaches a log line, even where libraries log it themselves."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging
from tests.factories import TOKEN, BotProcess, FakeClock, Person


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("DEBUG", [TOKEN], stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


async def test_a_whole_run_logs_no_token(log_stream: io.StringIO, api_url: str, database_url: str) -> None:
    process = BotProcess(api_url, database_url, FakeClock())
    await process.start()
    person = Person(api_url)
    try:
        for text in ("/start", "/stretch quick", "5", "/cancel", "/cancel"):
            await person.send(text)
            await person.expect()
        await person.press_data("1:s:999:0:d", (await person.messages())[-1]["message_id"])
        await person.expect_answer()
    finally:
        await person.close()
        await process.stop()
    logged = log_stream.getvalue()
    assert "Application" in logged  # the run really was logged, at DEBUG
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "[redacted]" in logged  # python-telegram-bot logged its URL, and the token was taken out
