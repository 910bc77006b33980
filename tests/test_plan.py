"""What the plan does with severe pain and with the person's level, end to end through the emulator."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.coaching.plan import LEVELS, LevelFit, PlannedStep, build_plan, estimate_minutes, fit_length, within_level
from content import load_library
from content.schema import Routine
from storage import prompts as prompt_repo
from storage import repo
from storage.models import PainRating, RoutineSession
from tests.factories import BotProcess, Person, button_data, labels, seed_history

LIB = load_library()
RELAX = LIB.routines["relax"]


async def sessions(bot: BotProcess, user_id: int) -> list[RoutineSession]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(select(RoutineSession).where(col(RoutineSession.user_id) == user_id))
        return sorted(rows.scalars().all(), key=lambda r: r.id or 0)


async def ratings(bot: BotProcess, user_id: int) -> list[tuple[int, str, int | None]]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(
            select(PainRating).where(col(PainRating.user_id) == user_id).order_by(col(PainRating.id))
        )
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


# --- the person's level and length -----------------------------------------------------------------

LENGTHS = ("short", "normal", "long")


def plan_at(routine_id: str, level: str, length: str) -> tuple[list[PlannedStep], LevelFit]:
    """The plan for someone with no history: the level first, then the length (as personal_plan does)."""
    fit = within_level(list(LIB.routines[routine_id].techniques), LIB, level)
    routines = [Routine.model_construct(techniques=[tid]) for tid in fit.ids]  # type: ignore[call-arg]  # techniques only
    steps = [s for routine in routines for s in build_plan(routine, LIB)]
    return fit_length(steps, length, LIB), fit


@pytest.mark.parametrize("routine_id", sorted(LIB.routines))
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("length", LENGTHS)
def test_every_routine_at_every_level_and_length_keeps_its_purpose(routine_id: str, level: str, length: str) -> None:
    routine = LIB.routines[routine_id]
    steps, fit = plan_at(routine_id, level, length)
    techniques = [LIB.techniques[s.technique_id] for s in steps]
    assert techniques, "empty plan"
    assert all(LEVELS.index(t.level.value) <= LEVELS.index(level) for t in techniques), "above the level"
    assert routine.area in {t.areas[0] for t in techniques}, f"nothing here works {routine.area}"
    assert len({t.id for t in techniques}) == len(techniques), "a technique twice"
    for above, swap in fit.swapped:
        assert LIB.techniques[swap].areas[0] == LIB.techniques[above].areas[0]
    # A chair routine stays off the floor.
    if all(LIB.techniques[t].position.value in ("seated", "standing") for t in routine.techniques):
        assert all(t.position.value in ("seated", "standing") for t in techniques)
    if length == "short":
        assert len(steps) <= 4


def test_gentle_swaps_in_gentler_stretches_for_the_same_target() -> None:
    _, hamstrings = plan_at("hamstrings", "gentle", "normal")
    assert ("strap-hamstring-stretch", "bent-knee-hamstring-stretch") in hamstrings.swapped
    assert ("figure-four-glute-stretch", "foot-down-glute-stretch") in hamstrings.swapped
    _, hips = plan_at("hips", "gentle", "normal")
    assert ("edge-of-bed-hip-flexor", "chair-supported-hip-flexor") in hips.swapped
    # Its swap is already in the plan, so the second hip flexor stretch is left out rather than doubled.
    assert "half-kneeling-hip-flexor" in hips.left_out
    # Swaps of swaps: the forearm plank becomes the knee plank for a beginner, the pelvic tilt at gentle.
    assert within_level(["forearm-plank"], LIB, "beginner").swapped == [("forearm-plank", "knee-plank")]
    assert within_level(["forearm-plank"], LIB, "gentle").swapped == [("forearm-plank", "pelvic-tilt")]
    # A chair routine is never sent to the floor: the seated glute stretch's swap lies on the floor.
    quick = within_level(list(LIB.routines["quick"].techniques), LIB, "gentle")
    assert "seated-glute-stretch" in quick.left_out and not quick.swapped


async def set_prefs(bot: BotProcess, user_id: int, *, level: str, length: str = "normal") -> None:
    async with bot.services.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        prefs.level, prefs.session_length = level, length


async def walk(person: Person, first: dict, shown: dict[str, str] | None = None) -> list[str]:
    """Press Done through every step; the titles shown, in order (and each step's text into `shown`)."""
    titles, step = [], first
    while True:
        text = step["message"]["text"]
        titles.append(text.split("·", 1)[1].split("\n", 1)[0].strip())
        if shown is not None:
            shown[titles[-1]] = text
        await person.press("Done", step["message"])
        event = await person.client.wait_for(
            lambda e: e["type"] == "message" and e.get("chat_id") == person.user_id, timeout=10
        )
        if "Step " not in (event["message"].get("text") or ""):
            return titles
        step = event


async def test_a_gentle_hamstrings_routine_still_stretches_the_hamstrings(bot: BotProcess, person: Person) -> None:
    await person.join()
    await set_prefs(bot, person.user_id, level="gentle")
    await person.send("/stretch hamstrings")
    ask = (await person.expect("how is your pain right now"))["message"]["text"]
    assert "Lying hamstring stretch with a strap is swapped for Bent-knee lying hamstring stretch" in ask
    await person.press("4")
    titles = await walk(person, await person.expect("Step 1 of"))
    by_title = {t.title: t for t in LIB.techniques.values()}
    shown = [by_title[title] for title in titles]
    assert all(t.level.value == "gentle" for t in shown)
    assert [t.id for t in shown if t.areas[0].value == "hamstrings"] == ["bent-knee-hamstring-stretch"]


async def test_a_gentle_hips_routine_keeps_a_hip_flexor_stretch(bot: BotProcess, person: Person) -> None:
    await person.join()
    await set_prefs(bot, person.user_id, level="gentle", length="short")
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")
    await person.press("3")
    titles = await walk(person, await person.expect("Step 1 of"))
    assert "Chair-supported hip flexor stretch" in titles and len(titles) <= 4


async def test_the_menu_shows_the_length_of_the_persons_own_plan(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/stretch")
    standard = labels((await person.expect("Choose a routine"))["message"])
    await set_prefs(bot, person.user_id, level="gentle", length="short")
    await person.send("/stretch")
    mine = labels((await person.expect("Choose a routine"))["message"])
    expected = [
        f"{r.title} · {estimate_minutes(plan_at(r.id, 'gentle', 'short')[0])} min" for r in LIB.routines_in_order()
    ]
    assert mine == expected and mine != standard
    # The same from the menu button, and the length shown is the one the routine then says.
    await person.send("/start")
    welcome = await person.expect("Limber")
    await person.press("Start a routine", welcome["message"])
    assert labels((await person.expect("Choose a routine"))["message"]) == expected
    await person.press("Hips")
    ask = (await person.expect("how is your pain right now"))["message"]["text"]
    assert f"about {expected[0].split('· ')[1]}" in ask


async def test_the_corrected_texts_are_what_people_read(bot: BotProcess, api_url: str) -> None:
    shown: dict[str, str] = {}
    titles: dict[str, list[str]] = {}
    for area in ("hips", "glutes", "relax", "quick"):
        # One person per routine, at a human pace for each (under the flood limit).
        person = Person(api_url)
        try:
            await person.send(f"/stretch {area}")
            await person.expect("how is your pain right now")
            await person.press("4")
            titles[area] = await walk(person, await person.expect("Step 1 of"), shown)
            await person.press("3")  # the rating after, which walk saw arrive
            await person.expect("Summary")
        finally:
            await person.close()
    for title in ("Edge-of-bed hip flexor stretch", "Half-kneeling hip flexor stretch"):
        assert "hip replacement" in shown[title] and "the leg being stretched" in shown[title]
    assert "under the upper, outer part of the buttock" in shown["Gentle tennis-ball glute release"]
    assert "facing a sturdy chair" in shown["Chair-supported hip flexor stretch"]
    assert "🔁 5 times, holding 5 s each time" in shown["Seated lean-back hold"]
    # The half-kneeling stretch's swap no longer follows it in Hips.
    assert "Standing psoas stretch" not in titles["hips"] and "Side-lying leg lift" in titles["hips"]


async def test_help_says_that_staying_active_helps(bot: BotProcess, person: Person) -> None:
    await person.send("/help")
    text = (await person.expect("What I can do"))["message"]["text"]
    assert "Staying active helps" in text and "NG59" in text
