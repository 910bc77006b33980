"""Edges of daily prompts and their settings that once went wrong: each test is one such case."""

from __future__ import annotations

import time as wall
from datetime import UTC, datetime

import pytest

from bot import callbacks as cb
from bot.coaching.zones import is_zone, resolve_zone
from storage import prompts as prompt_repo
from storage import repo
from tests.factories import BotProcess, FakeClock, Person, labels
from tests.test_prompts import prompts_of

START = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # Monday


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, autoadvance=True)


async def test_looking_at_settings_keeps_a_due_prompt(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00")
    await clock.advance(80 * 60)  # 06:20: due, and the clock has not run yet
    await person.send("/reminders")
    screen = await person.expect("Daily prompts: on")
    assert "Mon 02 Nov at 06:00" in screen["message"]["text"]
    assert (await bot.prompt_pass()).sent == 1


async def test_after_days_down_todays_prompt_is_still_sent(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00")
    await bot.stop()
    await clock.advance((49 * 60 + 30) * 60)  # Wednesday 06:30: Monday is long gone, today is 30 min late
    await bot.start()
    first, second = await bot.prompt_pass(), await bot.prompt_pass()
    assert first.missed + second.missed == 1 and first.sent + second.sent == 1
    rows = await prompts_of(bot, person.user_id)
    assert [(r.local_date.isoformat(), r.status) for r in rows] == [("2026-11-02", "missed"), ("2026-11-04", "sent")]


async def test_a_button_ends_a_typed_question(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/reminders")
    screen = await person.expect("Daily prompts")
    await person.press("Other time", screen["message"])
    await person.expect("What time should I send")
    await person.press("08:00", screen["message"])
    await person.expect("Daily prompt at 08:00", kind="edit")
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    await person.send("3")
    await person.expect("Pain before: 3/10", kind="edit")


async def test_cancel_answers_a_pending_question(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    await person.send("/reminders")
    screen = await person.expect("Daily prompts")
    await person.press("Time zone", screen["message"])
    await person.expect("Which time zone")
    await person.send("/cancel")
    await person.expect("OK, never mind")
    async with bot.services.db.transaction() as db:
        session = await repo.open_session(db, user_id=person.user_id)
    assert session is not None and session.status == "rating_before"  # the routine was left alone


async def test_a_prompt_rating_counts_once(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00")
    await clock.advance(3600)
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    (row,) = await prompts_of(bot, person.user_id)
    await person.press("4", prompt["message"])
    await person.expect("Pain today: 4/10", kind="edit")
    await person.press_data(cb.encode(cb.PromptPress(row.id or 0, "7")), prompt["message"]["message_id"])
    await person.expect_answer("Already noted: 4/10")
    async with bot.services.db.transaction() as db:
        values = [r.value for r in await repo.ratings_for(db, user_id=person.user_id)]
    assert values == [4]


async def test_no_prompts_while_told_to_get_checked(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00")
    await person.send("I have a fever and my back hurts")
    await person.expect("contact a doctor today")
    await clock.advance(3600)
    report = await bot.prompt_pass()
    assert (report.sent, report.cancelled) == (0, 1)


async def test_a_timed_out_prompt_that_arrived_still_works(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00")
    await clock.advance(3600)
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    (row,) = await prompts_of(bot, person.user_id)
    async with bot.services.db.transaction() as db:  # as if the send had timed out
        await prompt_repo.move_prompt(db, prompt_id=row.id or 0, expect="sent", status="unknown", message_id=None)
    await person.press("Skip today", prompt["message"])
    await person.expect("rest day or a flare-up", kind="edit")


async def test_a_forged_zone_name_is_refused_politely(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/reminders")
    screen = await person.expect("Daily prompts")
    for forged in ("Europe", "localtime", "EST"):
        await person.press_data(cb.encode(cb.ReminderPress("z", forged)), screen["message"]["message_id"])
        await person.expect_answer("isn't valid")


def test_legacy_zone_names_are_not_taken_as_exact() -> None:
    for name in ("EST", "MST", "HST", "GMT", "Cuba"):
        match = resolve_zone(name)
        assert match is None or not match.exact, name
        assert not is_zone(name)
    assert resolve_zone("UTC") is not None and is_zone("UTC")


async def test_a_live_location_moving_gets_no_replies(bot: BotProcess, person: Person) -> None:
    await person.join()
    user = {"id": person.user_id, "is_bot": False, "first_name": person.first_name}
    chat = {"id": person.user_id, "type": "private", "first_name": person.first_name}
    moved = {
        "message_id": 77,
        "from": user,
        "chat": chat,
        "date": int(wall.time()),
        "edit_date": int(wall.time()),
        "location": {"latitude": 52.5, "longitude": 13.4, "live_period": 900},
    }
    await person.client.inject_update({"edited_message": moved})
    await person.send("/help")
    first = await person.expect()
    assert "What I can do" in first["message"]["text"]


async def test_a_bare_hour_is_asked_as_morning_or_evening(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/reminders")
    screen = await person.expect("Daily prompts")
    await person.press("Other time", screen["message"])
    await person.expect("What time should I send")
    await person.send("5")
    choice = await person.expect("Which did you mean?")
    assert labels(choice["message"]) == ["05:00 (morning)", "17:00 (evening)"]
    await person.press("17:00 (evening)", choice["message"])
    await person.expect("Daily prompt at 17:00", kind="edit")
    async with bot.services.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=person.user_id)
    assert prefs.reminder_time == "17:00" and prefs.reminders_on
    # 24-hour times and am/pm are clear, and are taken as they are.
    await person.press("Other time", await person.with_buttons())
    await person.expect("What time should I send")
    await person.send("07:30")
    await person.expect("Daily prompt at 07:30")
