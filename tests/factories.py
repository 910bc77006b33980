"""Test factories: seeded histories written straight to the database.

The clock, the bot, people and processes live in testkit/ (shared with bench/); they are re-exported
here for the test modules that import them from this one.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from storage.models import DayMark as DayMarkRow
from storage.models import PainRating, RoutineSession, StepOutcome
from testkit.app import WEBHOOK, WEBHOOK_SECRET, BotProcess
from testkit.chat import JSON, TOKEN, Person, button_data, labels
from testkit.clock import FakeClock
from testkit.processes import emulator_process

__all__ = [
    "JSON",
    "TOKEN",
    "WEBHOOK",
    "WEBHOOK_SECRET",
    "BotProcess",
    "FakeClock",
    "Person",
    "button_data",
    "emulator_process",
    "labels",
    "seed_history",
]


async def seed_history(
    bot: BotProcess,
    user_id: int,
    *,
    days: int,
    routine_id: str = "hips",
    before: int = 6,
    after: int = 4,
    rest_days: tuple[int, ...] = (),
    skipped_days: tuple[int, ...] = (),
    hurt: dict[int, str] | None = None,
) -> None:
    """`days` days of finished sessions ending today (on the bot's clock, UTC), one a day at 08:00.

    Day i counts back from today (0 is today). Rest and skipped days get a mark and no session;
    `hurt` maps a day to a technique marked as hurting in that day's session.
    """
    today = bot.clock.now().date()
    routine = bot.services.library.routines[routine_id]
    async with bot.services.db.transaction() as db:
        for back in range(days):
            day = today - timedelta(days=back)
            if back in rest_days or back in skipped_days:
                kind = "rest" if back in rest_days else "skipped"
                db.add(DayMarkRow(user_id=user_id, day=day, kind=kind))
                continue
            started = datetime.combine(day, time(8, 0), tzinfo=UTC)
            session = RoutineSession(
                user_id=user_id,
                routine_id=routine_id,
                status="finished",
                plan=[],
                current_step=0,
                started_at=started,
                updated_at=started,
                finished_at=started + timedelta(minutes=10),
            )
            db.add(session)
            await db.flush()
            assert session.id is not None
            for index, technique_id in enumerate(routine.techniques):
                outcome = "hurt" if (hurt or {}).get(back) == technique_id else "done"
                db.add(
                    StepOutcome(
                        session_id=session.id,
                        user_id=user_id,
                        step_index=index,
                        technique_id=technique_id,
                        outcome=outcome,
                        created_at=started,
                    )
                )
            db.add(
                PainRating(user_id=user_id, value=before, context="before", session_id=session.id, created_at=started)
            )
            db.add(
                PainRating(
                    user_id=user_id,
                    value=after,
                    context="after",
                    session_id=session.id,
                    created_at=started + timedelta(minutes=11),
                )
            )
