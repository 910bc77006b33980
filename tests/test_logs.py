"""The bot token never reaches a log line, even where libraries log it themselves."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import views
from bot.handlers import errors
from bot.logs import LogBudget, setup_logging
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


async def test_a_failure_anyone_can_repeat_logs_a_bounded_number_of_tracebacks(
    bot: BotProcess, api_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("a fault someone found")

    monkeypatch.setattr(views, "not_understood", broken)
    monkeypatch.setattr(errors, "TRACEBACKS", LogBudget(limit=5, window=3600))
    caplog.set_level(logging.ERROR, logger="bot.handlers.errors")
    people = [Person(api_url) for _ in range(12)]
    try:
        for someone in people:
            await someone.send("what is the weather like")
            await someone.expect("something went wrong")
    finally:
        for someone in people:
            await someone.close()
    tracebacks = [r for r in caplog.records if r.name == "bot.handlers.errors" and r.exc_info]
    assert len(tracebacks) == 5


def test_a_log_budget_says_how_many_lines_it_left_out() -> None:
    now = [0.0]
    budget = LogBudget(limit=2, window=10, now=lambda: now[0])
    assert [budget.allow() for _ in range(5)] == [True, True, False, False, False]
    now[0] = 10.0
    assert budget.allow() and budget.take_suppressed() == 3 and budget.take_suppressed() == 0
