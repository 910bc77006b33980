"""Arbitrary input through the real bot: nothing escapes a handler, and a reply comes where one is due."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.factories import BotProcess, Person

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
texts = st.text(min_size=1, max_size=300).filter(lambda t: t.strip() != "")
commands = st.builds(
    lambda name, arg: f"/{name} {arg}".strip(),
    st.sampled_from(
        [
            "start",
            "help",
            "stretch",
            "cancel",
            "reminders",
            "settings",
            "pause",
            "resume",
            "progress",
            "safety",
            "delete",
            "nonsense",
            "stretch@limber_test_bot",
            "STRETCH",
        ]
    ),
    st.text(max_size=60),
)


@asynccontextmanager
async def fresh(api_url: str) -> AsyncIterator[Person]:
    """A new person per example: one person's many examples would (rightly) trip the flood guard."""
    person = Person(api_url)
    try:
        yield person
    finally:
        await person.close()


@pytest.fixture
async def errors(caplog: pytest.LogCaptureFixture) -> AsyncIterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.ERROR, logger="bot.handlers.errors")
    yield caplog
    assert not [r for r in caplog.records if r.name == "bot.handlers.errors"], "a handler raised"


@FUZZ
@given(text=st.one_of(texts, commands))
async def test_any_text_gets_an_answer(bot: BotProcess, api_url: str, errors: object, text: str) -> None:
    async with fresh(api_url) as person:
        await person.send(text)
        reply = (await person.expect())["message"]
        assert reply.get("text") or reply.get("caption") or reply.get("document")


@FUZZ
@given(data=st.one_of(st.text(min_size=1, max_size=64), st.from_regex(r"1:[a-z]:[0-9a-z:/_-]{0,40}", fullmatch=True)))
async def test_any_button_data_gets_a_polite_answer(bot: BotProcess, api_url: str, errors: object, data: str) -> None:
    assume(len(data.encode()) <= 64)  # Telegram's limit on callback data: longer never reaches a bot
    async with fresh(api_url) as person:
        await person.send("/start")
        welcome = await person.expect("Limber")
        await person.press_data(data, welcome["message"]["message_id"])
        await person.expect_answer()


def _message(person: Person, **fields: object) -> dict:
    user = {"id": person.user_id, "is_bot": False, "first_name": "Ana"}
    chat = {"id": person.user_id, "type": "private", "first_name": "Ana"}
    return {"message_id": 5000, "from": user, "chat": chat, "date": int(time.time()), **fields}


@FUZZ
@given(kind=st.sampled_from(["sticker", "photo", "voice", "contact", "dice", "edited", "channel", "group_text"]))
async def test_other_updates_never_break_the_bot(bot: BotProcess, api_url: str, errors: object, kind: str) -> None:
    async with fresh(api_url) as person:
        await _other_update(person, kind)


async def _other_update(person: Person, kind: str) -> None:
    payloads = {
        "sticker": {
            "message": _message(
                person,
                sticker={
                    "file_id": "s",
                    "file_unique_id": "u",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                },
            )
        },
        "photo": {
            "message": _message(person, photo=[{"file_id": "p", "file_unique_id": "q", "width": 1, "height": 1}])
        },
        "voice": {"message": _message(person, voice={"file_id": "v", "file_unique_id": "w", "duration": 1})},
        "contact": {"message": _message(person, contact={"phone_number": "1", "first_name": "X"})},
        "dice": {"message": _message(person, dice={"emoji": "🎲", "value": 3})},
        "edited": {"edited_message": _message(person, text="5", edit_date=int(time.time()))},
        "channel": {
            "channel_post": {
                "message_id": 1,
                "chat": {"id": -1001, "type": "channel", "title": "C"},
                "date": int(time.time()),
                "text": "/stretch",
            }
        },
        "group_text": {
            "message": {**_message(person, text="hello everyone"), "chat": {"id": -55, "type": "group", "title": "G"}}
        },
    }
    await person.client.inject_update(payloads[kind])
    if kind in ("channel", "group_text"):
        await person.send("/help")  # nothing was due; the bot still answers its next message
        await person.expect("What I can do")
    else:
        reply = (await person.expect())["message"]
        assert reply.get("text") or reply.get("caption")
