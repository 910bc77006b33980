"""Schema of the content files: one technique or routine per YAML file, keyed by id."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal, get_args

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


class Role(StrEnum):
    """What the bot itself reaches for a routine for; at most one routine has each."""

    flare = "flare"  # offered on a flare day or after a severe rating
    quick = "quick"  # a daily prompt's "start now" when the person chose no focus routine


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
    role: Role | None = None


# --- Poses: the data a technique's figure is drawn from (see figures/body.py for the body model) ---

Segment = Literal[
    "pelvis",
    "trunk",
    "head",
    "thigh_r",
    "shin_r",
    "foot_r",
    "arm_r",
    "forearm_r",
    "thigh_l",
    "shin_l",
    "foot_l",
    "arm_l",
    "forearm_l",
]
SEGMENTS: tuple[str, ...] = get_args(Segment)
Landmark = Literal[
    "hip",
    "hip_r",
    "hip_l",
    "lumbar",
    "neck",
    "head",
    "knee_r",
    "ankle_r",
    "toe_r",
    "elbow_r",
    "wrist_r",
    "hand_r",
    "knee_l",
    "ankle_l",
    "toe_l",
    "elbow_l",
    "wrist_l",
    "hand_l",
    "shoulder_r",
    "shoulder_l",
]
Angle = Annotated[float, Field(ge=-360, le=360)]


class View(StrEnum):
    side = "side"  # the sagittal plane: a side view, gravity down
    front = "front"  # the frontal plane, seen from in front, gravity down (side-lying figures)
    top = "top"  # seen from above, lying face up (movements in the frontal plane on the floor)


class SupportKind(StrEnum):
    mat = "mat"
    chair = "chair"
    bed = "bed"
    wall = "wall"
    cushion = "cushion"
    step = "step"
    ball = "ball"
    roll = "roll"
    pillow = "pillow"
    strap = "strap"


class Region(StrEnum):
    """Where the stretch or the work is felt; each belongs to one content area."""

    low_back = "low_back"
    glutes = "glutes"
    hip_front = "hip_front"
    hip_side = "hip_side"
    hamstrings = "hamstrings"
    core = "core"
    pelvis = "pelvis"


REGION_AREA: dict[Region, Area] = {
    Region.low_back: Area.low_back,
    Region.glutes: Area.glutes,
    Region.hip_front: Area.hips,
    Region.hip_side: Area.hips,
    Region.hamstrings: Area.hamstrings,
    Region.core: Area.core,
    Region.pelvis: Area.pelvis,
}


class Support(_Strict):
    kind: SupportKind
    x: float = Field(default=0.0, ge=-3, le=3)  # left edge (centre for ball and roll), metres
    y: float = Field(default=0.0, ge=-1.5, le=1.5)  # what it stands on: 0 is the floor (a top view: across)
    width: float | None = Field(default=None, gt=0, le=2.5)
    # A chair's backrest or the side of a wall the person is on; "behind": a wall beside the person, seen
    # behind them in a side view (it takes no room in the picture's plane).
    side: Literal["left", "right", "behind"] = "left"
    # A strap runs between two body landmarks.
    between: tuple[Landmark, Landmark] | None = None

    @model_validator(mode="after")
    def _strap(self) -> Support:
        if (self.kind is SupportKind.strap) != (self.between is not None):
            raise ValueError("a strap, and only a strap, needs 'between'")
        return self


class Keyframe(_Strict):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=24)]
    # Each segment's direction in the picture, degrees anticlockwise from pointing right; a later keyframe
    # lists only what changes.
    angles: dict[Segment, Angle] = {}
    # Out of the picture towards the viewer, degrees (a thigh pointing at the viewer is foreshortened).
    tilt: dict[Segment, Annotated[float, Field(ge=-85, le=85)]] = {}
    # Limbs placed by where a hand or ankle goes instead of by angles: a landmark, optionally '<segment>@<0..1>'
    # (a point along a segment), or [dx, dy] metres from the hip centre.
    reach: dict[
        Literal["hand_r", "hand_l", "ankle_r", "ankle_l"],
        Annotated[str, StringConstraints(pattern=r"^[a-z_]+(@(0(\.\d+)?|1(\.0+)?))?$")] | tuple[float, float],
    ] = {}
    # Supports touched in this keyframe besides the pose's `rests_on`.
    also_rests_on: list[str] = []
    # The hip centre; y may be left out to lower the body until it rests on what is under it.
    x: float | None = Field(default=None, ge=-3, le=3)
    y: float | None = Field(default=None, ge=-3, le=3)


class Pose(_Strict):
    """How a technique's figure is drawn: a view, the supports, keyframes of one body, what to highlight."""

    technique: Id
    view: View = View.side
    # Side view only: which way the person faces (the near side is the one they face away from the viewer with).
    facing: Literal["left", "right"] = "right"
    # The limb that works or stretches in the figure; the text's "one leg" is drawn as this side.
    working_side: Literal["left", "right"] | None = None
    supports: list[Support] = []
    highlight: list[Region] = Field(min_length=1, max_length=3)
    # Which supports the body must touch in every keyframe.
    rests_on: list[Literal["floor", "mat", "chair", "bed", "cushion", "step", "ball", "roll", "pillow", "wall"]] = (
        Field(min_length=1)
    )
    keyframes: list[Keyframe] = Field(min_length=2, max_length=3)
    # The landmark whose path the motion arrow follows.
    arrow: Landmark
    animate: bool = False

    @model_validator(mode="after")
    def _complete(self) -> Pose:
        first = self.keyframes[0]
        solved = {
            f"{part}_{limb[-1]}"
            for limb in first.reach
            for part in (("thigh", "shin") if limb.startswith("ankle") else ("arm", "forearm"))
        }
        missing = [s for s in SEGMENTS if s not in first.angles and s not in solved]
        if missing:
            raise ValueError(f"the first keyframe needs every segment's angle; missing {', '.join(missing)}")
        if self.keyframes[0].x is None:
            raise ValueError("the first keyframe needs x")
        if self.view is View.top and self.keyframes[0].y is None:
            raise ValueError("a top view needs y in the first keyframe")
        kinds = {s.kind.value for s in self.supports} | {"floor"}
        unknown = [r for r in [*self.rests_on, *(n for k in self.keyframes for n in k.also_rests_on)] if r not in kinds]
        if unknown:
            raise ValueError(f"rests_on names supports not in the figure: {', '.join(unknown)}")
        return self
