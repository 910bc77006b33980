"""Every content file against the schema, cross-references, and each technique's seed."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

import pytest

from content import CONTENT_DIR, ContentError, Library, load_library
from content.schema import SEED_NAME, Role

ROOT = Path(__file__).resolve().parents[1]
# The seed articles sit in `shared/seeds` beside the checkout (../shared/seeds), or beside a folder holding it
# (a git worktree in ../wt/<name>); LIMBER_SEEDS names another place.
SEED_PLACES = (
    [Path(os.environ["LIMBER_SEEDS"])]
    if os.environ.get("LIMBER_SEEDS")
    else [parent / "shared" / "seeds" for parent in ROOT.parents]
)
SEEDS = next((place for place in SEED_PLACES if place.is_dir()), None)


@functools.cache
def library() -> Library:
    """The shipped library, loaded once for the tests that only read it."""
    return load_library()


REQUIRED_ROUTINES = {"hips", "low-back", "glutes", "hamstrings", "core", "relax", "quick"}


def test_library_loads_and_covers_the_required_routines() -> None:
    lib = load_library()
    assert len(lib.techniques) >= 20
    assert REQUIRED_ROUTINES <= set(lib.routines)


def test_every_technique_names_its_seed() -> None:
    lib = library()
    for technique in lib.techniques.values():
        assert SEED_NAME.match(technique.source), technique.id
    if SEEDS is None:
        looked = ", ".join(str(place) for place in SEED_PLACES)
        pytest.skip(f"seed articles not found (looked at {looked}; set LIMBER_SEEDS); checked the names only")
    present = {p.name for p in SEEDS.iterdir()}
    missing = {t.id: t.source for t in lib.techniques.values() if t.source not in present}
    assert not missing


BANNED = ("cure", "guarantee", "painkiller", "medication", "medicine", "steroid", "balm")
# Whole words: creams, gels and rubs, and common pain-medicine names (generic and brand).
BANNED_WORDS = re.compile(
    r"\b(creams?|gels?|ointments?|lotions?|rubs?|salves?|liniments?|ibuprofen|paracetamol|acetaminophen|"
    r"naproxen|aspirin|diclofenac|codeine|tramadol|co-codamol|nsaids?|voltaren|voltarol|tylenol|advil|"
    r"nurofen|aleve|motrin|panadol|deep heat|tiger balm|biofreeze|lidocaine|capsaicin|pills?|tablets?|drugs?)\b"
)


def test_health_texts_make_no_cure_or_drug_claims() -> None:
    # The lexicons name medicines and cures on purpose: to recognise a question about them.
    for path in sorted([*CONTENT_DIR.glob("techniques/*.yaml"), *CONTENT_DIR.glob("routines/*.yaml")]):
        text = path.read_text(encoding="utf-8").lower()
        assert not [w for w in BANNED if w in text], path.name
        assert not BANNED_WORDS.findall(text), path.name


@pytest.mark.parametrize(
    "text", ["Rub in a little Voltaren gel", "take ibuprofen first", "apply a cream", "Tylenol or Advil", "naproxen"]
)
def test_the_banned_words_catch_creams_gels_and_pain_medicines(text: str) -> None:
    assert BANNED_WORDS.search(text.lower())


# Deep hip flexion or extension: what a hip replacement may need cleared first.
DEEP_HIP = {
    "bed-supported-glute-stretch",
    "bent-knee-hamstring-stretch",
    "edge-of-bed-hip-flexor",
    "figure-four-glute-stretch",
    "half-kneeling-hip-flexor",
    "knee-to-chest",
    "seated-forward-lean",
    "seated-glute-stretch",
    "side-lying-low-back-release",
    "standing-hamstring-stretch",
    "standing-psoas-stretch",
    "strap-hamstring-stretch",
}


def test_every_deep_hip_stretch_carries_a_hip_replacement_caution() -> None:
    lib = library()
    assert {t.id for t in lib.techniques.values() if t.deep_hip} == DEEP_HIP
    for tid in DEEP_HIP:
        assert any("hip replacement" in c.lower() for c in lib.techniques[tid].cautions), tid


def test_a_deep_hip_stretch_without_the_caution_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "techniques" / "edge-of-bed-hip-flexor.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("  - Skip this if you have had a hip replacement, unless your clinician has cleared it.\n", "")
    )
    with pytest.raises(ContentError, match=r"edge-of-bed-hip-flexor\.yaml: .*hip replacement"):
        load_library(broken_copy)


def test_the_chair_supported_stretch_faces_the_chair() -> None:
    steps = library().techniques["chair-supported-hip-flexor"].steps
    assert "facing a sturdy chair" in steps[0]
    assert not [s for s in steps if "beside a" in s]


def test_the_tennis_ball_goes_to_the_upper_outer_buttock() -> None:
    steps = library().techniques["tennis-ball-glute-release"].steps
    assert [s for s in steps if "tennis ball under the upper, outer part of the buttock" in s]
    assert not [s for s in steps if "middle" in s]


def test_the_lean_back_hold_is_short_holds_repeated_as_in_its_seed() -> None:
    # 000: "Hold 5-10 seconds ... Do 10 sets periodically during the day."
    t = library().techniques["lean-back-hold"]
    assert t.hold_seconds == 5 and t.max_hold_seconds == 10 and t.reps is not None and t.reps >= 5
    assert [s for s in t.steps if "five to ten seconds" in s] and [s for s in t.steps if "repeat" in s]


def test_every_two_sided_technique_says_which_leg_is_meant() -> None:
    lib = library()
    for t in lib.techniques.values():
        if t.sides.value == "both":
            named = [s for s in t.steps if re.search(r"\bbeing (stretched|worked|released)\b", s)]
            assert named, t.id


def test_swaps_share_the_target_and_no_routine_puts_a_stretch_after_its_swap() -> None:
    lib = library()
    for t in lib.techniques.values():
        for sid in t.swaps:
            assert lib.techniques[sid].areas[0] == t.areas[0], (t.id, sid)
        # A swap a caution suggests is declared, so plans and routines know it.
        for other in lib.techniques.values():
            if any(f"{other.title.lower()} is a good swap" in c.lower() for c in t.cautions):
                assert other.id in t.swaps, (t.id, other.id)
    for routine in lib.routines.values():
        for a, b in zip(routine.techniques, routine.techniques[1:], strict=False):
            assert b not in lib.techniques[a].swaps and a not in lib.techniques[b].swaps, (routine.id, a, b)
    assert "standing-psoas-stretch" in lib.techniques["half-kneeling-hip-flexor"].swaps


def test_a_stretch_straight_after_its_own_swap_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "routines" / "hips.yaml"
    path.write_text(path.read_text().replace("  - clamshell\n", "  - standing-psoas-stretch\n"))
    with pytest.raises(ContentError, match=r"hips\.yaml: field 'techniques\.4': .*straight after its own swap"):
        load_library(broken_copy)


def test_a_swap_for_another_target_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "techniques" / "strap-hamstring-stretch.yaml"
    path.write_text(path.read_text().replace("  - bent-knee-hamstring-stretch\n", "  - glute-squeeze\n"))
    with pytest.raises(
        ContentError, match=r"strap-hamstring-stretch\.yaml: field 'swaps\.0': .*glutes, not hamstrings"
    ):
        load_library(broken_copy)


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT_DIR / "techniques", tmp_path / "techniques")
    shutil.copytree(CONTENT_DIR / "routines", tmp_path / "routines")
    shutil.copytree(CONTENT_DIR / "poses", tmp_path / "poses")
    return tmp_path


def test_a_broken_field_is_named_with_its_file(broken_copy: Path) -> None:
    path = broken_copy / "techniques" / "clamshell.yaml"
    path.write_text(path.read_text().replace("sides: both", "sides: sideways"))
    with pytest.raises(ContentError, match=r"clamshell\.yaml: field 'sides'"):
        load_library(broken_copy)


def test_an_unknown_technique_in_a_routine_is_named(broken_copy: Path) -> None:
    path = broken_copy / "routines" / "hips.yaml"
    path.write_text(path.read_text().replace("  - clamshell", "  - no-such-stretch"))
    with pytest.raises(ContentError, match=r"hips\.yaml: field 'techniques\.\d+': unknown technique 'no-such-stretch'"):
        load_library(broken_copy)


def test_a_missing_dose_and_a_file_name_mismatch_are_refused(broken_copy: Path) -> None:
    path = broken_copy / "techniques" / "pelvic-tilt.yaml"
    (broken_copy / "techniques" / "renamed.yaml").write_text(path.read_text())
    with pytest.raises(ContentError, match=r"renamed\.yaml: field 'id'"):
        load_library(broken_copy)


def test_unreadable_yaml_is_reported(broken_copy: Path) -> None:
    (broken_copy / "routines" / "bad.yaml").write_text("id: [unclosed")
    with pytest.raises(ContentError, match=r"bad\.yaml: cannot read"):
        load_library(broken_copy)


def test_the_flare_and_quick_routines_are_named_by_their_role() -> None:
    lib = load_library()
    assert (lib.with_role(Role.flare), lib.with_role(Role.quick)) == ("relax", "quick")


def test_two_routines_with_one_role_are_refused(broken_copy: Path) -> None:
    path = broken_copy / "routines" / "hips.yaml"
    path.write_text(path.read_text() + "role: flare\n")
    with pytest.raises(ContentError, match=r"relax\.yaml: field 'role': another routine is already the flare one"):
        load_library(broken_copy)


def test_an_unknown_role_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "routines" / "hips.yaml"
    path.write_text(path.read_text() + "role: warmup\n")
    with pytest.raises(ContentError, match=r"hips\.yaml: field 'role'"):
        load_library(broken_copy)
