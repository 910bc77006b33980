"""A flood from one person is slowed politely: no rating lost, nobody else kept waiting."""

from __future__ import annotations

from bot.handlers.flood import LIMIT
from storage import repo
from tests.factories import BotProcess, Person


async def test_a_flood_is_slowed_without_losing_ratings(bot: BotProcess, person: Person, api_url: str) -> None:
    other = Person(api_url)
    try:
        for n in range(LIMIT + 15):
            await person.send("7" if n == LIMIT + 5 else f"hello {n}")
        await person.send("pain 3/10")
        await person.expect("That's a lot of messages")
        await person.expect("Noted: pain 7/10")
        await person.expect("Noted: pain 3/10")
        # Someone else is answered at once, flood or not.
        await other.send("/help")
        await other.expect("What I can do")
        replies = [m for m in await person.messages() if "stretching coach" in (m.get("text") or "")]
        assert len(replies) <= LIMIT
        notices = [m for m in await person.messages() if "lot of messages" in (m.get("text") or "")]
        assert len(notices) == 1
        async with bot.services.db.transaction() as db:
            assert [r.value for r in await repo.ratings_for(db, user_id=person.user_id)] == [7, 3]
    finally:
        await other.close()
