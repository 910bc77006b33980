"""Every content file against the schema, cross-references, and each technique's seed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from content import CONTENT_DIR, ContentError, load_library
from content.schema import SEED_NAME

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
REQUIRED_ROUTINES = {"hips", "low-back", "glutes", "hamstrings", "core", "relax", "quick"}


def test_library_loads_and_covers_the_required_routines() -> None:
    lib = load_library()
    assert len(lib.techniques) >= 20
    assert REQUIRED_ROUTINES <= set(lib.routines)


def test_every_technique_names_its_seed() -> None:
    lib = load_library()
    for technique in lib.techniques.values():
        assert SEED_NAME.match(technique.source), technique.id
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}; checked the names only")
    present = {p.name for p in SEEDS.iterdir()}
    missing = {t.id: t.source for t in lib.techniques.values() if t.source not in present}
    assert not missing


def test_health_texts_make_no_cure_or_drug_claims() -> None:
    banned = ("cure", "guarantee", "ibuprofen", "paracetamol", "painkiller", "medication", "steroid", "balm")
    for path in sorted(CONTENT_DIR.glob("*/*.yaml")):
        text = path.read_text(encoding="utf-8").lower()
        assert not [w for w in banned if w in text], path.name


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
