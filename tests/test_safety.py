"""Red flags: urgent advice, coaching paused, and a two-step confirmation that cannot be skipped."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot import callbacks as cb
from storage.models import PainRating, RedFlagEvent, User
from tests.factories import BotProcess, Person, button_data


async def flags(bot: BotProcess, user_id: int) -> list[RedFlagEvent]:
    async with bot.services.db.transaction() as db:
        return list((await db.execute(select(RedFlagEvent).where(col(RedFlagEvent.user_id) == user_id))).scalars())


async def paused(bot: BotProcess, user_id: int) -> bool:
    async with bot.services.db.transaction() as db:
        user = await db.get(User, user_id)
        return user is not None and user.coaching_paused_at is not None


async def test_red_flag_pauses_coaching_until_confirmed_in_two_taps(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")
    await person.send("my back hurts and I can't pee properly since yesterday")
    urgent = await person.expect("get emergency help now")
    assert "trouble passing urine" in urgent["message"]["text"]
    assert await paused(bot, person.user_id)
    (event,) = await flags(bot, person.user_id)
    assert event.categories == "urinary" and event.cleared_at is None

    # Coaching is paused: no routine starts, open or new.
    await person.send("/stretch core")
    await person.expect("Coaching is paused")

    # A forged second-stage press (guessing the code) does nothing.
    await person.press_data(cb.encode(cb.SafetyPress(2, "00000000", "n")), urgent["message"]["message_id"])
    await person.expect_answer("no longer")
    assert await paused(bot, person.user_id)

    # First tap: asks which is true, with a fresh one-time code.
    await person.press("checked", urgent["message"])
    confirm = await person.expect("Before I resume coaching", kind="edit")
    assert await paused(bot, person.user_id)
    stale_code = button_data(confirm["message"], "don't have")
    # Second tap: resumes coaching.
    await person.press("don't have these symptoms", confirm["message"])
    await person.expect("Coaching is back on", kind="edit")
    assert not await paused(bot, person.user_id)
    (event,) = await flags(bot, person.user_id)
    assert event.cleared_reason == "absent" and event.cleared_at is not None
    # Replaying the used code changes nothing.
    await person.press_data(stale_code, confirm["message"]["message_id"])
    await person.expect_answer("isn't paused")
    await person.send("/stretch")
    await person.expect("You have a routine open")


async def test_keeping_paused_and_rating_in_the_same_message(bot: BotProcess, person: Person) -> None:
    await person.send("pain 8, and both legs are going numb")
    urgent = await person.expect("get emergency help now")
    assert "both legs" in urgent["message"]["text"]
    async with bot.services.db.transaction() as db:
        values = [r.value for r in (await db.execute(select(PainRating))).scalars()]
    assert values == [8]
    await person.press("checked", urgent["message"])
    confirm = await person.expect("Before I resume coaching", kind="edit")
    await person.press("Keep coaching paused", confirm["message"])
    await person.expect("Coaching is paused", kind="edit")
    assert await paused(bot, person.user_id)


async def test_stop_still_works_while_paused(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    await person.press("4")
    step = await person.expect("Step 1 of")
    await person.send("I fell on the stairs this morning")
    await person.expect("contact a doctor today")
    await person.press("Done", step["message"])
    await person.expect_answer("paused")
    await person.press("Stop", step["message"])
    await person.expect("Routine stopped")
