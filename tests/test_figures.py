"""The figures: drawn from pose data with one body model, and plausible as a human body on its support."""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from content import CONTENT_DIR, ContentError, Library, load_library
from content.schema import REGION_AREA, SEGMENTS, Pose, Region, SupportKind, View
from figures import body, render
from figures.body import Frame
from figures.files import FigureStore, render_all

LIB = load_library()
IDS = sorted(LIB.techniques)


def _frames_and_tweens(pose: Pose) -> list[Frame]:
    return body.frames(pose) + render.animation_frames(pose)


def _lengths(frame: Frame) -> dict[str, float]:
    return body.segment_lengths(frame)


@pytest.mark.parametrize("tid", IDS)
def test_limb_lengths_are_the_body_models_in_every_keyframe_and_animation_frame(tid: str) -> None:
    pose = LIB.poses[tid]
    for frame in _frames_and_tweens(pose):
        for name, length in _lengths(frame).items():
            expected = body.LENGTH[name.split("_")[0]]
            assert length == pytest.approx(expected, abs=1e-9), (tid, name)


@pytest.mark.parametrize("tid", IDS)
def test_every_joint_stays_within_human_range_of_motion(tid: str) -> None:
    assert body.out_of_range(LIB.poses[tid]) == []


@pytest.mark.parametrize("tid", IDS)
def test_the_body_rests_on_its_support_and_passes_through_nothing(tid: str) -> None:
    pose = LIB.poses[tid]
    for i, frame in enumerate(body.frames(pose)):
        assert body.contact_faults(pose, frame, f"keyframe {i}", pose.keyframes[i].also_rests_on) == []
    # An animation's frames in between, too: never into the floor, the bed or the chair.
    for i, frame in enumerate(render.animation_frames(pose) if pose.animate else []):
        faults = [f for f in body.contact_faults(pose, frame, f"frame {i}") if "does not rest" not in f]
        assert faults == []


def test_contact_checks_can_fail() -> None:
    pose = LIB.poses["seated-pelvic-rock"]
    sunk = pose.keyframes[0].model_copy(update={"y": 0.45})
    floating = pose.keyframes[0].model_copy(update={"y": 0.75})
    for key, words in ((sunk, "passes"), (floating, "does not rest")):
        bad = pose.model_copy(update={"keyframes": [key, *pose.keyframes[1:]]})
        assert any(words in f for f in body.contact_faults(bad, body.frame_at(bad, 0), "k"))
    knee = LIB.poses["knee-to-chest"]
    bent = knee.keyframes[1].model_copy(update={"angles": {**knee.keyframes[1].angles, "shin_l": 150}})
    bad = knee.model_copy(update={"keyframes": [knee.keyframes[0], bent]})
    assert any("knee_flexion_l" in f for f in body.out_of_range(bad))


@pytest.mark.parametrize("tid", IDS)
def test_the_highlighted_region_is_the_techniques_area_and_sits_on_the_body(tid: str) -> None:
    pose, technique = LIB.poses[tid], LIB.techniques[tid]
    areas = {REGION_AREA[r] for r in pose.highlight}
    assert areas <= set(technique.areas)
    assert technique.areas[0] in areas, "the main area is highlighted"
    frame = body.frames(pose)[-1]
    working = (pose.working_side or "right")[0]
    for region in pose.highlight:
        centre, _, _ = body.region_anchor(region, frame, working)
        host = {Region.low_back: "trunk", Region.core: "trunk", Region.pelvis: "pelvis", Region.glutes: "pelvis"}.get(
            region, f"thigh_{working}"
        )
        part = next(p for p in frame.parts if p.name == host)
        inside = min(math.dist(centre, s) - r for s, r in part.samples(15))
        assert inside <= 0.0, (region, host)


def _y(frame: Frame, joint: str) -> float:
    return frame.joints[joint][1]


def _forward(pose: Pose, frame: Frame, joint: str) -> float:
    """How far a joint is ahead of the hip centre in the way a standing figure faces."""
    dx = frame.joints[joint][0] - frame.joints["hip"][0]
    return dx if pose.facing == "right" else -dx


