"""Telegram conventions: /privacy, deep links, the updates Limber asks for, the menu per language."""

from __future__ import annotations

from tests.factories import BotProcess, Person


async def test_privacy_says_what_is_stored_why_how_long_and_how_to_erase(bot: BotProcess, person: Person) -> None:
    await person.send("/privacy")
    text = (await person.expect("Your privacy"))["message"]["text"]
    for part in ("pain ratings", "warning signs", "Why", "For how long", "Who can see it", "/export", "/delete"):
        assert part in text


async def test_the_welcome_links_the_privacy_policy(bot: BotProcess, person: Person) -> None:
    await person.send("/start")
    assert "/privacy" in (await person.expect("Limber"))["message"]["text"]


async def test_a_deep_link_opens_its_routine_after_the_welcome(bot: BotProcess, person: Person) -> None:
    await person.send("/start hips")
    welcome = await person.expect("I'm Limber")
    assert "Call your emergency number" in welcome["message"]["text"]  # the safety card comes first
    await person.expect("how is your pain right now")
    # Someone who knows Limber goes straight to the routine or the reminders.
    await person.send("/cancel")
    await person.expect()
    before = len(await person.messages())
    await person.send("/start reminders")
    await person.expect("Daily prompts")
    assert len(await person.messages()) == before + 1


async def test_an_unknown_deep_link_falls_back_to_the_welcome(bot: BotProcess, person: Person) -> None:
    await person.send("/start no-such-thing")
    await person.expect("I'm Limber")


async def test_only_handled_update_kinds_are_asked_for(bot: BotProcess, person: Person) -> None:
    await person.join()
    calls = await person.client.calls("getUpdates")
    allowed = {tuple(c["params"].get("allowed_updates") or ()) for c in calls}
    assert allowed == {("message", "edited_message", "callback_query", "my_chat_member")}


async def test_the_menu_and_profile_are_set_per_language(bot: BotProcess, person: Person) -> None:
    await person.join()
    languages = {c["params"].get("language_code") for c in await person.client.calls("setMyCommands")}
    assert {None, "es", "ru"} <= languages
    described = {c["params"].get("language_code") for c in await person.client.calls("setMyDescription")}
    assert {None, "es", "ru"} <= described


async def test_every_text_and_edit_goes_out_as_html(bot: BotProcess, person: Person) -> None:
    """Defaults(parse_mode=HTML) on the Application: PTB puts it in every request that takes one."""
    await person.join()
    await person.send("/stretch hips")
    await person.expect("how is your pain right now")
    await person.press("5")
    await person.expect("Step 1 of")
    await person.press("Done")
    await person.expect("Step 2 of")
    calls = [c for m in ("sendMessage", "editMessageText") for c in await person.client.calls(m)]
    assert {c["method"] for c in calls} == {"sendMessage", "editMessageText"}
    assert [c for c in calls if c["params"].get("parse_mode") != "HTML"] == []
