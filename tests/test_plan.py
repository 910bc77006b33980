"""What the plan does with severe pain and with the person's level, end to end through the emulator."""

from __future__ import annotations

from sqlalchemy import select

from content import load_library
from storage import repo
from storage.models import PainRating, RoutineSession
from tests.factories import BotProcess, Person, button_data, labels, seed_history

LIB = load_library()
RELAX = LIB.routines["relax"]


async def sessions(bot: BotProcess, user_id: int) -> list[RoutineSession]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(select(RoutineSession).where(RoutineSession.user_id == user_id))
        return sorted(rows.scalars().all(), key=lambda r: r.id or 0)


async def ratings(bot: BotProcess, user_id: int) -> list[tuple[int, str, int | None]]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(select(PainRating).where(PainRating.user_id == user_id).order_by(PainRating.id))
        return [(r.value, r.context, r.session_id) for r in rows.scalars().all()]


async def texts(person: Person) -> list[str]:
    return [m.get("text") or "" for m in await person.messages()]


async def test_a_first_rating_of_8_offers_relax_or_stopping_and_relax_keeps_the_rating(
    bot: BotProcess, person: Person
) -> None:
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")
    await person.press("8")
    check = await person.expect("severe pain")
    text = check["message"]["text"]
    assert "new, severe or getting worse" in text and "doctor" in text
    assert labels(check["message"]) == ["🌿 Switch to Gentle and relaxing", "⏹ Stop for now"]
    assert not [t for t in await texts(person) if "Step 1 of" in t]
    (hips,) = await sessions(bot, person.user_id)
    assert (hips.status, hips.current_step) == ("pain_check", 0)

    await person.press("Switch to", check["message"])
    await person.expect("going gently", kind="edit")
    step = await person.expect(f"Step 1 of {len(RELAX.techniques)}")
    assert LIB.techniques[RELAX.techniques[0]].title in step["message"]["text"]
    hips, relax = await sessions(bot, person.user_id)
    assert (hips.status, hips.stopped) == ("finished", True)
    assert (relax.routine_id, relax.status) == ("relax", "in_progress")
    # The rating moved with the person: one rating, now Relax's, not asked for twice.
    assert await ratings(bot, person.user_id) == [(8, "before", relax.id)]

    await person.press("Stop", step["message"])
    await person.expect("How is your pain now")
    await person.press("6")
    summary = (await person.expect("Summary"))["message"]["text"]
    assert "Gentle and relaxing" in summary and "8 → 6 (-2)" in summary
    # The old offer is dead now (its buttons are gone; a replayed press changes nothing).
    await person.press_data(button_data(check["message"], "Stop for now"), check["message"]["message_id"])
    await person.expect_answer("no longer")


async def test_a_9_with_history_can_stop_for_now_without_a_flare_offer_on_top(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=6, routine_id="glutes", before=3, after=2)
    await person.send("/stretch glutes")
    await person.expect("how is your pain right now")
    await person.send("9")
    await person.expect("Pain before: 9/10", kind="edit")
    check = await person.expect("severe pain")
    await person.press("Stop for now", check["message"])
    await person.expect_answer("Stopped")
    stopped = (await person.expect("Stopped for now"))["message"]["text"]
    assert "Staying active helps" in stopped and "new, severe or getting worse" in stopped
    chat = await texts(person)
    assert not [t for t in chat if "Step 1 of" in t or "above your recent average" in t]
    *_, glutes = await sessions(bot, person.user_id)
    assert (glutes.routine_id, glutes.status, glutes.stopped) == ("glutes", "finished", True)
    assert (await ratings(bot, person.user_id))[-1] == (9, "before", glutes.id)
    # Nothing is left open: /stretch shows the menu again.
    await person.send("/stretch")
    await person.expect("Choose a routine")


async def test_severe_pain_on_relax_itself_starts_it_gently_or_cancel_stops(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch relax")
    await person.expect("how is your pain right now")
    await person.press("10")
    check = await person.expect("severe pain")
    assert labels(check["message"]) == ["🌿 Start Gentle and relaxing gently", "⏹ Stop for now"]
    # Asked again where it is, the open session is the pain check.
    await person.send("/stretch")
    offer = await person.expect("waiting for your choice after a high pain rating")
    await person.press("Continue", offer["message"])
    again = await person.expect("severe pain")
    await person.press("Start", again["message"])
    await person.expect(f"Step 1 of {len(RELAX.techniques)}")
    (row,) = await sessions(bot, person.user_id)
    assert (row.status, row.current_step) == ("in_progress", 0)

    await person.send("/cancel")
    await person.expect("How is your pain now")
    await person.send("/cancel")
    await person.expect("Summary")
    await person.send("/stretch core")
    await person.expect("how is your pain right now")
    await person.press("8")
    await person.expect("severe pain")
    await person.send("/cancel")
    await person.expect("Stopped for now")
    rows = await sessions(bot, person.user_id)
    assert [(r.routine_id, r.status, r.stopped) for r in rows] == [
        ("relax", "finished", True),
        ("core", "finished", True),
    ]


async def test_a_7_still_goes_straight_into_the_first_step(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch hamstrings")
    await person.expect("how is your pain right now")
    await person.press("7")
    await person.expect("Step 1 of")
    async with bot.services.db.transaction() as db:
        assert [r.value for r in await repo.ratings_for(db, user_id=person.user_id)] == [7]
