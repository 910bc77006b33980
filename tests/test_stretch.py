"""Guided routines end to end through the emulator: every routine, outcomes, ratings, timer, restarts."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from bot import callbacks as cb
from bot.coaching.session import StepAction
from content import load_library
from storage import repo
from storage.models import RoutineSession, StepOutcome
from tests.factories import BotProcess, FakeClock, Person, button_data, labels

LIB = load_library()


async def begin(person: Person, area: str = "hips", before: int | str = 6) -> dict:
    """Start a routine and answer the rating before; returns the first step's message event."""
    await person.send(f"/stretch {area}")
    await person.expect("how is your pain right now")
    await person.press(str(before))
    return await person.expect("Step 1 of")


async def sessions(bot: BotProcess, user_id: int) -> list[RoutineSession]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(select(RoutineSession).where(col(RoutineSession.user_id) == user_id))
        return list(rows.scalars().all())


async def outcomes(bot: BotProcess, user_id: int) -> list[tuple[int, str, str]]:
    async with bot.services.db.transaction() as db:
        rows = await db.execute(
            select(StepOutcome).where(col(StepOutcome.user_id) == user_id).order_by(col(StepOutcome.id))
        )
        return [(o.step_index, o.technique_id, o.outcome) for o in rows.scalars().all()]


async def ratings(bot: BotProcess, user_id: int) -> list[tuple[int, str]]:
    async with bot.services.db.transaction() as db:
        return [(r.value, r.context) for r in await repo.ratings_for(db, user_id=user_id)]


