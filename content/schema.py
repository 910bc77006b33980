"""Schema of the content files: one technique or routine per YAML file, keyed by id."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=240)]
Alias = Annotated[str, StringConstraints(to_lower=True, strip_whitespace=True, min_length=2, max_length=30)]
SEED_NAME = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")


class Area(StrEnum):
    hips = "hips"
    low_back = "low_back"
    glutes = "glutes"
    hamstrings = "hamstrings"
    core = "core"
    pelvis = "pelvis"


class Position(StrEnum):
    lying_on_back = "lying_on_back"
    lying_on_front = "lying_on_front"
    side_lying = "side_lying"
    kneeling = "kneeling"
    hands_and_knees = "hands_and_knees"
    seated = "seated"
    standing = "standing"


class Sides(StrEnum):
    left = "left"
    right = "right"
    both = "both"
    none = "none"


class Level(StrEnum):
    gentle = "gentle"
    beginner = "beginner"
    intermediate = "intermediate"


class DeepHip(StrEnum):
    """Deep hip movements a hip replacement may need cleared first."""

    flexion = "flexion"
    extension = "extension"


HIP_REPLACEMENT = "hip replacement"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Technique(_Strict):
    """One stretch, release or strengthening exercise."""

    id: Id
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=60)]
    # The first is the area it mainly works (its target); a swap must share it.
    areas: list[Area] = Field(min_length=1)
    # Alternatives for the same target, best first: a plan takes the first within the person's level
    # when this one is above it, and a routine never puts one straight after its own swap.
    swaps: list[Id] = []
    # Deep hip flexion or extension in it: then a caution must name a hip replacement.
    deep_hip: list[DeepHip] = []
    position: Position
    equipment: list[Annotated[str, StringConstraints(max_length=40)]] = []
    steps: list[Sentence] = Field(min_length=2, max_length=8)
    hold_seconds: int | None = Field(default=None, ge=5, le=120)
    # The most an adaptive plan may grow the hold to.
    max_hold_seconds: int | None = Field(default=None, ge=5, le=180)
    reps: int | None = Field(default=None, ge=1, le=30)
    sides: Sides
    rest_between_sides_seconds: int = Field(default=0, ge=0, le=60)
    level: Level
    cautions: list[Sentence] = Field(min_length=1)
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=320)]
    source: Annotated[str, StringConstraints(pattern=SEED_NAME.pattern)]

    @model_validator(mode="after")
    def _dose(self) -> Technique:
        if self.hold_seconds is None and self.reps is None:
            raise ValueError("needs hold_seconds, reps or both")
        if self.max_hold_seconds is not None:
            if self.hold_seconds is None:
                raise ValueError("max_hold_seconds needs hold_seconds")
            if self.max_hold_seconds < self.hold_seconds:
                raise ValueError("max_hold_seconds is below hold_seconds")
        if self.sides is not Sides.both and self.rest_between_sides_seconds:
            raise ValueError("rest_between_sides_seconds only applies when sides is 'both'")
        if self.deep_hip and not any(HIP_REPLACEMENT in c.lower() for c in self.cautions):
            raise ValueError("deep_hip needs a caution about a hip replacement")
        if self.id in self.swaps:
            raise ValueError("a technique cannot be its own swap")
        return self


class Routine(_Strict):
    """An ordered list of techniques for one area, reached by its id or an alias."""

    id: Id
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=300)]
    # What it is for: at every level and length its plan keeps a technique whose target this is.
    area: Area
    aliases: list[
        Annotated[str, StringConstraints(to_lower=True, strip_whitespace=True, min_length=2, max_length=30)]
    ] = []
    techniques: list[Id] = Field(min_length=2, max_length=12)
    # Menu order: lower first.
    order: int = 0
