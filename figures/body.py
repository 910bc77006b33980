"""One 2-D body model with fixed limb lengths, posed from a technique's keyframes; pure geometry, no drawing.

Angles are each segment's direction in the picture (degrees anticlockwise from pointing right) and, optionally,
a tilt out of the picture towards the viewer, so limbs keep their length in 3-D. A side view is drawn facing
right and mirrored when the pose faces left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from content.schema import SEGMENTS, Pose, Region, Support, SupportKind, View

Vec = tuple[float, float, float]

# Metres, for an adult of about 1.70 m.
LENGTH = {
    "pelvis": 0.14,  # hip joints to the lumbar spine
    "trunk": 0.40,  # lumbar spine to the base of the neck
    "head": 0.15,  # base of the neck to the centre of the head
    "thigh": 0.44,
    "shin": 0.43,
    "foot": 0.17,  # ankle to toes
    "arm": 0.29,
    "forearm": 0.26,  # elbow to wrist
}
HEAD_RADIUS = 0.105
HAND_REACH = 0.06  # wrist to the middle of the hand
HAND_RADIUS = 0.038
HEEL_RADIUS = 0.042
SHOULDER_DROP = 0.05  # shoulders sit this far below the base of the neck
# Half the distance between the hip joints and between the shoulders.
HIP_HALF = 0.085
SHOULDER_HALF = 0.17
# (radius at the start, radius at the end) of each segment's filled shape, seen from the side and from in front.
RADII_SIDE = {
    "pelvis": (0.105, 0.095),
    "trunk": (0.095, 0.115),
    "head": (0.045, 0.045),
    "thigh": (0.08, 0.054),
    "shin": (0.05, 0.034),
    "foot": (0.036, 0.02),
    "arm": (0.046, 0.037),
    "forearm": (0.035, 0.027),
}
RADII_FRONT = {**RADII_SIDE, "pelvis": (0.165, 0.14), "trunk": (0.14, 0.175), "thigh": (0.075, 0.05)}

MAT_TOP = 0.012
CHAIR_SEAT = (0.42, 0.46)  # underside and top of the seat
CHAIR_DEPTH = 0.44
CHAIR_BACK = 0.92
BED_TOP = 0.55
STEP_TOP = 0.2
CUSHION_HEIGHT = 0.09
PILLOW_HEIGHT = 0.055
BALL_RADIUS = 0.033
ROLL_RADIUS = 0.04
WALL_HEIGHT = 2.2
# Soft supports give a little under the body.
SOFT = {SupportKind.cushion, SupportKind.pillow, SupportKind.ball, SupportKind.roll, SupportKind.mat}

# Human range of motion, degrees (conservative adult values).
RANGE = {
    "hip_flexion": (-25.0, 140.0),
    "hip_abduction": (-30.0, 50.0),
    "knee_flexion": (0.0, 155.0),
    "ankle_dorsiflexion": (-55.0, 30.0),
    "lumbar_flexion": (-30.0, 60.0),
    "lumbar_side_bend": (-30.0, 30.0),
    "neck_flexion": (-45.0, 60.0),
    "shoulder_flexion": (-60.0, 185.0),
    "elbow_flexion": (0.0, 150.0),
}


def _dir(angle: float, tilt: float = 0.0) -> Vec:
    a, t = math.radians(angle), math.radians(tilt)
    return (math.cos(t) * math.cos(a), math.cos(t) * math.sin(a), math.sin(t))


def _add(p: Vec, v: Vec, k: float = 1.0) -> Vec:
    return (p[0] + k * v[0], p[1] + k * v[1], p[2] + k * v[2])


def _sub(p: Vec, q: Vec) -> Vec:
    return (p[0] - q[0], p[1] - q[1], p[2] - q[2])


def _dot(p: Vec, q: Vec) -> float:
    return p[0] * q[0] + p[1] * q[1] + p[2] * q[2]


def _cross(p: Vec, q: Vec) -> Vec:
    return (p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0])


def _norm(p: Vec) -> float:
    return math.sqrt(_dot(p, p))


def _rot90(v: Vec, sign: int) -> Vec:
    """The in-picture direction a quarter turn anticlockwise (sign +1) or clockwise (-1) from v."""
    x, y = v[0], v[1]
    n = math.hypot(x, y) or 1.0
    return (-sign * y / n, sign * x / n, 0.0)


@dataclass(frozen=True)
class Part:
    """One filled segment: a tapered capsule from `start` to `end`."""

    name: str  # a segment name, e.g. "thigh_r"
    start: Vec
    end: Vec
    r0: float
    r1: float

    @property
    def side(self) -> str | None:
        return self.name[-1] if self.name[-2:] in ("_r", "_l") else None

    def samples(self, n: int = 7) -> list[tuple[Vec, float]]:
        return [
            (_add(self.start, _sub(self.end, self.start), i / (n - 1)), self.r0 + (self.r1 - self.r0) * i / (n - 1))
            for i in range(n)
        ]


@dataclass(frozen=True)
class Frame:
    """The body in one keyframe: its joints, its filled parts, and the merged angles it was made from."""

    angles: dict[str, float]
    tilts: dict[str, float]
    joints: dict[str, Vec]
    parts: tuple[Part, ...]
    head: tuple[Vec, float]
    hands: dict[str, tuple[Vec, float]]

    def samples(self) -> list[tuple[Vec, float]]:
        """Points with radii covering the whole body, for contact and collision checks."""
        out = [s for part in self.parts for s in part.samples()]
        out.append(self.head)
        out.extend(self.hands.values())
        return out


@dataclass(frozen=True)
class Solid:
    """A support as an axis-aligned box or a disc in the picture plane."""

    kind: SupportKind
    box: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1
    disc: tuple[float, float, float] | None = None  # cx, cy, r

    def gap(self, p: Vec, r: float) -> float:
        """Distance from a disc of radius r at p to this solid (negative: overlapping by that much)."""
        if self.disc is not None:
            cx, cy, cr = self.disc
            return math.hypot(p[0] - cx, p[1] - cy) - cr - r
        assert self.box is not None
        x0, x1, y0, y1 = self.box
        dx = max(x0 - p[0], 0.0, p[0] - x1)
        dy = max(y0 - p[1], 0.0, p[1] - y1)
        if dx == 0 and dy == 0:
            return -min(p[0] - x0, x1 - p[0], p[1] - y0, y1 - p[1]) - r
        return math.hypot(dx, dy) - r

    def top(self, x: float) -> float | None:
        """The height of the surface at x, if the solid covers x."""
        if self.disc is not None:
            cx, cy, cr = self.disc
            return cy + math.sqrt(cr * cr - (x - cx) ** 2) if abs(x - cx) < cr else None
        assert self.box is not None
        x0, x1, _, y1 = self.box
        return y1 if x0 <= x <= x1 else None


def solids(support: Support) -> list[Solid]:
    """The solid shapes of one support (a strap has none; a chair is its seat and its backrest)."""
    k, x, y = support.kind, support.x, support.y
    match k:
        case SupportKind.mat:
            return [Solid(k, box=(x, x + (support.width or 1.9), y, y + MAT_TOP))]
        case SupportKind.chair:
            back = x if support.side == "left" else x + CHAIR_DEPTH - 0.04
            return [
                Solid(k, box=(x, x + CHAIR_DEPTH, y + CHAIR_SEAT[0], y + CHAIR_SEAT[1])),
                Solid(k, box=(back, back + 0.04, y + CHAIR_SEAT[1], y + CHAIR_BACK)),
            ]
        case SupportKind.bed:
            return [Solid(k, box=(x, x + (support.width or 2.0), y, y + BED_TOP))]
        case SupportKind.step:
            return [Solid(k, box=(x, x + (support.width or 0.35), y, y + STEP_TOP))]
        case SupportKind.cushion:
            return [Solid(k, box=(x, x + (support.width or 0.32), y, y + CUSHION_HEIGHT))]
        case SupportKind.pillow:
            return [Solid(k, box=(x, x + (support.width or 0.35), y, y + PILLOW_HEIGHT))]
        case SupportKind.ball:
            return [Solid(k, disc=(x, y + BALL_RADIUS, BALL_RADIUS))]
        case SupportKind.roll:
            return [Solid(k, disc=(x, y + ROLL_RADIUS, ROLL_RADIUS))]
        case SupportKind.wall if support.side == "behind":
            return []
        case SupportKind.wall:
            x0 = x - 0.15 if support.side == "left" else x
            return [Solid(k, box=(x0, x0 + 0.15, y, y + WALL_HEIGHT))]
        case SupportKind.strap:
            return []


WIDTH = {
    SupportKind.mat: 1.9,
    SupportKind.chair: CHAIR_DEPTH,
    SupportKind.bed: 2.0,
    SupportKind.step: 0.35,
    SupportKind.cushion: 0.32,
    SupportKind.pillow: 0.35,
}


def mirrored(pose: Pose) -> bool:
    """A side view facing left is drawn as the facing-right one turned round: the scene mirrored."""
    return pose.view is View.side and pose.facing == "left"


def scene_supports(pose: Pose) -> list[Support]:
    """The supports where they are in the picture (pose data places them for a figure facing right)."""
    if not mirrored(pose):
        return list(pose.supports)
    out = []
    for s in pose.supports:
        width = s.width or WIDTH.get(s.kind, 0.0)
        point = s.kind in (SupportKind.ball, SupportKind.roll) or (s.kind is SupportKind.wall and s.side != "behind")
        x = -s.x if point else -s.x - width
        side = {"left": "right", "right": "left"}.get(s.side, s.side)
        out.append(s.model_copy(update={"x": x, "side": side}))
    return out


def pose_solids(pose: Pose) -> list[Solid]:
    return [s for support in scene_supports(pose) for s in solids(support)] if pose.view is not View.top else []


LIMB = {"ankle": ("thigh", "shin"), "hand": ("arm", "forearm")}


def merged(pose: Pose, index: int) -> tuple[dict[str, float], dict[str, float], float, float | None]:
    """Keyframe `index` with what it does not list carried over from the keyframes before it, limbs solved."""
    angles: dict[str, float] = {}
    tilts: dict[str, float] = dict.fromkeys(SEGMENTS, 0.0)
    reach: dict[str, object] = {}
    x = 0.0
    y: float | None = None
    for i, key in enumerate(pose.keyframes[: index + 1]):
        angles.update(key.angles.items())
        tilts.update(key.tilt.items())
        for limb in list(reach):
            # Angles given later take a limb back from its reach.
            if any(f"{part}_{limb[-1]}" in key.angles for part in LIMB[limb.split("_")[0]]):
                del reach[limb]
        reach.update(key.reach.items())
        x = key.x if key.x is not None else x
        # A top view has no gravity: its hip centre is placed, and stays put unless moved.
        y = key.y if key.y is not None else (y if pose.view is View.top and i else None)
    for limb in sorted(reach, key=lambda name: not name.startswith("ankle")):
        _solve(pose, angles, tilts, limb, reach[limb])
    return angles, tilts, x, y


def _solve(pose: Pose, angles: dict[str, float], tilts: dict[str, float], limb: str, target: object) -> None:
    """Two-link inverse kinematics in the picture plane, bending the joint the way it can bend."""
    kind, side = limb.split("_")
    first, second = (f"{p}_{side}" for p in LIMB[kind])
    full = {**dict.fromkeys(SEGMENTS, 0.0), **angles}
    joints = _canonical_joints(pose, full, tilts)
    base = joints[f"hip_{side}"] if kind == "ankle" else joints[f"shoulder_{side}"]
    if isinstance(target, str):
        name, _, frac = target.partition("@")
        if frac:
            part = next(p for p in _canonical_parts(pose, full, tilts) if p.name == name)
            goal = _add(part.start, _sub(part.end, part.start), float(frac))
        else:
            goal = joints[name]
    else:
        tx, ty = cast("tuple[float, float]", target)
        goal = (tx, ty, 0.0)
    l1 = LENGTH[LIMB[kind][0]]
    l2 = LENGTH[LIMB[kind][1]] + (HAND_REACH if kind == "hand" else 0.0)
    dx, dy = goal[0] - base[0], goal[1] - base[1]
    d = min(max(math.hypot(dx, dy), abs(l1 - l2) + 1e-6), l1 + l2 - 1e-6)
    theta = math.atan2(dy, dx)
    alpha = math.acos((l1 * l1 + d * d - l2 * l2) / (2 * l1 * d))
    options = []
    for sign in (1, -1):
        a1 = theta + sign * alpha
        jx, jy = base[0] + l1 * math.cos(a1), base[1] + l1 * math.sin(a1)
        a2 = math.atan2(base[1] + d * math.sin(theta) - jy, base[0] + d * math.cos(theta) - jx)
        trial = {**full, first: math.degrees(a1), second: math.degrees(a2)}
        tilts_0 = {**tilts, first: 0.0, second: 0.0}
        ja = joint_angles(pose, trial, tilts_0)
        key = f"knee_flexion_{side}" if kind == "ankle" else f"elbow_flexion_{side}"
        options.append((ja[key] < 0, math.degrees(a1), math.degrees(a2)))
    _, a1, a2 = min(options, key=lambda o: o[0])
    angles[first], angles[second] = a1, a2
    tilts[first] = tilts[second] = 0.0


def _canonical(pose: Pose, angles: dict[str, float], tilts: dict[str, float]) -> Frame:
    """The body facing right with the hip centre at the origin."""
    radii = RADII_SIDE if pose.view is View.side else RADII_FRONT
    d = {s: _dir(angles[s], tilts.get(s, 0.0)) for s in SEGMENTS}
    hip: Vec = (0.0, 0.0, 0.0)
    lumbar = _add(hip, d["pelvis"], LENGTH["pelvis"])
    neck = _add(lumbar, d["trunk"], LENGTH["trunk"])
    head = _add(neck, d["head"], LENGTH["head"])
    if pose.view is View.side:
        lat_hip: Vec = (0.0, 0.0, 1.0)
        lat_shoulder: Vec = (0.0, 0.0, 1.0)
    else:
        lat_hip, lat_shoulder = _rot90(d["pelvis"], +1), _rot90(d["trunk"], +1)
    shoulder_base = _add(neck, d["trunk"], -SHOULDER_DROP)
    joints: dict[str, Vec] = {"hip": hip, "lumbar": lumbar, "neck": neck, "head": head}
    parts = [
        Part("pelvis", hip, lumbar, *radii["pelvis"]),
        Part("trunk", lumbar, neck, *radii["trunk"]),
        Part("head", neck, head, *radii["head"]),
    ]
    hands: dict[str, tuple[Vec, float]] = {}
    for side, sign in (("r", 1.0), ("l", -1.0)):
        hj = _add(hip, lat_hip, sign * HIP_HALF)
        knee = _add(hj, d[f"thigh_{side}"], LENGTH["thigh"])
        ankle = _add(knee, d[f"shin_{side}"], LENGTH["shin"])
        toe = _add(ankle, d[f"foot_{side}"], LENGTH["foot"])
        shoulder = _add(shoulder_base, lat_shoulder, sign * SHOULDER_HALF)
        elbow = _add(shoulder, d[f"arm_{side}"], LENGTH["arm"])
        wrist = _add(elbow, d[f"forearm_{side}"], LENGTH["forearm"])
        hand = _add(wrist, d[f"forearm_{side}"], HAND_REACH)
        joints |= {
            f"hip_{side}": hj,
            f"knee_{side}": knee,
            f"ankle_{side}": ankle,
            f"toe_{side}": toe,
            f"shoulder_{side}": shoulder,
            f"elbow_{side}": elbow,
            f"wrist_{side}": wrist,
            f"hand_{side}": hand,
        }
        parts += [
            Part(f"thigh_{side}", hj, knee, *radii["thigh"]),
            Part(f"shin_{side}", knee, ankle, *radii["shin"]),
            Part(f"foot_{side}", ankle, toe, *radii["foot"]),
            Part(f"arm_{side}", shoulder, elbow, *radii["arm"]),
            Part(f"forearm_{side}", elbow, wrist, *radii["forearm"]),
        ]
        hands[side] = (hand, HAND_RADIUS)
    return Frame(angles=angles, tilts=tilts, joints=joints, parts=tuple(parts), head=(head, HEAD_RADIUS), hands=hands)


def _canonical_joints(pose: Pose, angles: dict[str, float], tilts: dict[str, float]) -> dict[str, Vec]:
    return _canonical(pose, angles, tilts).joints


def _canonical_parts(pose: Pose, angles: dict[str, float], tilts: dict[str, float]) -> tuple[Part, ...]:
    return _canonical(pose, angles, tilts).parts


def build(pose: Pose, angles: dict[str, float], tilts: dict[str, float], x: float, y: float | None) -> Frame:
    """Place the body: joints by forward kinematics from the hip centre, then lowered onto its support."""
    frame = _canonical(pose, angles, tilts)
    mirror = mirrored(pose)
    frame = _moved(frame, -x if mirror else x, y if y is not None else 0.0, mirror)
    if y is None and pose.view is not View.top:
        frame = _moved(frame, 0.0, -_clearance(frame, pose_solids(pose)), False)
    return frame


def _moved(frame: Frame, dx: float, dy: float, mirror: bool) -> Frame:
    def f(p: Vec) -> Vec:
        # Mirroring a side view is a half turn about the vertical: the other side comes nearer.
        return (-p[0] + dx, p[1] + dy, -p[2]) if mirror else (p[0] + dx, p[1] + dy, p[2])

    return Frame(
        angles=frame.angles,
        tilts=frame.tilts,
        joints={k: f(v) for k, v in frame.joints.items()},
        parts=tuple(Part(p.name, f(p.start), f(p.end), p.r0, p.r1) for p in frame.parts),
        head=(f(frame.head[0]), frame.head[1]),
        hands={k: (f(v[0]), v[1]) for k, v in frame.hands.items()},
    )


def surface_at(x: float, solid_list: list[Solid]) -> float:
    tops = [t for s in solid_list if (t := s.top(x)) is not None]
    return max([0.0, *tops])


def _clearance(frame: Frame, solid_list: list[Solid]) -> float:
    """How far the body can drop before it first touches the floor or a support under it."""
    best = math.inf
    for p, r in frame.samples():
        for k in (-0.9, -0.5, 0.0, 0.5, 0.9):
            dx = k * r
            bottom = p[1] - math.sqrt(r * r - dx * dx)
            best = min(best, bottom - surface_at(p[0] + dx, solid_list))
    return best


def frame_at(pose: Pose, index: int) -> Frame:
    angles, tilts, x, y = merged(pose, index)
    return build(pose, angles, tilts, x, y)


def frames(pose: Pose) -> list[Frame]:
    return [frame_at(pose, i) for i in range(len(pose.keyframes))]


def between(pose: Pose, a: int, b: int, t: float) -> Frame:
    """A frame part of the way (t in 0..1) from keyframe a to keyframe b, for animations."""
    ang_a, tilt_a, x_a, y_a = merged(pose, a)
    ang_b, tilt_b, x_b, y_b = merged(pose, b)
    # Eased, so the movement starts and ends slowly.
    s = 0.5 - 0.5 * math.cos(math.pi * t)
    angles = {k: ang_a[k] + s * (((ang_b[k] - ang_a[k] + 180) % 360) - 180) for k in ang_a}
    tilts = {k: tilt_a[k] + s * (tilt_b[k] - tilt_a[k]) for k in tilt_a}
    y = None if y_a is None or y_b is None else y_a + s * (y_b - y_a)
    return build(pose, angles, tilts, x_a + s * (x_b - x_a), y)


# --- Checks used by the tests and by `limber figures` ---


def segment_lengths(frame: Frame) -> dict[str, float]:
    return {p.name: _norm(_sub(p.end, p.start)) for p in frame.parts}


def _angle(u: Vec, v: Vec) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, _dot(u, v) / (_norm(u) * _norm(v))))))


def _frame_axes(direction: Vec, view: View) -> tuple[Vec, Vec, Vec]:
    """(up, anterior, right) of a body segment pointing `direction`, in the canonical (facing right) picture."""
    up = direction
    if view is View.side:
        anterior = _rot90(up, -1)
        right = _cross(anterior, up)
    else:
        right = _rot90(up, +1)
        anterior = _cross(up, right)
    return up, anterior, right


def joint_angles(pose: Pose, angles: dict[str, float], tilts: dict[str, float]) -> dict[str, float]:
    """Anatomical joint angles (degrees) of a keyframe, keyed like 'knee_flexion_r'."""
    d = {s: _dir(angles[s], tilts.get(s, 0.0)) for s in SEGMENTS}
    up_p, ant_p, right_p = _frame_axes(d["pelvis"], pose.view)
    up_t, ant_t, right_t = _frame_axes(d["trunk"], pose.view)
    down_p = (-up_p[0], -up_p[1], -up_p[2])
    down_t = (-up_t[0], -up_t[1], -up_t[2])
    out = {
        "lumbar_flexion": math.degrees(math.atan2(_dot(d["trunk"], ant_p), _dot(d["trunk"], up_p))),
        "lumbar_side_bend": math.degrees(math.asin(max(-1.0, min(1.0, _dot(d["trunk"], right_p))))),
        "neck_flexion": math.degrees(math.atan2(_dot(d["head"], ant_t), _dot(d["head"], up_t))),
    }
    for side, sign in (("r", 1.0), ("l", -1.0)):
        thigh, shin, foot = d[f"thigh_{side}"], d[f"shin_{side}"], d[f"foot_{side}"]
        arm, forearm = d[f"arm_{side}"], d[f"forearm_{side}"]
        out[f"hip_flexion_{side}"] = math.degrees(math.atan2(_dot(thigh, ant_p), _dot(thigh, down_p)))
        lateral = _dot(thigh, right_p) * sign
        out[f"hip_abduction_{side}"] = math.degrees(math.asin(max(-1.0, min(1.0, lateral))))
        knee = _angle(thigh, shin)
        # The knee bends backwards only: a bend the other way is hyperextension.
        bend = _cross(thigh, shin)
        out[f"knee_flexion_{side}"] = -knee if _dot(bend, right_p) > 0.7 * _norm(bend) + 1e-9 else knee
        out[f"ankle_dorsiflexion_{side}"] = _angle(shin, foot) - 90.0
        flex = math.degrees(math.atan2(_dot(arm, ant_t), _dot(arm, down_t)))
        out[f"shoulder_flexion_{side}"] = flex if flex >= -90 else flex + 360
        elbow = _angle(arm, forearm)
        bend = _cross(arm, forearm)
        out[f"elbow_flexion_{side}"] = -elbow if _dot(bend, right_t) < -0.7 * _norm(bend) - 1e-9 else elbow
    return out


def out_of_range(pose: Pose) -> list[str]:
    """Every joint outside human range of motion, in any keyframe, as readable lines (empty: all fine)."""
    faults = []
    for i in range(len(pose.keyframes)):
        angles, tilts, _, _ = merged(pose, i)
        for name, value in joint_angles(pose, angles, tilts).items():
            base = name.removesuffix("_r").removesuffix("_l")
            lo, hi = RANGE[base]
            if not lo - 0.5 <= value <= hi + 0.5:
                faults.append(f"keyframe {i} {name} = {value:.0f}° (range {lo:.0f}..{hi:.0f})")
    return faults


TOUCH = 0.02  # within 2 cm counts as resting on it
PASS_HARD = 0.012  # how far a body may sink into something firm (flesh gives a little)
PASS_SOFT = 0.03


def contact_faults(pose: Pose, frame: Frame, label: str, extra: Sequence[str] = ()) -> list[str]:
    """What is wrong with how this frame rests: not touching a listed support, or passing through one."""
    if pose.view is View.top:
        return []
    faults = []
    samples = frame.samples()
    all_solids = pose_solids(pose)
    lowest = min(p[1] - r for p, r in samples)
    if lowest < -PASS_HARD:
        faults.append(f"{label}: {-lowest * 100:.0f} cm below the floor")
    for solid in all_solids:
        limit = PASS_SOFT if solid.kind in SOFT else PASS_HARD
        worst = min(solid.gap(p, r) for p, r in samples)
        if worst < -limit:
            faults.append(f"{label}: passes {-worst * 100:.0f} cm into the {solid.kind}")
    for name in [*pose.rests_on, *extra]:
        if name == "floor":
            gap = lowest
        else:
            gap = min(s.gap(p, r) for s in all_solids if s.kind == name for p, r in samples)
        if gap > TOUCH:
            faults.append(f"{label}: does not rest on the {name} ({gap * 100:.0f} cm away)")
    return faults


def region_anchor(region: Region, frame: Frame, working: str) -> tuple[Vec, Vec, float]:
    """(centre, direction along it, half-length) of where a region is drawn on the body."""
    j = frame.joints
    w = working
    trunk_dir = _unit(_sub(j["neck"], j["lumbar"]))
    pelvis_dir = _unit(_sub(j["lumbar"], j["hip"]))
    thigh_dir = _unit(_sub(j[f"knee_{w}"], j[f"hip_{w}"]))
    match region:
        case Region.low_back:
            return _add(j["lumbar"], trunk_dir, 0.07), trunk_dir, 0.08
        case Region.core:
            return _add(j["lumbar"], trunk_dir, 0.13), trunk_dir, 0.1
        case Region.pelvis:
            return _mid(j["hip"], j["lumbar"]), pelvis_dir, 0.06
        case Region.glutes:
            return _mid(j[f"hip_{w}"], j["hip"]), pelvis_dir, 0.065
        case Region.hip_front | Region.hip_side:
            return _add(j[f"hip_{w}"], thigh_dir, 0.06), thigh_dir, 0.08
        case Region.hamstrings:
            return _add(j[f"hip_{w}"], thigh_dir, LENGTH["thigh"] * 0.55), thigh_dir, 0.16


def _unit(v: Vec) -> Vec:
    n = _norm(v) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def _mid(p: Vec, q: Vec) -> Vec:
    return ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2)


def region_surface(region: Region) -> int:
    """Which face of the body a region is on, as a sign: +1 front (anterior), -1 back, 0 the whole part."""
    if region in (Region.core, Region.hip_front):
        return 1
    if region in (Region.low_back, Region.glutes, Region.hamstrings):
        return -1
    return 0


def moved_segments(pose: Pose) -> set[str]:
    """Segments whose angle changes between any two keyframes."""
    first, *rest = (merged(pose, i) for i in range(len(pose.keyframes)))
    out = set()
    for angles, tilts, _, _ in rest:
        for s in SEGMENTS:
            if abs(angles[s] - first[0][s]) > 1 or abs(tilts[s] - first[1][s]) > 1:
                out.add(s)
    return out


def near_side(pose: Pose) -> str | None:
    """The side nearer the viewer in a side view: facing right you see the person's right side."""
    if pose.view is not View.side:
        return None
    return "r" if pose.facing == "right" else "l"


def upper_side(frame: Frame) -> str:
    """In a front or top view, the side whose hip is higher in the picture."""
    return "r" if frame.joints["hip_r"][1] > frame.joints["hip_l"][1] else "l"