# What each text says about the side that works, as a check on the drawn body: (first keyframe, last) -> ok.
SIDE_RULES: dict[str, Callable[[Pose, Frame, Frame, str, str], bool]] = {
    # "Lie on your side ... lift your top knee"
    "clamshell": lambda p, a, b, w, o: body.upper_side(a) == w and _y(b, f"knee_{w}") > _y(a, f"knee_{w}") + 0.1,
    "side-lying-leg-lift": lambda p, a, b, w, o: (
        body.upper_side(a) == w and _y(b, f"ankle_{w}") > _y(a, f"ankle_{w}") + 0.1
    ),
    "side-lying-low-back-release": lambda p, a, b, w, o: body.upper_side(a) == w,
    # "Kneel on one knee ... the front of the kneeling-side hip feels a stretch"
    "half-kneeling-hip-flexor": lambda p, a, b, w, o: (
        _y(b, f"knee_{w}") < 0.2 < _y(b, f"knee_{o}") and _forward(p, b, f"ankle_{o}") > 0.2
    ),
    # "draw that knee toward your chest ... keep the other foot resting on the floor"
    "knee-to-chest": lambda p, a, b, w, o: (
        _y(b, f"knee_{w}") > _y(a, f"knee_{w}") + 0.1 and abs(_y(b, f"ankle_{o}") - _y(a, f"ankle_{o}")) < 0.02
    ),
    # "lower the other leg over the edge", the hugged knee stays in
    "edge-of-bed-hip-flexor": lambda p, a, b, w, o: _y(b, f"knee_{w}") < body.BED_TOP < _y(b, f"knee_{o}"),
    # the strap goes round the working foot, which rises
    "strap-hamstring-stretch": lambda p, a, b, w, o: (
        p.supports[1].between == (f"hand_{w}", f"toe_{w}") and _y(b, f"ankle_{w}") > _y(b, f"knee_{w}")
    ),
    "standing-hamstring-stretch": lambda p, a, b, w, o: _y(b, f"ankle_{w}") > body.STEP_TOP > _y(b, f"ankle_{o}"),
    "bed-supported-glute-stretch": lambda p, a, b, w, o: _y(b, f"knee_{w}") > body.BED_TOP > _y(b, f"knee_{o}"),
    # "Step the leg farther from the wall back": the back leg is the working one
    "standing-psoas-stretch": lambda p, a, b, w, o: _forward(p, b, f"ankle_{w}") < 0 < _forward(p, b, f"ankle_{o}"),
    # "resting one knee over the other": the top knee is drawn toward the opposite shoulder
    "seated-glute-stretch": lambda p, a, b, w, o: _y(b, f"knee_{w}") > _y(b, f"knee_{o}") + 0.05,
    # "Cross one ankle over the opposite knee": that ankle rests by the other knee
    "figure-four-glute-stretch": lambda p, a, b, w, o: (
        math.dist(a.joints[f"ankle_{w}"][:2], a.joints[f"knee_{o}"][:2]) < 0.12
    ),
    # "bring that knee up over your hip ... Slowly straighten the knee": the held foot rises, the other stays down
    "bent-knee-hamstring-stretch": lambda p, a, b, w, o: (
        _y(b, f"ankle_{w}") > _y(b, f"knee_{w}") and abs(_y(b, f"ankle_{o}") - _y(a, f"ankle_{o}")) < 0.02
    ),
    # "Rest the ankle ... just above the opposite knee. Keep the other foot flat on the floor"
    "foot-down-glute-stretch": lambda p, a, b, w, o: (
        math.dist(b.joints[f"ankle_{w}"][:2], b.joints[f"knee_{o}"][:2]) < 0.12
        and abs(_y(b, f"ankle_{o}") - _y(a, f"ankle_{o}")) < 0.02
    ),
    # "rest that calf on the chair seat. Stretch the other leg out long": the long leg is the one shown working
    "chair-supported-hip-flexor": lambda p, a, b, w, o: _y(b, f"knee_{o}") > 0.4 > _y(b, f"knee_{w}"),
    "tennis-ball-glute-release": lambda p, a, b, w, o: (
        math.dist((p.supports[1].x, p.supports[1].y), a.joints[f"hip_{w}"][:2])
        < math.dist((p.supports[1].x, p.supports[1].y), a.joints[f"hip_{o}"][:2])
    ),
    # "Draw one hip up toward the ear on the same side"
    "hip-hike": lambda p, a, b, w, o: (
        math.dist(b.joints[f"hip_{w}"][:2], b.joints["head"][:2])
        < math.dist(a.joints[f"hip_{w}"][:2], a.joints["head"][:2]) - 0.015
    ),
}


@pytest.mark.parametrize("tid", IDS)
def test_left_and_right_are_as_the_text_says(tid: str) -> None:
    pose, technique = LIB.poses[tid], LIB.techniques[tid]
    one_sided = technique.sides.value == "both"
    assert (pose.working_side is not None) == one_sided
    if not one_sided or pose.working_side is None:
        return
    assert tid in SIDE_RULES, "every one-sided technique has a rule tying its text to the figure"
    w = pose.working_side[0]
    o = "l" if w == "r" else "r"
    first, last = body.frames(pose)[0], body.frames(pose)[-1]
    assert SIDE_RULES[tid](pose, first, last, w, o)
    if pose.view is View.side:
        # The working side is the one nearer the viewer, drawn over the other.
        assert body.near_side(pose) == w
    assert render.side_note(pose, technique) == f"{pose.working_side.capitalize()} side shown, then switch"


