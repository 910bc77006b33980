"""The countdown of one step: a hold per side, with a rest between sides."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class PhaseKind(StrEnum):
    hold = "hold"
    rest = "rest"  # between the sides


class CueKind(StrEnum):
    """A moment worth a sound: a rest between sides begins, the other side begins, or the hold is over."""

    rest = "rest"
    switch = "switch"
    done = "done"


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    side: str | None  # "left", "right" or None
    seconds: int


def timer_phases(*, hold_seconds: int, sides: str, rest_seconds: int) -> list[Phase]:
    if sides == "both":
        phases = [Phase(PhaseKind.hold, "left", hold_seconds)]
        if rest_seconds:
            phases.append(Phase(PhaseKind.rest, None, rest_seconds))
        return [*phases, Phase(PhaseKind.hold, "right", hold_seconds)]
    return [Phase(PhaseKind.hold, sides if sides in ("left", "right") else None, hold_seconds)]


@dataclass(frozen=True)
class TimerView:
    phase: Phase | None  # None once finished
    remaining: int  # whole seconds left in this phase
    next_phase: Phase | None
    finished: bool


def timer_view(phases: list[Phase], elapsed: float) -> TimerView:
    """What the countdown shows `elapsed` seconds after it started."""
    at = max(0.0, elapsed)
    for index, phase in enumerate(phases):
        if at < phase.seconds:
            following = phases[index + 1] if index + 1 < len(phases) else None
            return TimerView(phase, math.ceil(phase.seconds - at), following, finished=False)
        at -= phase.seconds
    return TimerView(None, 0, None, finished=True)


def seconds_to_phase_end(phases: list[Phase], elapsed: float) -> float:
    """How long until the current phase ends (0 when finished)."""
    at = max(0.0, elapsed)
    for phase in phases:
        if at < phase.seconds:
            return phase.seconds - at
        at -= phase.seconds
    return 0.0


def total_seconds(phases: list[Phase]) -> int:
    return sum(p.seconds for p in phases)


@dataclass(frozen=True)
class Cue:
    """A moment worth a sound, and the phase it begins (None when the hold is over)."""

    kind: CueKind
    phase: Phase | None


def phase_index(phases: list[Phase], elapsed: float) -> int:
    """Which phase `elapsed` falls in; len(phases) once finished."""
    at = max(0.0, elapsed)
    for index, phase in enumerate(phases):
        if at < phase.seconds:
            return index
        at -= phase.seconds
    return len(phases)


def cue_for(phases: list[Phase], index: int) -> Cue | None:
    """The cue for entering phase `index` (the first phase starts with the button, so it has none)."""
    if index <= 0:
        return None
    if index >= len(phases):
        return Cue(CueKind.done, None)
    phase = phases[index]
    return Cue(CueKind.rest if phase.kind is PhaseKind.rest else CueKind.switch, phase)
