"""SQLModel tables. Every timestamp is stored and returned as an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# The values stored in string columns. StrEnums: a member is its stored string, so no migration.


class PromptKind(StrEnum):
    daily = "daily"
    snooze = "snooze"


class PromptStatus(StrEnum):
    """pending -> claimed -> sending -> sent; or missed, cancelled, blocked, failed, unknown."""

    pending = "pending"
    claimed = "claimed"
    sending = "sending"
    sent = "sent"
    missed = "missed"
    cancelled = "cancelled"
    blocked = "blocked"
    failed = "failed"
    unknown = "unknown"  # the send timed out: Telegram may have delivered it


class PromptResponse(StrEnum):
    started = "started"
    snoozed = "snoozed"
    skipped = "skipped"


class DayKind(StrEnum):
    """A local day the person marked: rest and flare keep a streak, a plain skip does not."""

    rest = "rest"
    flare = "flare"
    skipped = "skipped"


class UpdateStatus(StrEnum):
    """A Telegram update taken by a worker (handled_updates.status)."""

    working = "working"
    done = "done"


class Claim(StrEnum):
    """What taking an update found: it is this worker's now, was handled before, or is being handled."""

    new = "new"
    done = "done"
    busy = "busy"


class RatingContext(StrEnum):
    """Where a pain rating was given."""

    before = "before"
    after = "after"
    during = "during"
    prompt = "prompt"
    free = "free"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite drops the zone: store UTC, hand back aware datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _user_fk(*, index: bool = True) -> Any:
    return Field(sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=index))


class User(SQLModel, table=True):
    __tablename__ = "users"

    # The Telegram user id; private chats share it.
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    first_name: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    onboarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while a red-flag answer pauses coaching; cleared by a two-step confirmation.
    coaching_paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when Telegram says the person blocked the bot; prompts stop until they come back.
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The question the bot asked and is waiting for a typed answer to ("time", "timezone").
    awaiting: str | None = Field(default=None, max_length=16)
    # The one-time code of a /delete in progress: its second tap may reach another worker.
    delete_code: str | None = Field(default=None, max_length=16)
    # The language Limber speaks to them (bot.i18n); None until first contact sets it.
    language: str | None = Field(default=None, max_length=8)


class Preferences(SQLModel, table=True):
    __tablename__ = "preferences"

    user_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    )
    timezone: str = Field(default="UTC", max_length=64)
    level: str = Field(default="beginner", max_length=16)
    session_length: str = Field(default="normal", max_length=8)  # short / normal / long
    reminders_on: bool = Field(default=False)
    reminder_time: str | None = Field(default=None, max_length=5)  # local "HH:MM"
    reminder_days: int = Field(default=0b1111111)  # bit 0 is Monday
    prompts_paused: bool = Field(default=False)
    # The routine the person last chose; daily prompts offer it.
    routine_id: str | None = Field(default=None, max_length=40)
    # The next daily prompt: its UTC instant (what the scheduler claims) and its local date.
    next_prompt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    next_prompt_date: date | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Steps as text only, without pictures (slow data, screen readers).
    text_only: bool = Field(default=False)


class RoutineSession(SQLModel, table=True):
    __tablename__ = "routine_sessions"
    __table_args__ = (
        # At most one unfinished session per person, whichever process creates it.
        Index(
            "ux_routine_sessions_one_open",
            "user_id",
            unique=True,
            sqlite_where=text("status <> 'finished'"),
            postgresql_where=text("status <> 'finished'"),
        ),
        # Running countdowns (resumed at start-up, adopted by webhook workers every few seconds): a
        # step's move clears timer_started_at, so this index holds only the few that run.
        Index(
            "ix_routine_sessions_running_timers",
            "timer_started_at",
            sqlite_where=text("timer_started_at IS NOT NULL"),
            postgresql_where=text("timer_started_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    routine_id: str = Field(max_length=40)
    status: str = Field(max_length=16)
    stopped: bool = Field(default=False)
    # The steps as planned at the start, so content edits never change a running session.
    plan: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    current_step: int = Field(default=0)
    # The message whose buttons are live for the current step or rating.
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    timer_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The process editing the countdown and its last beat: one editor at a time; a silent one is replaced.
    timer_owner: str | None = Field(default=None, max_length=32)
    timer_beat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StepOutcome(SQLModel, table=True):
    __tablename__ = "step_outcomes"
    __table_args__ = (UniqueConstraint("session_id", "step_index", name="uq_step_outcomes_step"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="routine_sessions.id", ondelete="CASCADE", index=True)
    user_id: int = _user_fk()
    step_index: int
    technique_id: str = Field(max_length=40)
    outcome: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class PainRating(SQLModel, table=True):
    __tablename__ = "pain_ratings"
    __table_args__ = (
        Index("ix_pain_ratings_user_time", "user_id", "created_at"),
        # One rating per message, however often its update is handled (see `source`).
        Index("ux_pain_ratings_source", "user_id", "source", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk(index=False)
    value: int = Field(ge=0, le=10)
    # before / after a session, during one, or free-standing
    context: str = Field(max_length=8)
    # Indexed: a session's summary reads its ratings, and deleting a session finds them (ON DELETE CASCADE).
    session_id: int | None = Field(default=None, foreign_key="routine_sessions.id", ondelete="CASCADE", index=True)
    # The message a typed rating came from ("m<message_id>"): a second run of its update finds it here.
    source: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RedFlagEvent(SQLModel, table=True):
    __tablename__ = "red_flag_events"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    categories: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # A one-time code handed out by the first confirmation tap and required by the second.
    confirm_code: str | None = Field(default=None, max_length=16)
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cleared_reason: str | None = Field(default=None, max_length=16)


class Prompt(SQLModel, table=True):
    """One daily prompt (or its one snooze) for one local date: the outbox the scheduler sends from."""

    __tablename__ = "prompts"
    __table_args__ = (
        # Exactly one daily prompt and at most one snooze per person and local day, whatever the processes.
        UniqueConstraint("user_id", "local_date", "kind", name="uq_prompts_day"),
        Index("ix_prompts_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    local_date: date
    kind: str = Field(max_length=8)  # daily / snooze
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # pending -> claimed -> sending -> sent; or missed, cancelled, blocked, failed, unknown
    status: str = Field(max_length=10)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    response: str | None = Field(default=None, max_length=10)  # started / snoozed / skipped
    # Today's pain as given on this prompt: once per prompt, however often the button is pressed.
    rating: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DayMark(SQLModel, table=True):
    """A local day the person marked: a planned rest or a flare (streaks forgive both), or a plain skip."""

    __tablename__ = "day_marks"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_day_marks_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    day: date
    kind: str = Field(max_length=8)  # rest / flare / skipped
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class HandledUpdate(SQLModel, table=True):
    """A Telegram update_id taken by a worker: a re-delivery of a finished one is dropped."""

    __tablename__ = "handled_updates"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    status: str = Field(max_length=8)  # working / done
    owner: str = Field(max_length=32)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)


class FigureFile(SQLModel, table=True):
    """The file_id Telegram gave a figure when this bot first uploaded it: later sends reuse it."""

    __tablename__ = "figure_files"

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(primary_key=True, max_length=80)  # figures.files.Picture.name: changes with the drawing
    file_id: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CueMessage(SQLModel, table=True):
    """The short notifying message of a running step ("switch sides", "time's up"), deleted by what comes next."""

    __tablename__ = "cue_messages"

    session_id: int = Field(foreign_key="routine_sessions.id", ondelete="CASCADE", primary_key=True)
    message_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
