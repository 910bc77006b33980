"""The life of one guided session: rating before, steps, rating after, summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.coaching.ratings import PainChange, pain_change


class Status(StrEnum):
    rating_before = "rating_before"
    # The pain before was severe: waiting for the person to choose Relax or stopping.
    pain_check = "pain_check"
    in_progress = "in_progress"
    rating_after = "rating_after"
    finished = "finished"


class StepAction(StrEnum):
    timer = "t"
    done = "d"
    skip = "k"
    hurt = "h"
    stop = "x"


class Outcome(StrEnum):
    """How a step ended (step_outcomes.outcome)."""

    done = "done"
    skipped = "skipped"
    hurt = "hurt"


OUTCOMES = {StepAction.done: Outcome.done, StepAction.skip: Outcome.skipped, StepAction.hurt: Outcome.hurt}
# A rating before a routine at or above this does not lead straight into a stretch, history or not.
SEVERE_PAIN = 8


@dataclass(frozen=True)
class Position:
    status: Status
    step: int
    step_count: int


def after_step(pos: Position, action: StepAction) -> Position:
    """Where a session goes when the current step ends with `action` (done, skip, hurt or stop)."""
    if action is StepAction.stop or pos.step + 1 >= pos.step_count:
        return Position(Status.rating_after, pos.step, pos.step_count)
    return Position(Status.in_progress, pos.step + 1, pos.step_count)


def severe(value: int | None) -> bool:
    return value is not None and value >= SEVERE_PAIN


def after_rating(pos: Position, value: int | None = None) -> Position:
    """A rating (or skipping it) moves from the rating before to step 1, and from the rating after to the end.

    Severe pain before holds the session at a pain check instead of starting a stretch.
    """
    if pos.status is Status.rating_before:
        if severe(value):
            return Position(Status.pain_check, 0, pos.step_count)
        return Position(Status.in_progress, 0, pos.step_count)
    return Position(Status.finished, pos.step, pos.step_count)


@dataclass(frozen=True)
class Summary:
    routine_title: str
    step_count: int
    done: int
    skipped: int
    hurt: int
    seconds: int
    stopped: bool
    before: int | None
    after: int | None

    @property
    def change(self) -> PainChange | None:
        if self.before is None or self.after is None:
            return None
        return pain_change(self.before, self.after)

    @property
    def not_reached(self) -> int:
        return self.step_count - self.done - self.skipped - self.hurt


def summarize(
    *,
    routine_title: str,
    step_count: int,
    outcomes: list[str],
    started_at: datetime,
    finished_at: datetime,
    stopped: bool,
    before: int | None,
    after: int | None,
) -> Summary:
    return Summary(
        routine_title=routine_title,
        step_count=step_count,
        done=outcomes.count(Outcome.done),
        skipped=outcomes.count(Outcome.skipped),
        hurt=outcomes.count(Outcome.hurt),
        seconds=max(0, int((finished_at - started_at).total_seconds())),
        stopped=stopped,
        before=before,
        after=after,
    )
