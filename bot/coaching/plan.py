"""A routine turned into the concrete steps of one session."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from content import Library
from content.schema import Routine

SECONDS_PER_REP = 4
SECONDS_PER_STEP = 15


@dataclass(frozen=True)
class PlannedStep:
    technique_id: str
    title: str
    hold_seconds: int | None
    reps: int | None
    sides: str
    rest_seconds: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedStep:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    @property
    def side_count(self) -> int:
        return 2 if self.sides == "both" else 1


def build_plan(routine: Routine, library: Library) -> list[PlannedStep]:
    steps = []
    for tid in routine.techniques:
        t = library.techniques[tid]
        steps.append(
            PlannedStep(
                technique_id=t.id,
                title=t.title,
                hold_seconds=t.hold_seconds,
                reps=t.reps,
                sides=t.sides.value,
                rest_seconds=t.rest_between_sides_seconds,
            )
        )
    return steps


def step_seconds(step: PlannedStep) -> int:
    hold = (step.hold_seconds or 0) * step.side_count
    reps = (step.reps or 0) * SECONDS_PER_REP * step.side_count
    return hold + reps + step.rest_seconds + SECONDS_PER_STEP


def estimate_minutes(steps: list[PlannedStep]) -> int:
    return max(1, math.ceil(sum(step_seconds(s) for s in steps) / 60))


LEVELS = ("gentle", "beginner", "intermediate")
SHORT_STEPS = 4
LONG_FACTOR = 1.25


def within_level(technique_ids: list[str], library: Library, level: str) -> tuple[list[str], list[str]]:
    """The techniques at or below the person's level, and those left out; never an empty routine."""
    rank = LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1
    kept = [t for t in technique_ids if LEVELS.index(library.techniques[t].level.value) <= rank]
    if not kept:
        kept = [min(technique_ids, key=lambda t: LEVELS.index(library.techniques[t].level.value))]
    return kept, [t for t in technique_ids if t not in kept]


def fit_length(steps: list[PlannedStep], length: str, library: Library) -> list[PlannedStep]:
    """Short: the first few steps. Long: holds a quarter longer, never past the content's cap."""
    if length == "short":
        return steps[:SHORT_STEPS]
    if length != "long":
        return steps
    longer = []
    for step in steps:
        technique = library.techniques.get(step.technique_id)
        if step.hold_seconds and technique is not None:
            cap = technique.max_hold_seconds or step.hold_seconds
            hold = min(cap, max(step.hold_seconds, round(step.hold_seconds * LONG_FACTOR / 5) * 5))
            step = PlannedStep(**{**step.to_json(), "hold_seconds": hold})
        longer.append(step)
    return longer
