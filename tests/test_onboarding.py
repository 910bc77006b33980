"""First contact: /start, /help, /safety, the command menu."""

from __future__ import annotations

from tests.factories import BotProcess, Person, labels


async def test_start_explains_limber_shows_safety_card_and_choices(bot: BotProcess, person: Person) -> None:
    await person.send("/start")
    event = await person.expect("Limber")
    text = event["message"]["text"]
    assert "not medical advice" in text
    for sign in ("bladder", "saddle", "both", "fever", "fall"):
        assert sign in text
    assert "sharp" in text
    assert labels(event["message"]) == ["🧘 Start a routine", "⏰ Daily reminder", "❓ How it works"]


async def test_help_lists_every_registered_command(bot: BotProcess, person: Person) -> None:
    calls = await person.client.calls("setMyCommands")
    assert calls and calls[-1]["ok"]
    await person.send("/help")
    text = (await person.expect("What I can do"))["message"]["text"]
    commands = [c for c in ("/stretch", "/cancel", "/safety", "/help", "/start")]
    assert all(c in text for c in commands)


async def test_menu_button_from_start_lists_routines(bot: BotProcess, person: Person) -> None:
    await person.send("/start")
    await person.expect("Limber")
    await person.press("Start a routine")
    menu = await person.expect("Choose a routine")
    names = labels(menu["message"])
    assert len(names) == len(bot.services.library.routines)
    assert any(n.startswith("Hips") for n in names) and any("min" in n for n in names)


async def test_a_name_with_html_characters_cannot_break_a_reply(bot: BotProcess, api_url: str) -> None:
    person = Person(api_url, first_name="<b>Ana & Bo</i")
    try:
        await person.send("/start")
        welcome = await person.expect("Limber")
        assert welcome["message"]["text"].startswith("Hi, <b>Ana & Bo</i!")
        await person.send("/stretch <i>hips & </b>")
        await person.expect("I don't have a routine called “<i>hips & </b>”")
    finally:
        await person.close()
