"""Bot API faults in the middle of a routine: each handled, the flow goes on, nothing sent is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from storage import prompts as prompt_repo
from storage import repo
from storage.models import StepOutcome, User
from tests.factories import WEBHOOK, BotProcess, FakeClock, Person


@pytest.fixture
async def bot(api_url: str, database_url: str, clock: FakeClock) -> AsyncIterator[BotProcess]:
    # A short request timeout keeps the timeout cases fast.
    process = BotProcess(api_url, database_url, clock, telegram_timeout_seconds=1.0)
    await process.start()
    yield process
    await process.stop()


async def first_step(person: Person) -> dict:
    await person.join()
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    await person.press("5")
    return (await person.expect("Step 1 of"))["message"]


async def outcomes(bot: BotProcess, user_id: int) -> list[str]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(select(StepOutcome).where(col(StepOutcome.user_id) == user_id))
        return [o.outcome for o in rows.scalars()]


@pytest.mark.parametrize("code", [500, 502])
async def test_server_errors_are_retried(bot: BotProcess, person: Person, clock: FakeClock, code: int) -> None:
    step = await first_step(person)
    await person.client.fail_next("sendMessage", error_code=code, times=2)
    await person.client.fail_next("editMessageText", error_code=code)
    await person.press("Done", step)
    await clock.pass_pauses(0.5, 0.5, 0.5)  # the backoff before each retry, on the bot's clock
    await person.expect("Step 2 of")
    assert await outcomes(bot, person.user_id) == ["done"]


async def test_a_dropped_connection_is_retried(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    step = await first_step(person)
    await person.client.network_fault("sendMessage", kind="reset")
    await person.press("Skip", step)
    await clock.pass_pauses(0.25)
    await person.expect("Step 2 of")
    assert await outcomes(bot, person.user_id) == ["skipped"]


async def test_an_edit_that_times_out_is_retried(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    step = await first_step(person)
    await person.client.network_fault("editMessageText", kind="delay", seconds=1.5)
    await person.press("Done", step)
    await clock.pass_pauses(0.25)
    await person.expect("Step 2 of")
    assert await outcomes(bot, person.user_id) == ["done"]


async def test_a_send_that_times_out_is_not_doubled_and_the_routine_goes_on(bot: BotProcess, person: Person) -> None:
    step = await first_step(person)
    # Telegram delivers the next step, but only after the bot stopped waiting.
    await person.client.network_fault("sendMessage", kind="delay", seconds=1.5)
    mark = person.client.cursor
    await person.press("Done", step)
    # The apology goes out when the bot gives up (1 s); the step lands when Telegram gets to it.
    for text in ("Sorry, something went wrong", "Step 2 of"):

        def shown(event: dict[str, Any], text: str = text) -> bool:
            return bool(event["type"] == "message" and text in event["message"]["text"])

        await person.client.wait_for(shown, after=mark)
    steps = [m for m in await person.messages() if "Step 2 of" in (m.get("text") or "")]
    assert len(steps) == 1  # never sent twice
    assert await outcomes(bot, person.user_id) == ["done"]  # the press was kept
    await person.send("/stretch")
    offer = await person.expect("You have a routine open")
    await person.press("Continue", offer["message"])
    resumed = await person.expect("Step 2 of")
    await person.press("Done", resumed["message"])
    await person.expect("Step 3 of")


async def test_429_on_a_reply_waits_and_resends(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    step = await first_step(person)
    await person.client.fail_next("sendMessage", error_code=429, retry_after=3)
    await person.press("Done", step)
    await clock.wait_for_sleepers()  # the bot waits out the "retry after", on its clock
    await clock.advance(2.9)
    assert clock.sleepers == 1
    assert [c["status"] for c in await person.client.calls("sendMessage")][-1] == 429  # nothing resent yet
    await clock.advance(0.1)
    await person.expect("Step 2 of")
    assert [c["status"] for c in await person.client.calls("sendMessage")][-2:] == [429, 200]


async def test_blocked_mid_routine_stops_prompts_and_keeps_the_press(bot: BotProcess, person: Person) -> None:
    step = await first_step(person)
    await bot.schedule(person.user_id, at="10:00")
    await person.client.fail_next("sendMessage", error_code=403)
    await person.press("Done", step)
    await person.expect_answer()
    async with asyncio.timeout(10):
        while True:
            async with bot.services.db.transaction() as db:
                user = await db.get(User, person.user_id, populate_existing=True)
                prefs = await prompt_repo.preferences_of(db, user_id=person.user_id)
            if user is not None and user.blocked_at is not None:
                break
            await asyncio.sleep(0.02)
    assert prefs.next_prompt_at is None  # no more prompts until they come back
    assert await outcomes(bot, person.user_id) == ["done"]


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: message to edit not found",
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
        "same as a current content and reply markup of the message",
    ],
)
async def test_edit_refusals_do_not_stop_the_routine(bot: BotProcess, person: Person, description: str) -> None:
    step = await first_step(person)
    await person.client.fail_next("editMessageText", error_code=400, description=description)
    await person.press("Done", step)
    await person.expect("Step 2 of")


async def test_a_query_too_old_to_answer_keeps_the_press(bot: BotProcess, person: Person) -> None:
    step = await first_step(person)
    await person.client.fail_next(
        "answerCallbackQuery",
        error_code=400,
        description="Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    await person.press("Done", step)
    await person.expect("Step 2 of")
    assert await outcomes(bot, person.user_id) == ["done"]
    async with bot.services.db.transaction() as db:
        session = await repo.open_session(db, user_id=person.user_id)
    assert session is not None and session.current_step == 1


@pytest.mark.parametrize(("code", "times"), [(500, 1), (502, 2), (503, 5)])
async def test_a_failed_button_answer_does_not_stop_the_routine(
    bot: BotProcess, person: Person, clock: FakeClock, code: int, times: int
) -> None:
    """The answer is cosmetic: retried once, then let go; the next step is sent either way."""
    step = await first_step(person)
    await person.client.fail_next("answerCallbackQuery", error_code=code, times=times)
    await person.press("Done", step)
    await clock.pass_pauses(0.25)
    following = (await person.expect("Step 2 of"))["message"]
    assert await outcomes(bot, person.user_id) == ["done"]
    answers = [c for c in await person.client.calls("answerCallbackQuery") if c["ok"]]
    assert len(answers) == (2 if times == 1 else 1)  # the retry landed, or (failing twice) was let go
    # The newest buttons work.
    await person.press("Done", following)
    if times > 2:  # this press's answer fails too, and is retried once
        await clock.pass_pauses(0.25)
    await person.expect("Step 3 of")


@pytest.mark.parametrize("kind", ["reset", "delay"])
async def test_a_button_answer_lost_on_the_way_does_not_stop_the_routine(
    bot: BotProcess, person: Person, clock: FakeClock, kind: str
) -> None:
    step = await first_step(person)
    await person.client.network_fault("answerCallbackQuery", kind=kind, seconds=1.5, times=2)
    await person.press("Skip", step)
    await clock.pass_pauses(0.25)
    following = (await person.expect("Step 2 of"))["message"]
    assert await outcomes(bot, person.user_id) == ["skipped"]
    await person.press("Done", following)
    await person.expect("Step 3 of")


async def test_a_button_answer_refused_with_429_does_not_stop_the_routine(bot: BotProcess, person: Person) -> None:
    step = await first_step(person)
    await person.client.fail_next("answerCallbackQuery", error_code=429, retry_after=5)
    await person.press("Done", step)
    await person.expect("Step 2 of")


@pytest.mark.parametrize(("command", "method"), [("/progress", "sendPhoto"), ("/export", "sendDocument")])
async def test_a_failed_photo_or_document_gets_an_apology_and_the_bot_goes_on(
    bot: BotProcess, person: Person, clock: FakeClock, command: str, method: str
) -> None:
    await person.join()
    await person.client.fail_next(method, error_code=500, times=5)
    await person.send(command)
    await clock.pass_pauses(0.25, 0.5)  # retried like every send, then given up
    await person.expect("Sorry, something went wrong")
    await person.send("/help")
    await person.expect("What I can do")


async def test_a_failed_get_updates_is_polled_again(bot: BotProcess, person: Person) -> None:
    await person.client.fail_next("getUpdates", error_code=502, times=2)
    await person.send("/help")
    await person.expect("What I can do", timeout=20)


async def test_a_failed_command_menu_does_not_stop_start_up(api_url: str, database_url: str) -> None:
    """setMyCommands is cosmetic too: the bot starts and answers without its menu."""
    person = Person(api_url)
    await person.client.fail_next("setMyCommands", error_code=500, times=5)
    process = BotProcess(api_url, database_url, FakeClock())
    try:
        await process.start()
        await person.send("/help")
        await person.expect("What I can do")
    finally:
        await process.stop()
        await person.close()


async def test_a_failed_set_webhook_is_retried(api_url: str, database_url: str) -> None:
    person = Person(api_url)
    await person.client.fail_next("setWebhook", error_code=502, times=2)
    process = BotProcess(api_url, database_url, FakeClock(), **WEBHOOK)
    try:
        await process.start()
        await person.client.route_webhook([process.webhook_target])
        await person.send("/help")
        await person.expect("What I can do")
        assert [c["ok"] for c in await person.client.calls("setWebhook")] == [False, False, True]
    finally:
        await process.stop()
        await person.close()


@pytest.mark.parametrize("method", ["getMe", "deleteWebhook"])
async def test_a_failed_start_up_call_is_retried(api_url: str, database_url: str, method: str) -> None:
    person = Person(api_url)
    await person.client.fail_next(method, error_code=502, times=2)
    process = BotProcess(api_url, database_url, FakeClock())
    try:
        await process.start()
        await person.send("/help")
        await person.expect("What I can do")
        assert [c["ok"] for c in await person.client.calls(method)][:3] == [False, False, True]
    finally:
        await process.stop()
        await person.close()
