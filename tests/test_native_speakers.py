"""Issue 15's "done when": a Spanish and a Russian speaker use Limber end to end and never see an English word.

Each types a whole routine in their language with typed ratings, sets up daily prompts with a local city
name, and asks for /progress, /report and /export. Every reply text, caption, button label and button
answer, every word drawn on the chart and the PDF, and the CSV header are checked against a real English
word list: every word of the English texts in bot/locales/limber.pot and of the English content.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from babel.messages.pofile import read_po
from matplotlib.figure import Figure
from sqlalchemy import select

from bot import i18n, reports
from storage import prompts as prompt_repo
from storage import repo
from storage.models import PainRating
from tests.factories import BotProcess, FakeClock, Person, labels

ROOT = Path(__file__).resolve().parent.parent
# Names and symbols, not English: the bot's and the platform's names, file formats, time units.
NAMES = frozenset({"limber", "telegram", "pdf", "csv", "json", "utc", "iana", "s", "min"})
# Words as Spanish as they are English, each in its Spanish sense: "a" (to), "no", "me", "local", "ten"
# (have!), "normal", "imaginable", "control", and anatomy as Spanish physiotherapists say it: "pelvis",
# "lumbar", "psoas".
SHARED_WITH_SPANISH = frozenset(
    {"a", "no", "me", "local", "ten", "normal", "imaginable", "control", "pelvis", "lumbar", "psoas"}
)
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _english_texts() -> Iterator[str]:
    with (ROOT / "bot" / "locales" / "limber.pot").open("rb") as source:
        for message in read_po(source):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            yield from (str(text) for text in ids if text)
    for path in sorted((ROOT / "content").glob("*/*.yaml")):
        if "translations" in path.parts or "lexicons" in path.parts:
            continue
        yield from _strings(yaml.safe_load(path.read_text(encoding="utf-8")))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@cache
def english_words() -> frozenset[str]:
    words: set[str] = set()
    for text in _english_texts():
        text = re.sub(r"\{[^}]*\}|<[^>]+>|/\w+|https?://\S+", " ", text)
        words.update(w.lower() for w in WORD.findall(text) if w.isascii())
    return frozenset(words - NAMES)


def english_in(text: str, language: str, *, names: tuple[str, ...] = ()) -> list[str]:
    """The English words in a text: /commands, zone names (Europe/Moscow) and the given names aside."""
    cleaned = re.sub(r"/\w+|\b[A-Z][A-Za-z_]+/[A-Za-z_/]+", " ", text)
    for name in names:
        cleaned = cleaned.replace(name, " ")
    allowed = SHARED_WITH_SPANISH if language == "es" else frozenset()
    found = (w for w in WORD.findall(cleaned) if w.isascii())
    return [w for w in found if w.lower() in english_words() and w.lower() not in allowed]


def test_the_word_list_is_the_real_english() -> None:
    words = english_words()
    assert len(words) > 800
    assert {"pain", "the", "session", "stretch", "before", "after", "streak", "average", "week"} <= words
    assert "limber" not in words
    assert english_in("Your pain today", "ru") == ["Your", "pain", "today"]
    assert english_in("Tu dolor hoy", "es") == []


def shown(event: dict[str, Any]) -> list[str]:
    """What a person sees of one bot event: its text or caption, its buttons, a button's notice."""
    message = event.get("message") or {}
    texts = [message.get("text") or "", message.get("caption") or "", event.get("text") or ""]
    return [t for t in texts if t] + labels(message)


