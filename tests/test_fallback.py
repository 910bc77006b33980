"""Anything a person can send gets a sensible answer, never silence and never a traceback."""

from __future__ import annotations

import time

import pytest

from tests.factories import BotProcess, Person


def private_message(person: Person, **fields: object) -> dict:
    user = {"id": person.user_id, "is_bot": False, "first_name": person.first_name}
    chat = {"id": person.user_id, "type": "private", "first_name": person.first_name}
    return {"message_id": 900, "from": user, "chat": chat, "date": int(time.time()), **fields}


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("/nonsense", "I don't know the command /nonsense"),
        ("/stretch@limber_test_bot", "Choose a routine"),
        ("hello there", "Ready for a gentle routine"),
        ("what is the weather like", "I'm a stretching coach"),
        ("hips", "Would you like the"),
        ("x" * 4096, "I'm a stretching coach"),
        ("<b>unclosed & tags", "I'm a stretching coach"),
        ("🙂🙂🙂", "I'm a stretching coach"),
        ("/start extra args here", "Limber"),
        ("/help me please", "What I can do"),
    ],
)
async def test_text_gets_an_answer(bot: BotProcess, person: Person, text: str, reply: str) -> None:
    await person.send(text)
    await person.expect(reply)


async def test_a_sticker_and_a_location_get_an_answer(bot: BotProcess, person: Person) -> None:
    """A sticker gets the "text only" answer; a location sets the time zone for daily prompts."""
    sticker = {
        "file_id": "S1",
        "file_unique_id": "U1",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    await person.client.inject_update({"message": private_message(person, sticker=sticker)})
    await person.expect("I can only read text")
    sea = {"latitude": 1.0, "longitude": 2.0}
    await person.client.inject_update({"message": private_message(person, location=sea)})
    await person.expect("couldn't find a time zone")
    berlin = {"latitude": 52.52, "longitude": 13.40}
    await person.client.inject_update({"message": private_message(person, location=berlin)})
    await person.expect("Time zone set to Europe/Berlin")


async def test_an_edited_message_is_not_acted_on_twice(bot: BotProcess, person: Person) -> None:
    await person.send("4")
    await person.expect("Noted: pain 4/10")
    edited = private_message(person, text="5", edit_date=int(time.time()))
    await person.client.inject_update({"edited_message": edited})
    await person.expect("edited a message")


async def test_a_command_in_a_group_points_to_a_private_chat(bot: BotProcess, person: Person) -> None:
    await person.client.send(person.user_id, "/stretch", chat_type="group", chat_id=-100123, title="Yoga club")
    event = await person.client.wait_for(lambda e: e["type"] == "message" and e["chat_id"] == -100123)
    assert "private chat" in event["message"]["text"]


async def test_no_handler_error_reaches_the_error_handler(
    bot: BotProcess, person: Person, caplog: pytest.LogCaptureFixture
) -> None:
    for text in ("/start", "/stretch", "/stretch quick", "5", "/cancel", "/cancel", "what?", "/safety"):
        await person.send(text)
        await person.expect()
    assert not [r for r in caplog.records if r.name == "bot.handlers.errors"]