def test_the_working_side_follows_facing() -> None:
    pose = LIB.poses["knee-to-chest"]
    assert pose.facing == "left" and body.near_side(pose) == "l"
    turned = pose.model_copy(update={"facing": "right"})
    assert body.near_side(turned) == "r"
    left, right = body.frames(pose)[-1], body.frames(turned)[-1]
    # A mirror image: the same heights, the other way round, the mat under both.
    assert _y(left, "knee_l") == pytest.approx(_y(right, "knee_l"))
    assert left.joints["knee_l"][0] - left.joints["hip"][0] == pytest.approx(
        -(right.joints["knee_l"][0] - right.joints["hip"][0])
    )
    assert body.contact_faults(pose, left, "left") == body.contact_faults(turned, right, "right") == []


@pytest.mark.parametrize("tid", IDS)
def test_every_figure_has_a_motion_arrow_and_its_supports(tid: str) -> None:
    pose, technique = LIB.poses[tid], LIB.techniques[tid]
    start, end = body.frames(pose)[0], body.frames(pose)[-1]
    moved = math.dist(start.joints[pose.arrow][:2], end.joints[pose.arrow][:2])
    if tid != "pillow-supported-rest":  # a rest: nothing moves
        assert moved > 0.005, "the arrow's landmark moves in the picture"
    words = " ".join([*technique.equipment, *technique.steps]).lower()
    for support in pose.supports:
        name = {SupportKind.roll: "roll", SupportKind.ball: "ball", SupportKind.pillow: "pillow"}.get(
            support.kind, support.kind.value
        )
        assert name in words, f"the {name} drawn is in the text"


MOVING = {
    "pelvic-tilt",
    "pelvic-circles",
    "clamshell",
    "glute-bridge",
    "hip-hike",
    "tail-bone-press",
    "seated-pelvic-rock",
    "side-lying-leg-lift",
    "side-lying-low-back-release",
    "tennis-ball-glute-release",
}


def test_moving_techniques_are_animated() -> None:
    assert {tid for tid, p in LIB.poses.items() if p.animate} == MOVING


def test_rendering_is_deterministic_and_the_files_are_what_they_say(tmp_path: Path) -> None:
    pose, technique = LIB.poses["clamshell"], LIB.techniques["clamshell"]
    png = render.figure_png(pose, technique)
    assert png == render.figure_png(pose, technique)
    assert png.startswith(b"\x89PNG")
    gif = render.animation_gif(pose, technique)
    assert gif == render.animation_gif(pose, technique)
    with Image.open(io.BytesIO(gif)) as im:
        # Pillow folds the held frames at each end into one longer frame.
        assert im.format == "GIF" and getattr(im, "n_frames", 1) >= 2 * render.ANIMATION_STEPS
        assert im.info["loop"] == 0
    store = FigureStore(LIB, tmp_path)
    picture = store.for_step("clamshell")
    assert picture.animated and picture.path.read_bytes() == gif
    # Cached: a second call does not render again.
    picture.path.write_bytes(b"cached")
    assert store.for_step("clamshell").path.read_bytes() == b"cached"
    assert not store.for_step("knee-to-chest").animated


def test_limber_figures_writes_every_figure_and_a_contact_sheet(tmp_path: Path) -> None:
    small = Library(
        techniques={t: LIB.techniques[t] for t in ("clamshell", "knee-to-chest")},
        routines=LIB.routines,
        poses={t: LIB.poses[t] for t in ("clamshell", "knee-to-chest")},
    )
    written = {p.name for p in render_all(small, tmp_path)}
    assert written == {
        "clamshell.png",
        "clamshell.gif",
        "clamshell-frames.png",
        "knee-to-chest.png",
        "contact-sheet.png",
    }
    with Image.open(tmp_path / "contact-sheet.png") as sheet:
        assert sheet.width > 1000


def _copy(tmp_path: Path) -> Path:
    for part in ("techniques", "routines", "poses"):
        shutil.copytree(CONTENT_DIR / part, tmp_path / part)
    return tmp_path


def test_a_technique_without_a_pose_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "poses" / "clamshell.yaml").unlink()
    with pytest.raises(ContentError, match=r"clamshell\.yaml: no figure data"):
        load_library(root)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("- label: Heels together\n  x: 0\n", "- label: Heels together\n"), "needs x"),
        (("pelvis: 180, trunk: 180,", "trunk: 180,"), "missing pelvis"),
        (("rests_on: [mat]", "rests_on: [bed]"), "not in the figure: bed"),
        (("highlight: [glutes, hip_side]", "highlight: [glutes, elbows]"), "highlight"),
    ],
)
def test_a_broken_pose_is_named_with_its_file(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    root = _copy(tmp_path)
    path = root / "poses" / "clamshell.yaml"
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(*change))
    with pytest.raises(ContentError, match=rf"clamshell\.yaml: .*{message}"):
        load_library(root)


def test_segments_in_the_schema_are_the_body_models() -> None:
    assert {s.split("_")[0] for s in SEGMENTS} == set(body.LENGTH)
