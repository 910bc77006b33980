"""A routine turned into the concrete steps of one session."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from content import Library
from content.schema import Level, Position, Routine, Technique

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
    if step.reps:
        # A hold with repetitions is held every time (short holds, repeated).
        each = SECONDS_PER_REP + (step.hold_seconds or 0)
        return step.reps * each * step.side_count + step.rest_seconds + SECONDS_PER_STEP
    return (step.hold_seconds or 0) * step.side_count + step.rest_seconds + SECONDS_PER_STEP


def estimate_minutes(steps: list[PlannedStep]) -> int:
    return max(1, math.ceil(sum(step_seconds(s) for s in steps) / 60))


LEVELS = tuple(Level)


class SessionLength(StrEnum):
    """How long a person wants a routine (preferences.session_length)."""

    short = "short"
    normal = "normal"
    long = "long"


SHORT_STEPS = 4
LONG_FACTOR = 1.25


@dataclass(frozen=True)
class LevelFit:
    """A routine at the person's level: the techniques to do, what was swapped for what, what was left out."""

    ids: list[str]
    swapped: list[tuple[str, str]]
    left_out: list[str]


OFF_FLOOR = (Position.seated, Position.standing)


def _rank(technique: Technique) -> int:
    return LEVELS.index(technique.level.value)


def within_level(technique_ids: list[str], library: Library, level: str) -> LevelFit:
    """Each technique above the person's level is swapped for its first declared swap within the level
    (following swaps of swaps) that the routine does not already hold, so the routine keeps its
    targets; with none, it is left out. A chair-only routine is never sent to the floor. Never empty."""
    rank = LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1
    techniques = library.techniques
    floor_ok = any(techniques[t].position not in OFF_FLOOR for t in technique_ids)
    taken = {t for t in technique_ids if _rank(techniques[t]) <= rank}
    kept: list[str] = []
    swapped: list[tuple[str, str]] = []
    left: list[str] = []
    for tid in technique_ids:
        if tid in taken:
            kept.append(tid)
            continue
        swap = _swap_for(tid, library, rank, taken, floor_ok)
        if swap is None:
            left.append(tid)
            continue
        taken.add(swap)
        kept.append(swap)
        swapped.append((tid, swap))
    if not kept:
        gentlest = min(technique_ids, key=lambda t: _rank(techniques[t]))
        return LevelFit([gentlest], [], [t for t in technique_ids if t != gentlest])
    return LevelFit(kept, swapped, left)


def _swap_for(tid: str, library: Library, rank: int, taken: set[str], floor_ok: bool) -> str | None:
    """The first swap, breadth first through swaps of swaps, within the level and not yet in the plan."""
    queue, seen = list(library.techniques[tid].swaps), {tid}
    while queue:
        candidate = queue.pop(0)
        if candidate in seen:
            continue
        seen.add(candidate)
        technique = library.techniques[candidate]
        allowed = floor_ok or technique.position in OFF_FLOOR
        if allowed and _rank(technique) <= rank and candidate not in taken:
            return candidate
        queue.extend(technique.swaps)
    return None


def fit_length(steps: list[PlannedStep], length: str, library: Library) -> list[PlannedStep]:
    """Short: the first few steps. Long: holds a quarter longer, never past the content's cap."""
    if length == SessionLength.short:
        return steps[:SHORT_STEPS]
    if length != SessionLength.long:
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
