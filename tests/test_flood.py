"""A flood from one person is slowed politely: no rating lost, nobody else kept waiting."""

from __future__ import annotations

import asyncio

from bot import views
from bot.handlers.flood import LIMIT, PRESS_LIMIT, WINDOW_SECONDS
from storage import repo
from tests.factories import BotProcess, FakeClock, Person


async def test_a_flood_is_slowed_without_losing_ratings(
    bot: BotProcess, person: Person, api_url: str, clock: FakeClock
) -> None:
    other = Person(api_url)
    try:
        for n in range(LIMIT + 15):
            await person.send("7" if n == LIMIT + 5 else f"hello {n}")
            if n in (3, LIMIT + 3, LIMIT + 10):
                # Someone else writing in the middle of the flood is answered as always.
                await other.send("what is the weather like")
        await person.send("pain 3/10")
        await person.expect("That's a lot of messages")
        await person.expect("Noted: pain 7/10")
        await person.expect("Noted: pain 3/10")
        await other.send("/help")
        await other.expect("What I can do")
        assert len([m for m in await other.messages() if "stretching coach" in (m.get("text") or "")]) == 3
        replies = [m for m in await person.messages() if "stretching coach" in (m.get("text") or "")]
        assert len(replies) <= LIMIT
        notices = [m for m in await person.messages() if "lot of messages" in (m.get("text") or "")]
        assert len(notices) == 1
        async with bot.services.db.transaction() as db:
            assert [r.value for r in await repo.ratings_for(db, user_id=person.user_id)] == [7, 3]
        # The counters forget whoever has been quiet for a window: memory does not grow with every
        # person who ever wrote.
        await clock.advance(WINDOW_SECONDS + 1)
        await other.send("/help")
        await other.expect("What I can do")
        assert list(bot.services.flood) == [other.user_id]
        assert person.user_id not in bot.services.flood_noticed
    finally:
        await other.close()


async def test_forged_and_endless_presses_count_towards_the_flood(bot: BotProcess, person: Person) -> None:
    await person.send("/help")
    message = (await person.expect("What I can do"))["message"]
    # Forged presses past the limit are answered without running any handler.
    for _ in range(LIMIT + 10):
        await person.press_data("1:s:999:0:zz", message["message_id"])
    answers: list[dict] = []
    async with asyncio.timeout(10):
        while len(answers) < LIMIT + 10:
            await asyncio.sleep(0.02)
            answers = [e for e in await person.client.events() if e["type"] == "callback_answer"]
    refused = [a for a in answers if a.get("text") == views.UNKNOWN_BUTTON]
    slowed = [a for a in answers if a.get("text") == views.FLOOD_PRESS]
    assert len(refused) <= LIMIT + 1 and len(slowed) >= 9
    # Even real buttons, pressed faster than any hand could, are dropped past PRESS_LIMIT.
    for _ in range(PRESS_LIMIT):
        await person.press("Routines", message)
    await person.expect_answer(views.FLOOD_PRESS)
