"""A person's stored history as the coaching domain's plain records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.coaching.progress import DayMark, RatingRecord, SessionRecord
from bot.services import Services
from storage import history as history_repo
from storage import prompts as prompt_repo
from storage.models import Preferences, RatingContext, User
from storage.repo import ratings_for


@dataclass(frozen=True)
class History:
    user: User
    prefs: Preferences
    ratings: list[RatingRecord]
    sessions: list[SessionRecord]
    marks: list[DayMark]
    red_flags: list[tuple[datetime, str, str | None]]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.prefs.timezone)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()


async def load(svc: Services, user_id: int) -> History:
    async with svc.db.transaction() as db:
        user = await db.get(User, user_id, populate_existing=True)
        assert user is not None
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        ratings = await ratings_for(db, user_id=user_id)
        sessions = await history_repo.sessions_with_outcomes(db, user_id=user_id)
        marks = await history_repo.day_marks(db, user_id=user_id)
        flags = await history_repo.red_flags_of(db, user_id=user_id)
    by_session: dict[int, dict[str, int]] = {}
    for r in ratings:
        if r.session_id is not None and r.context in (RatingContext.before, RatingContext.after):
            by_session.setdefault(r.session_id, {})[r.context] = r.value
    return History(
        user=user,
        prefs=prefs,
        ratings=[RatingRecord(r.created_at, r.value, r.context, r.session_id) for r in ratings],
        sessions=[
            SessionRecord(
                id=s.id or 0,
                routine_id=s.routine_id,
                started_at=s.started_at,
                finished_at=s.finished_at,
                stopped=s.stopped,
                before=by_session.get(s.id or 0, {}).get(RatingContext.before),
                after=by_session.get(s.id or 0, {}).get(RatingContext.after),
                outcomes=tuple((o.technique_id, o.outcome) for o in outcomes),
            )
            for s, outcomes in sessions
        ],
        marks=[DayMark(m.day, m.kind) for m in marks],
        red_flags=[(f.created_at, f.categories, f.cleared_reason) for f in flags],
    )
