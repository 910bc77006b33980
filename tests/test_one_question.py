"""One question at a time: the prompt's own plan and rating carried into the routine, one message per
change, old buttons, unknown commands, a flare day marked from the prompt."""

from __future__ import annotations

from sqlalchemy import select

from bot.coaching.plan import build_plan, estimate_minutes
from bot.flows.session import personal_plan
from storage.models import PainRating, RoutineSession
from tests.factories import BotProcess, FakeClock, Person, labels, seed_history
from tests.test_fallback import private_message


async def bot_messages(person: Person) -> list[dict]:
    return [m for m in await person.messages() if (m.get("from") or {}).get("is_bot")]


async def short_sessions_and_a_prompt(bot: BotProcess, person: Person) -> dict:
    """A person who chose short sessions, with today's prompt (Quick, their focus by default) just sent."""
    await person.join()
    await person.send("/settings")
    screen = await person.expect("Your settings")
    await person.press("Short", screen["message"])
    await person.expect("Session length: Short", kind="edit")
    await bot.schedule(person.user_id, at="09:30")
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    await clock.advance(3600)
    await bot.prompt_pass()
    return await person.expect("Time for today's stretch")


async def test_the_prompt_shows_the_persons_own_plan_and_its_rating_is_the_before_rating(
    bot: BotProcess, person: Person
) -> None:
    prompt = await short_sessions_and_a_prompt(bot, person)
    plan, _ = await personal_plan(bot.services, person.user_id, "quick")
    generic = build_plan(bot.services.library.routines["quick"], bot.services.library)
    assert len(plan) < len(generic)  # short sessions: the plan is the person's, not the routine's
    steps, minutes = len(plan), estimate_minutes(plan)
    assert (
        f"Today's routine: Quick five-minute break ({steps} steps, about {minutes} min)." in prompt["message"]["text"]
    )

    await person.press("3", prompt["message"])
    rated = await person.expect("Pain today: 3/10", kind="edit")
    await person.press("Start now", rated["message"])
    first = await person.expect(f"Step 1 of {steps}")
    text = first["message"]["text"]
    assert f"Quick five-minute break: {steps} steps, about {minutes} min." in text
    assert "Pain before: 3/10, from today's prompt ✓" in text
    # Not asked again.
    assert not [m for m in await bot_messages(person) if "how is your pain right now" in (m.get("text") or "")]
    async with bot.services.db.transaction() as db:
        (session,) = (await db.execute(select(RoutineSession))).scalars().all()
        ratings = (await db.execute(select(PainRating))).scalars().all()
    # One rating, counted once: the prompt's, now the session's before-rating.
    assert [(r.value, r.context, r.session_id) for r in ratings] == [(3, "before", session.id)]
    # The routine goes on as usual from its first step.
    await person.press("Done", first["message"])
    await person.expect(f"Step 2 of {steps}")


async def test_a_prompt_rating_over_an_hour_old_is_not_carried(bot: BotProcess, person: Person) -> None:
    prompt = await short_sessions_and_a_prompt(bot, person)
    await person.press("6", prompt["message"])
    rated = await person.expect("Pain today: 6/10", kind="edit")
    await bot.clock.advance(3601)  # type: ignore[attr-defined]
    await person.press("Start now", rated["message"])
    ask = await person.expect("how is your pain right now")
    assert "from today's prompt" not in ask["message"]["text"]
    # A rating typed after the prompt is not the prompt's: /stretch asks too.
    await person.send("/cancel")
    await person.expect("cancelled before it began")
    await person.send("4")
    await person.expect("Noted")
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")


async def test_a_time_zone_change_sends_one_message(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/reminders")
    screen = await person.expect("Daily prompts")
    await person.press("Time zone", screen["message"])
    await person.expect("Which time zone")
    before = len(await bot_messages(person))
    await person.send("Berlin")
    done = await person.expect("Time zone set to Europe/Berlin.")
    assert "Time zone: Europe/Berlin" in done["message"]["text"] and "/reminders" in done["message"]["text"]
    await person.send("/help")
    await person.expect("What I can do")
    assert len(await bot_messages(person)) == before + 2  # the change, then the help
    # A shared location: one message too.
    await person.press("Time zone", screen["message"])
    await person.expect("Which time zone")
    before = len(await bot_messages(person))
    lisbon = {"latitude": 38.72, "longitude": -9.14}
    await person.client.inject_update({"message": private_message(person, location=lisbon)})
    await person.expect("Time zone set to Europe/Lisbon from your location.")
    await person.send("/help")
    await person.expect("What I can do")
    assert len(await bot_messages(person)) == before + 2


async def test_an_old_start_button_for_the_open_routine_offers_continue(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("hips")
    old = await person.expect("Would you like the")
    await person.press("Start Hips", old["message"])
    ask = await person.expect("how is your pain right now")
    await person.press("4", ask["message"])
    await person.expect("Step 1 of")
    await person.press("Start Hips", old["message"])
    offer = await person.expect("You have a routine open")
    assert labels(offer["message"]) == ["▶ Continue", "⏹ Stop it"]
    # Asking for another routine still offers the switch.
    await person.send("/stretch glutes")
    other = await person.expect("You have a routine open")
    assert "🔄 Start Glutes instead" in labels(other["message"])
    await person.press("Continue", offer["message"])
    await person.expect("Step 1 of")


async def test_an_unknown_command_lists_the_commands(bot: BotProcess, person: Person) -> None:
    await person.send("/yoga")
    text = (await person.expect("I don't know the command /yoga"))["message"]["text"]
    for command in ("/stretch", "/progress", "/reminders", "/export", "/delete", "/help"):
        assert command in text


async def test_a_flare_day_marked_from_the_prompt_offers_relax(bot: BotProcess, person: Person) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="09:30")
    await bot.clock.advance(3600)  # type: ignore[attr-defined]
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.press("Skip today", prompt["message"])
    reason = await person.expect("rest day or a flare-up", kind="edit")
    await person.press("Flare-up", reason["message"])
    marked = await person.expect("Marked today as a flare-up day. Your streak is safe.", kind="edit")
    assert labels(marked["message"]) == ["🌿 Start Gentle and relaxing"]
    await person.press("Start Gentle", marked["message"])
    ask = await person.expect("how is your pain right now")
    assert ask["message"]["text"].startswith("Gentle and relaxing:")


async def test_a_high_prompt_rating_carried_into_the_routine_still_offers_relax(
    bot: BotProcess, person: Person
) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=5, before=3, after=3)
    await bot.schedule(person.user_id, at="09:30")
    await bot.clock.advance(3600)  # type: ignore[attr-defined]
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.press("7", prompt["message"])
    rated = await person.expect("Pain today: 7/10", kind="edit")
    await person.press("Start now", rated["message"])
    await person.expect("Pain before: 7/10, from today's prompt")
    offer = await person.expect("2 or more points above your recent average")
    assert "Switch to Relax" in labels(offer["message"])[0]
