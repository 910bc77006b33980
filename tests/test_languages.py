"""Spanish and Russian speakers end to end: the language from Telegram, /language, content, safety, times and
cities in their words."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from storage import prompts as prompt_repo
from storage import repo
from tests.factories import BotProcess, FakeClock, Person

# Words that would give away an English text in a reply meant for someone else.
ENGLISH = re.compile(
    r"\b(the|and|your|you|please|pain|step|steps|routine|before|after|now|with|today|tap|type|help)\b", re.I
)


def english_in(text: str) -> list[str]:
    """English words in a reply, leaving out /commands, time zone names and the like."""
    cleaned = re.sub(r"/\w+|[A-Z][a-z]+/[A-Za-z_]+", " ", text)
    return ENGLISH.findall(cleaned)


@pytest.fixture
async def ana(api_url: str, bot: BotProcess) -> AsyncIterator[Person]:
    someone = Person(api_url, first_name="Ana", language_code="es-MX")
    yield someone
    await someone.close()


@pytest.fixture
async def olga(api_url: str, bot: BotProcess) -> AsyncIterator[Person]:
    someone = Person(api_url, first_name="Ольга", language_code="ru")
    yield someone
    await someone.close()


async def test_a_spanish_speaker_is_answered_in_spanish(bot: BotProcess, ana: Person) -> None:
    await ana.send("/start")
    welcome = (await ana.expect("Limber"))["message"]["text"]
    assert "Hola" in welcome and not english_in(welcome)
    await ana.send("/stretch caderas")
    ask = (await ana.expect("0"))["message"]
    assert not english_in(ask.get("text") or ask.get("caption") or "")
    await ana.send("dolor 4")
    step = (await ana.expect("Paso 1 de"))["message"]
    shown = step.get("text") or step.get("caption") or ""
    assert not english_in(shown), english_in(shown)
    async with bot.services.db.transaction() as db:
        assert await repo.language_of(db, user_id=ana.user_id) == "es"


async def test_a_russian_speaker_is_answered_in_russian(bot: BotProcess, olga: Person) -> None:
    await olga.send("/start")
    welcome = (await olga.expect("Limber"))["message"]["text"]
    assert "Здравствуйте" in welcome or "Привет" in welcome
    assert not english_in(welcome)
    await olga.send("/stretch поясница")
    await olga.expect("0")
    await olga.send("боль 4")
    step = (await olga.expect("Шаг 1 из"))["message"]
    shown = step.get("text") or step.get("caption") or ""
    assert not english_in(shown), english_in(shown)


@pytest.mark.parametrize(
    ("language_code", "text", "answer"),
    [
        ("es", "desde ayer no puedo orinar y tengo la entrepierna dormida", "urgencias"),
        ("ru", "со вчерашнего дня не могу помочиться и онемела промежность", "приёмное"),
    ],
)
async def test_a_warning_sign_in_ones_own_language_gets_the_urgent_answer_in_it(
    api_url: str, bot: BotProcess, language_code: str, text: str, answer: str
) -> None:
    someone = Person(api_url, language_code=language_code)
    try:
        await someone.send(text)
        reply = (await someone.expect(answer))["message"]["text"]
        assert not english_in(reply), english_in(reply)
    finally:
        await someone.close()


async def test_a_warning_sign_is_read_in_the_language_it_is_written_in(bot: BotProcess, ana: Person) -> None:
    # An app set to Spanish, a message in English: still the emergency answer (in Spanish).
    await ana.send("I can't feel the toilet paper when I wipe")
    await ana.expect("urgencias")


async def test_prompts_set_up_in_ones_own_words(bot: BotProcess, olga: Person) -> None:
    await olga.send("/start")
    await olga.expect("Limber")
    await olga.send("/reminders")
    screen = (await olga.expect())["message"]
    await olga.press("⌨️", screen)
    await olga.expect()
    await olga.send("в 7 вечера")
    await olga.expect("19:00")
    await olga.press("🌍", await olga.with_buttons())
    await olga.expect()
    await olga.send("Москва")
    done = (await olga.expect("Europe/Moscow"))["message"]["text"]
    assert not english_in(done), english_in(done)
    async with bot.services.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=olga.user_id)
    assert (prefs.reminder_time, prefs.timezone) == ("19:00", "Europe/Moscow")


async def test_language_changes_with_a_tap_and_the_next_prompt_follows(bot: BotProcess, ana: Person) -> None:
    await ana.send("/start")
    await ana.expect("Limber")
    await ana.send("/language")
    menu = (await ana.expect())["message"]
    await ana.press("Русский", menu)
    await ana.expect("Русский", kind="edit")
    await bot.schedule(ana.user_id, at="06:00")
    assert isinstance(bot.clock, FakeClock)
    await bot.clock.advance(21.5 * 3600)  # 06:30 tomorrow: due, and within the grace
    await bot.prompt_pass()
    prompt = (await ana.expect("боль"))["message"]["text"]
    assert not english_in(prompt), english_in(prompt)