class Drawn:
    """The words on every chart and report page the bot draws, read from the figures as they are made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        for name in ("chart_figure", "report_figure"):
            monkeypatch.setattr(reports, name, self._keeping(getattr(reports, name)))

    def _keeping(self, make: Callable[..., Figure]) -> Callable[..., Figure]:
        def spy(*args: Any, **kwargs: Any) -> Figure:
            fig = make(*args, **kwargs)
            self.texts.extend(reports.drawn_texts(fig))
            return fig

        return spy


SPEAKERS = {
    "es": {
        "code": "es-MX",
        "name": "Lupita",
        "routine": "/stretch caderas",
        "before": "dolor 5",
        "after": "un 3",
        "done": "Hecho",
        "time": "7 de la tarde",
        "city": "Ciudad de México",
        "zone": "America/Mexico_City",
        "step": "Paso",
        "progress": "Tu progreso",
    },
    "ru": {
        "code": "ru",
        "name": "Света",
        "routine": "/stretch поясница",
        "before": "боль 6",
        "after": "на три",
        "done": "Готово",
        "time": "в 7 вечера",
        "city": "Санкт-Петербург",
        "zone": "Europe/Moscow",
        "step": "Шаг",
        "progress": "Ваш прогресс",
    },
}


@pytest.fixture
async def speaker(request: pytest.FixtureRequest, api_url: str, bot: BotProcess) -> AsyncIterator[Person]:
    said = SPEAKERS[request.param]
    someone = Person(api_url, first_name=said["name"], language_code=said["code"])
    yield someone
    await someone.close()


@pytest.mark.parametrize("speaker", ["es", "ru"], indirect=True)
async def test_a_native_speaker_never_sees_english(
    bot: BotProcess, speaker: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    language = i18n.choose(speaker.language_code)
    said = SPEAKERS[language]
    drawn = Drawn(monkeypatch)
    await speaker.send("/start")
    await speaker.expect("Limber")

    # A whole routine, started and rated by typing.
    await speaker.send(said["routine"])
    await speaker.expect("0")
    await speaker.send(said["before"])
    step = (await speaker.expect(f"{said['step']} 1 "))["message"]
    steps = 1
    while said["done"] in " ".join(labels(step)):
        await speaker.press(said["done"], step)
        event = await speaker.expect()
        step = event["message"]
        steps += 1
        assert steps < 20, "the routine never ended"
    await speaker.send(said["after"])
    await speaker.expect("5 → 3" if language == "es" else "6 → 3")

    # Daily prompts with a typed time and a local city name.
    await speaker.send("/reminders")
    screen = (await speaker.expect())["message"]
    await speaker.press("⌨️", screen)
    await speaker.expect()
    await speaker.send(said["time"])
    await speaker.expect("19:00")
    await speaker.press("🌍", await speaker.with_buttons())
    await speaker.expect()
    await speaker.send(said["city"])
    await speaker.expect(said["zone"])
    async with bot.services.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=speaker.user_id)
        assert await repo.language_of(db, user_id=speaker.user_id) == language
    assert (prefs.reminder_time, prefs.timezone) == ("19:00", said["zone"])
    # The first prompt, half an hour after 19:00 there, speaks their language too.
    local = bot.clock.now().astimezone(ZoneInfo(said["zone"]))
    due = local.replace(hour=19, minute=0, second=0, microsecond=0)
    due += timedelta(days=1) if due <= local else timedelta()
    await bot.clock.advance((due - local).total_seconds() + 1800)  # type: ignore[attr-defined]
    await bot.prompt_pass()
    await speaker.expect("0")

    # Their own data.
    await speaker.send("/progress")
    await speaker.expect(kind="chat_action")
    chart = await speaker.expect()
    assert chart["message"]["photo"]
    await speaker.expect(said["progress"])
    await speaker.send("/report")
    await speaker.expect(kind="chat_action")
    report = await speaker.expect()
    await speaker.send("/export")
    csv_event = await speaker.expect()
    json_event = await speaker.expect()
    assert json_event["message"]["document"]["file_name"].endswith(".json")

    events = [e for e in await speaker.client.events() if e.get("chat_id") == speaker.user_id]
    replies = [text for event in events for text in shown(event)]
    names = (said["name"], said["city"])
    found = {text: english_in(text, language, names=names) for text in replies}
    assert not {text: words for text, words in found.items() if words}
    assert len(replies) > 15

    assert len(drawn.texts) > 30  # the chart twice (alone and on the page), the page's lines
    found = {text: english_in(text, language, names=names) for text in drawn.texts}
    assert not {text: words for text, words in found.items() if words}

    pdf = Path(report["file_path"]).read_bytes()
    if shutil.which("pdftotext"):
        # The PDF's own text layer, as a viewer would copy it.
        reader = await asyncio.create_subprocess_exec("pdftotext", "-", "-", stdin=PIPE, stdout=PIPE)
        out, _ = await reader.communicate(pdf)
        text = out.decode("utf-8")
        assert said["name"] in text and not english_in(text, language, names=names)

    header = next(csv.reader(io.StringIO(Path(csv_event["file_path"]).read_text(encoding="utf-8"))))
    assert len(header) == 13 and not english_in(" ".join(header), language)


async def test_a_countdown_resumed_after_a_restart_speaks_russian(
    bot: BotProcess, api_url: str, clock: FakeClock
) -> None:
    olga = Person(api_url, first_name="Ольга", language_code="ru")
    try:
        library = bot.services.library
        routine = library.routines["quick"].techniques
        timed = next(
            i for i, t in enumerate(routine) if library.techniques[t].hold_seconds and not library.techniques[t].reps
        )
        await olga.send("/start")
        await olga.expect("Limber")
        await olga.send("/stretch пять минут")
        await olga.expect("0")
        await olga.send("боль 4")
        step = (await olga.expect("Шаг 1 из"))["message"]
        for index in range(timed):
            await olga.press("Готово", step)
            step = (await olga.expect(f"Шаг {index + 2} из"))["message"]
        await olga.press("Запустить таймер", step)
        await olga.expect("осталось", kind="edit")
        await bot.restart()
        await clock.wait_for_sleepers()
        await clock.advance(5)
        resumed = (await olga.expect(kind="edit"))["message"]
        text = resumed.get("text") or resumed.get("caption") or ""
        assert "осталось" in text and not english_in(text, "ru"), text
        assert not [w for label in labels(resumed) for w in english_in(label, "ru")]
    finally:
        await olga.close()


@pytest.mark.parametrize(
    ("language_code", "area", "typed", "options", "step"),
    [
        ("ru", "/stretch поясница", "5 или 6", ["5/10", "6/10", "Ни одно из них"], "Шаг 1 из"),
        ("es", "/stretch caderas", "entre 5 y 6", ["5/10", "6/10", "Ninguno de estos"], "Paso 1 de"),
    ],
)
async def test_two_numbers_in_a_rating_are_asked_about_not_guessed(
    bot: BotProcess, api_url: str, language_code: str, area: str, typed: str, options: list[str], step: str
) -> None:
    someone = Person(api_url, language_code=language_code)
    try:
        await someone.send(area)
        await someone.expect("0")
        await someone.send(typed)
        question = (await someone.expect("0"))["message"]
        assert labels(question) == options
        assert not english_in(question["text"], i18n.choose(language_code))
        async with bot.services.db.transaction() as db:
            session = await repo.open_session(db, user_id=someone.user_id)
            assert session is not None and session.status == "rating_before"  # nothing stored yet
        await someone.press("6/10", question)
        await someone.expect(step)
        async with bot.services.db.transaction() as db:
            mine = select(PainRating).where(PainRating.user_id == someone.user_id)  # type: ignore[arg-type]
            stored = (await db.execute(mine)).scalars()
            assert [(r.value, r.context) for r in stored] == [(6, "before")]
    finally:
        await someone.close()
