"""Button payloads: round trips, size, and refusal of anything malformed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot import callbacks as cb
from bot.coaching.session import StepAction
from testkit.databases import fresh_postgres, postgres_available
from tests.factories import BotProcess, FakeClock, Person

PRESSES: list[cb.Press] = [
    cb.StepPress(2**31 - 1, 11, StepAction.hurt),
    cb.RatePress(7, "b", 0),
    cb.RatePress(7, "a", None),
    cb.RoutinePress("low-back"),
    cb.RoutinePress("a" * 40, 2**31 - 1),
    cb.ContinuePress(5, stop=True),
    cb.PainCheckPress(2147483647, "r"),
    cb.PainCheckPress(5, "x"),
    cb.SafetyPress(1),
    cb.SafetyPress(2, "deadbeef", "n"),
    cb.NavPress("menu"),
    cb.NavPress("reminders"),
    cb.ReminderPress("h", "0730"),
    cb.ReminderPress("z", "America/Argentina/Buenos_Aires"),
    cb.ReminderPress("y", "6"),
    cb.PromptPress(42, "z"),
    cb.PromptPress(42, "10"),
    cb.DeletePress(1),
    cb.DeletePress(2, "0badf00d"),
    cb.SettingPress("f", "low-back"),
    cb.SettingPress("l", "short"),
    cb.SettingPress("d", "flare"),
    cb.SettingPress("p", "text"),
    cb.InfoPress("a" * 40, "w"),
    cb.InfoPress("clamshell", "c"),
]


@pytest.mark.parametrize("press", PRESSES)
def test_round_trip_within_telegram_limit(press: cb.Press) -> None:
    data = cb.encode(press)
    assert data.startswith(f"{cb.VERSION}:")
    assert len(data.encode()) <= 64
    assert cb.parse(data) == press


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "1",
        "1:",
        "2:s:1:0:d",
        "1:s:1:0:z",
        "1:s:-1:0:d",
        "1:s:x:0:d",
        "1:s:1:0",
        "1:s:1:0:d:extra",
        "1:r:1:b:11",
        "1:r:1:c:5",
        "1:m:../etc",
        "1:m:Hips",
        "1:c:1:q",
        "1:v:1:c",
        "1:v:x:r",
        "1:v:1",
        "1:v:1:r:r",
        "1:f:2:short:n",
        "1:f:2:deadbeef:q",
        "1:n:admin",
        "1:t:h:2460",
        "1:t:h:7:30",
        "1:t:q:1",
        "1:t:z:../../etc",
        "1:t:y:7",
        "1:p:1:11",
        "1:p:x:s",
        "1:s:" + "9" * 13 + ":0:d",
        # Forged ids past their columns' range (PostgreSQL integer), which would fail the query.
        "1:s:999999999999:0:d",
        "1:s:2147483648:0:d",
        "1:s:1:2147483648:d",
        "1:r:999999999999:b:5",
        "1:m:hips:999999999999",
        "1:c:999999999999:c",
        "1:p:999999999999:s",
        "x" * 65,
        b"1:n:menu",
        "1:q:1",
        "1:i:clamshell:",
        "1:i:clamshell:wc",
        "1:i:Clamshell:w",
        "1:i:../etc:c",
        "1:g:p:photos",
    ],
)
def test_malformed_or_forged_payloads_parse_to_none(data: object) -> None:
    assert cb.parse(data) is None


def test_of_kind_matches_only_its_kind() -> None:
    match = cb.of_kind(cb.StepPress)
    assert match(cb.encode(PRESSES[0]))
    assert not match(cb.encode(cb.NavPress("help")))
    assert not match("garbage")


@pytest.fixture
async def postgres_bot(api_url: str) -> AsyncIterator[BotProcess]:
    """The bot on PostgreSQL, whose integer columns (unlike SQLite's) overflow past 2**31 - 1."""
    reason = await postgres_available()
    if reason:
        pytest.skip(reason)
    async with fresh_postgres() as url:
        process = BotProcess(api_url, url, FakeClock())
        await process.start()
        try:
            yield process
        finally:
            await process.stop()


async def test_forged_big_ids_get_the_polite_refusal_on_postgres(
    postgres_bot: BotProcess, api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    person = Person(api_url)
    try:
        await person.send("/stretch quick")
        message = (await person.expect("how is your pain right now"))["message"]
        for data in (
            "1:s:999999999999:0:d",
            "1:r:999999999999:b:5",
            "1:c:999999999999:x",
            "1:m:quick:999999999999",
            "1:p:999999999999:7",
        ):
            await person.press_data(data, message["message_id"])
            answer = await person.expect_answer()
            assert answer["text"] == "That button isn't valid any more.", data
        assert not [m for m in await person.messages() if "went wrong" in (m.get("text") or "")]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a forged press raised"
    finally:
        await person.close()