@pytest.mark.parametrize("routine_id", sorted(LIB.routines))
async def test_every_routine_runs_to_completion(bot: BotProcess, person: Person, routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    n = len(routine.techniques)
    step = await begin(person, routine_id, before=6)
    for index, technique_id in enumerate(routine.techniques):
        text = step["message"]["text"]
        assert f"Step {index + 1} of {n}" in text
        assert LIB.techniques[technique_id].title in text
        await person.press("Done", step["message"])
        if index + 1 < n:
            step = await person.expect(f"Step {index + 2} of {n}")
    await person.expect("last step")
    await person.press("3")
    summary = (await person.expect("Summary"))["message"]["text"]
    assert f"{n} of {n} steps done" in summary
    assert "6 → 3 (-3)" in summary and "meaningful drop" in summary
    assert [o for _, _, o in await outcomes(bot, person.user_id)] == ["done"] * n
    assert await ratings(bot, person.user_id) == [(6, "before"), (3, "after")]
    (row,) = await sessions(bot, person.user_id)
    assert row.status == "finished" and not row.stopped


async def test_skip_hurt_and_stop_are_recorded_and_summarised(bot: BotProcess, person: Person) -> None:
    step = await begin(person, "low-back", before=5)
    await person.press("Skip", step["message"])
    closed = await person.expect("Skipped", kind="edit")
    assert labels(closed["message"]) == []
    step = await person.expect("Step 2 of")
    await person.press("This hurts", step["message"])
    await person.expect_answer("Ease off")
    step = await person.expect("Step 3 of")
    assert "hurt" in step["message"]["text"] and "Ease off" in step["message"]["text"]
    await person.press("Stop", step["message"])
    await person.expect("Routine stopped")
    await person.press("5")
    summary = (await person.expect("Summary"))["message"]["text"]
    assert "stopped early" in summary
    assert "0 of 7 steps done, 1 skipped, 1 marked as hurting" in summary
    assert "5 → 5 (no change)" in summary and "normal ups and downs" in summary
    routine = LIB.routines["low-back"].techniques
    assert await outcomes(bot, person.user_id) == [(0, routine[0], "skipped"), (1, routine[1], "hurt")]
    (row,) = await sessions(bot, person.user_id)
    assert row.stopped and row.status == "finished"


async def test_a_rise_in_pain_is_called_out(bot: BotProcess, person: Person) -> None:
    step = await begin(person, "quick", before=2)
    await person.press("Stop", step["message"])
    await person.expect("How is your pain now")
    await person.press("5")
    summary = (await person.expect("Summary"))["message"]["text"]
    assert "2 → 5 (+3)" in summary and "meaningful rise" in summary and "Relax" in summary


async def test_ratings_can_be_typed_before_during_after_and_any_time(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch quick")
    await person.expect("how is your pain right now")
    await person.send("pain 5/10")
    await person.expect("Pain before: 5/10", kind="edit")
    step = await person.expect("Step 1 of")
    await person.send("it's a 4")
    await person.expect("Noted: pain 4/10 during your routine")
    await person.press("Stop", step["message"])
    await person.expect("How is your pain now")
    await person.send("3")
    await person.expect("Summary")
    await person.send("7 out of 10")
    await person.expect("Noted: pain 7/10.")
    await person.send("pain 12")
    await person.expect("whole number from 0 to 10")
    assert await ratings(bot, person.user_id) == [(5, "before"), (4, "during"), (3, "after"), (7, "free")]


async def test_skipping_the_rating_is_allowed(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch relax")
    await person.expect("how is your pain right now")
    await person.press("Skip rating")
    step = await person.expect("Step 1 of")
    await person.press("Stop", step["message"])
    await person.press("Skip rating", (await person.expect("How is your pain now"))["message"])
    summary = (await person.expect("Summary"))["message"]["text"]
    assert "not rated both before and after" in summary
    assert await ratings(bot, person.user_id) == []


async def test_timer_counts_down_each_side_with_a_rest_between(
    bot: BotProcess, person: Person, clock: FakeClock
) -> None:
    # half-kneeling-hip-flexor in the hips routine holds 30 s per side with 10 s rest.
    routine = LIB.routines["hips"].techniques
    target = routine.index("half-kneeling-hip-flexor")
    step = await begin(person, "hips")
    for index in range(target):
        await person.press("Done", step["message"])
        step = await person.expect(f"Step {index + 2} of")
    await person.press("Start timer", step["message"])
    await person.expect_answer("Timer started")
    first = await person.expect("Left side: 30 s left", kind="edit")
    assert "Start timer" not in labels(first["message"])
    edits = [first]
    for expected in (
        "Left side: 25 s",
        "Left side: 20 s",
        "Left side: 15 s",
        "Left side: 10 s",
        "Left side: 5 s",
        "Switch sides",
        "Switch sides",
        "Right side: 30 s",
        "Right side: 25 s",
    ):
        await clock.wait_for_sleepers()
        await clock.advance(5)
        edits.append(await person.expect(expected, kind="edit"))
    for expected in ("Right side: 20 s", "Right side: 15 s", "Right side: 10 s", "Right side: 5 s", "Time's up"):
        await clock.wait_for_sleepers()
        await clock.advance(5)
        edits.append(await person.expect(expected, kind="edit"))
    done = edits[-1]
    assert clock.sleepers == 0  # the countdown ended by itself
    assert "Done" in labels(done["message"])[0]
    await person.press("Done", done["message"])
    await person.expect(f"Step {target + 2} of")
    # One countdown edit per 5 s tick over 70 s, plus the first and the closing edit: no more.
    timed_id = step["message"]["message_id"]
    edit_calls = [c for c in await person.client.calls("editMessageText") if c["params"]["message_id"] == timed_id]
    assert len(edit_calls) == 70 / 5 + 2


async def test_double_and_stale_presses_change_nothing(bot: BotProcess, person: Person) -> None:
    first = await begin(person, "glutes")
    await person.press("Done", first["message"])
    await person.expect("Step 2 of")
    # The first step's message lost its buttons; pressing its old payload again is stale.
    old = button_data(first["message"], "Done")
    await person.press_data(old, first["message"]["message_id"])
    await person.expect_answer("earlier message")
    # An old rating button from before the first step: stale too.
    assert [o for *_, o in await outcomes(bot, person.user_id)] == ["done"]
    (row,) = await sessions(bot, person.user_id)
    assert row.current_step == 1


async def test_forged_and_foreign_payloads_are_refused(bot: BotProcess, person: Person, api_url: str) -> None:
    step = await begin(person, "core")
    (mine,) = await sessions(bot, person.user_id)
    other = Person(api_url, first_name="Eve")
    try:
        await other.send("/start")
        await other.expect("Limber")
        welcome = await other.with_buttons()
        # Eve replays Ana's step payload on her own message: not her session.
        await other.press_data(cb.encode(cb.StepPress(mine.id or 0, 0, StepAction.done)), welcome["message_id"])
        await other.expect_answer("isn't valid")
        await other.press_data(cb.encode(cb.ContinuePress(mine.id or 0, stop=True)), welcome["message_id"])
        await other.expect_answer("no longer")
        for junk in ("", "1:s:abc", "9:s:1:0:d", "1:m:nope", "x" * 64, "1:f:2:00000000:c"):
            await other.press_data(junk, welcome["message_id"])
            answer = await other.expect_answer()
            assert answer["text"], junk
    finally:
        await other.close()
    # Ana's session is untouched, and her own buttons still work.
    (row,) = await sessions(bot, person.user_id)
    assert (row.status, row.current_step) == ("in_progress", 0)
    await person.press("Done", step["message"])
    await person.expect("Step 2 of")


async def test_unknown_area_shows_menu_and_typo_offers_closest(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch elbow")
    menu = await person.expect("I don't have a routine called “elbow”")
    assert len(labels(menu["message"])) == len(LIB.routines)
    await person.send("/stretch hisp")
    offer = await person.expect("Did you mean")
    await person.press("Start", offer["message"])
    await person.expect("how is your pain right now")
    await person.send("/stretch <b>" + "x" * 3000)
    await person.expect("I don't have a routine called")


async def test_second_stretch_offers_to_continue_or_switch(bot: BotProcess, person: Person) -> None:
    step = await begin(person, "hips")
    await person.press("Done", step["message"])
    await person.expect("Step 2 of")
    await person.send("/stretch")
    offer = await person.expect("You have a routine open")
    assert "step 2 of" in offer["message"]["text"]
    await person.press("Continue", offer["message"])
    again = await person.expect("Step 2 of")
    await person.press("Done", again["message"])
    await person.expect("Step 3 of")
    await person.send("/stretch core")
    offer = await person.expect("You have a routine open")
    await person.press("instead", offer["message"])
    await person.expect("how is your pain right now")
    rows = sorted(await sessions(bot, person.user_id), key=lambda r: r.id or 0)
    assert [(r.routine_id, r.status, r.stopped) for r in rows] == [
        ("hips", "finished", True),
        ("core", "rating_before", False),
    ]


async def test_cancel_stops_the_routine_or_says_nothing_to_cancel(bot: BotProcess, person: Person) -> None:
    await person.send("/cancel")
    await person.expect("nothing to cancel")
    await begin(person, "hamstrings")
    await person.send("/cancel")
    await person.expect("How is your pain now")
    await person.send("/cancel")
    await person.expect("Summary")
    (row,) = await sessions(bot, person.user_id)
    assert row.status == "finished" and row.stopped


async def test_restart_mid_routine_resumes_at_the_same_step(bot: BotProcess, person: Person) -> None:
    step = await begin(person, "hips")
    await person.press("Done", step["message"])
    step2 = await person.expect("Step 2 of")
    await bot.restart()
    # The old message's buttons still work after the restart, at the same step.
    await person.press("Done", step2["message"])
    await person.expect("Step 3 of")
    await bot.restart()
    await person.send("/stretch")
    offer = await person.expect("You have a routine open")
    assert "step 3 of" in offer["message"]["text"]


async def test_restart_resumes_a_running_countdown(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    routine = LIB.routines["quick"].techniques
    timed = next(i for i, t in enumerate(routine) if LIB.techniques[t].hold_seconds and not LIB.techniques[t].reps)
    step = await begin(person, "quick")
    for index in range(timed):
        await person.press("Done", step["message"])
        step = await person.expect(f"Step {index + 2} of")
    await person.press("Start timer", step["message"])
    await person.expect("s left", kind="edit")
    await bot.restart()
    await clock.wait_for_sleepers()
    await clock.advance(5)
    resumed = await person.expect("s left", kind="edit")
    assert resumed["message"]["message_id"] == step["message"]["message_id"]


async def test_a_bad_gateway_on_the_next_step_is_retried(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    step = await begin(person, "quick")
    await person.client.fail_next("sendMessage", error_code=502, times=2)
    await person.press("Done", step["message"])
    await clock.pass_pauses(0.25, 0.5)
    await person.expect("Step 2 of")
    assert [o for *_, o in await outcomes(bot, person.user_id)] == ["done"]


@pytest.mark.parametrize("why", ["overtaken", "outage"])
async def test_the_newest_buttons_work_while_their_message_id_is_not_stored(
    bot: BotProcess, person: Person, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """A press can overtake the storing of its message's id (two workers, updates out of order), or the
    database can stay down past the retries right after a step is sent: the newest buttons work."""
    from bot import dbretry

    routine = LIB.routines["hips"].techniques
    timed = routine.index("half-kneeling-hip-flexor")
    step = await begin(person, "hips")
    for index in range(timed - 1):
        await person.press("Done", step["message"])
        step = await person.expect(f"Step {index + 2} of")
    store, calls = repo.set_message_if_at, []

    async def not_yet(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        if why == "outage":
            raise OperationalError("UPDATE", {}, ConnectionRefusedError("connection refused"))
        return False

    monkeypatch.setattr(dbretry, "BUDGET", 0.3)
    monkeypatch.setattr(repo, "set_message_if_at", not_yet)
    await person.press("Done", step["message"])
    step = await person.expect(f"Step {timed + 1} of")
    if why == "outage":  # down until the retries give up: 0.2 s apart, 0.3 s in all
        async with asyncio.timeout(5):
            while len(calls) < 2:
                await asyncio.sleep(0.01)
    monkeypatch.setattr(repo, "set_message_if_at", store)
    # The step with a timer: its countdown edits the message pressed.
    await person.press("Start timer", step["message"])
    await person.expect_answer("Timer started")
    edit = await person.expect("Left side: 30 s left", kind="edit")
    assert edit["message_id"] == step["message"]["message_id"]
    await person.press("Done", step["message"])
    await person.expect(f"Step {timed + 2} of")
    assert not [m for m in await person.messages() if "went wrong" in (m.get("text") or "")]
    async with bot.services.db.transaction() as db:
        outcomes = (await db.execute(select(StepOutcome).where(col(StepOutcome.user_id) == person.user_id))).scalars()
        assert [o.step_index for o in outcomes] == list(range(timed + 1))
