"""Free text understood end to end: warning signs as people type them, advice by tier and country,
ratings only when they are ratings, and kind answers to hello, thanks, medicines and cures."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from storage.models import PainRating, RedFlagEvent
from tests.factories import BotProcess, Person, labels

# The four messages that once got "I only understand a few things", and the two that raised an alarm.
MISSED = [
    "I can't feel the toilet paper when I wipe and it's hard to pee",
    "my legs feel like jelly and keep buckling under me",
    "pins and needles in both feet and my foot drags when I walk",
]
FEVER = "I've got a temperature and the shivers with this back pain"
NOT_ALARMS = [
    "I fell asleep on the sofa and woke up stiff",
    "good news, the doctor said no fever and no bladder problems",
]


async def ratings(bot: BotProcess, user_id: int) -> list[tuple[int, str]]:
    async with bot.services.db.transaction() as db:
        rows = (await db.execute(select(PainRating).where(col(PainRating.user_id) == user_id))).scalars()
        return [(r.value, r.context) for r in rows]


async def flags(bot: BotProcess, user_id: int) -> list[str]:
    async with bot.services.db.transaction() as db:
        rows = (await db.execute(select(RedFlagEvent).where(col(RedFlagEvent.user_id) == user_id))).scalars()
        return [r.categories for r in rows]


@pytest.mark.parametrize("text", MISSED)
async def test_cauda_equina_signs_get_the_emergency_answer(bot: BotProcess, person: Person, text: str) -> None:
    await person.send(text)
    answer = (await person.expect("get emergency help now"))["message"]["text"]
    assert (
        "emergency department now" in answer and "walk-in clinic or a GP appointment is not the right place" in answer
    )
    assert "don't wait" in answer
    assert "urgent care" not in answer and "suddenly" not in answer


async def test_a_fever_gets_same_day_advice_not_the_emergency_department(bot: BotProcess, person: Person) -> None:
    await person.send(FEVER)
    answer = (await person.expect("contact a doctor today"))["message"]["text"]
    assert "a fever, or feeling hot and shivery" in answer and "111" in answer
    assert "emergency department" not in answer
    assert await flags(bot, person.user_id) == ["fever"]


@pytest.mark.parametrize("text", NOT_ALARMS)
async def test_old_false_alarms_stay_quiet(bot: BotProcess, person: Person, text: str) -> None:
    await person.send(text)
    reply = await person.expect()
    assert "help now" not in reply["message"]["text"] and "doctor today" not in reply["message"]["text"]
    assert await flags(bot, person.user_id) == []


@pytest.mark.parametrize(
    ("zone", "number"), [("Europe/London", "Call 999 or go to A&amp;E"), ("America/Chicago", "Call 911")]
)
async def test_the_emergency_number_is_the_persons_own(bot: BotProcess, person: Person, zone: str, number: str) -> None:
    await person.join()
    await bot.schedule(person.user_id, tz=zone)
    await person.send("since this morning i cant pee, i have to strain and nothing comes")
    message = (await person.expect("get emergency help now"))["message"]
    assert number.replace("&amp;", "&") in message["text"]


async def test_without_a_country_the_card_names_the_common_numbers(bot: BotProcess, person: Person) -> None:
    await person.send("/safety")
    card = (await person.expect("emergency department"))["message"]["text"]
    assert "999 in the UK, 911 in North America, 112 in the EU" in card
    for sign in ("bladder fill", "bowels", "saddle area", "erections", "both", "giving way", "foot that drags"):
        assert sign in card
    for sign in ("fever", "cancer", "weight loss", "wakes you at night", "fall, accident", "steroids"):
        assert sign in card


async def test_a_one_sided_symptom_gets_a_kind_pointer_and_no_alarm(bot: BotProcess, person: Person) -> None:
    await person.send("tingling down my left calf when i sit for long")
    reply = (await person.expect("not a warning sign on its own"))["message"]["text"]
    assert "/safety" in reply
    assert await flags(bot, person.user_id) == []


@pytest.mark.parametrize("text", ["meeting at 3 o'clock", "held it for 20 minutes", "did 2 sessions yesterday"])
async def test_times_durations_and_counts_are_never_ratings(bot: BotProcess, person: Person, text: str) -> None:
    await person.send(text)
    reply = (await person.expect())["message"]["text"]
    assert "Noted" not in reply and "Was that your pain" not in reply
    assert await ratings(bot, person.user_id) == []


@pytest.mark.parametrize(("text", "value"), [("about a six", 6), ("seven", 7), ("it's a 4", 4), ("pain 3/10", 3)])
async def test_unambiguous_ratings_are_noted(bot: BotProcess, person: Person, text: str, value: int) -> None:
    await person.send(text)
    await person.expect(f"Noted: pain {value}/10")
    assert await ratings(bot, person.user_id) == [(value, "free")]


async def test_a_number_that_might_be_a_rating_is_asked_about_first(bot: BotProcess, person: Person) -> None:
    await person.send("my back is so stiff 6")
    question = (await person.expect("Was that your pain: 6/10?"))["message"]
    assert labels(question) == ["Yes, 6/10", "No, it wasn't"]
    assert await ratings(bot, person.user_id) == []
    await person.press("Yes, 6/10", question)
    await person.expect("Noted: pain 6/10")
    assert await ratings(bot, person.user_id) == [(6, "free")]

    await person.send("hips tight 5")
    question = (await person.expect("Was that your pain: 5/10?"))["message"]
    await person.press("No, it wasn't", question)
    await person.expect("haven't noted a rating", kind="edit")
    assert await ratings(bot, person.user_id) == [(6, "free")]


async def test_a_checked_rating_answers_the_routines_question(bot: BotProcess, person: Person) -> None:
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")
    await person.send("ugh work was long 4")
    question = (await person.expect("Was that your pain: 4/10?"))["message"]
    await person.press("Yes, 4/10", question)
    await person.expect("Step 1 of")
    assert await ratings(bot, person.user_id) == [(4, "before")]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("should I take ibuprofen?", "can't advise on medicines"),
        ("can i use voltaren gel on it", "pharmacist or your doctor"),
        ("will this cure my sciatica?", "Stretching isn't a cure"),
        ("hiya", "Ready for a gentle routine"),
        ("thanks, that helped!", "You're welcome"),
    ],
)
async def test_questions_and_courtesies_get_a_fitting_answer(
    bot: BotProcess, person: Person, text: str, reply: str
) -> None:
    await person.send(text)
    await person.expect(reply)
