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
