"""Content in other languages: complete, faithful to the English, and a new language is data only."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
import yaml

from bot.coaching.areas import resolve_area
from bot.coaching.zones import resolve_zone
from content import CONTENT_DIR, ContentError, load_library


def test_every_language_translates_all_content_faithfully() -> None:
    library = load_library()
    assert {"es", "ru"} <= set(library.translations)
    for translation in library.translations.values():
        assert translation.check_against(library.techniques, library.routines) == []


@pytest.mark.parametrize(
    ("typed", "routine"),
    [
        ("caderas", "hips"),
        ("Cadera", "hips"),
        ("isquiotibiales", "hamstrings"),
        ("поясница", "low-back"),
        ("поясницу", "low-back"),
        ("ягодицы", "glutes"),
    ],
)
def test_routines_answer_to_their_local_names(typed: str, routine: str) -> None:
    match = resolve_area(typed, load_library())
    assert match is not None and match.routine_id == routine and match.exact


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Ciudad de México", "America/Mexico_City"),
        ("cdmx", "America/Mexico_City"),
        ("Москва", "Europe/Moscow"),
        ("Санкт-Петербург", "Europe/Moscow"),
    ],
)
def test_cities_answer_to_their_local_names(typed: str, zone: str) -> None:
    match = resolve_zone(typed)
    assert match is not None and match.key == zone and match.exact


def _copy_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return root


def test_a_third_language_is_data_only(tmp_path: Path) -> None:
    root = _copy_content(tmp_path)
    shutil.copytree(root / "translations" / "es", root / "translations" / "xx")
    routines = yaml.safe_load((root / "translations" / "xx" / "routines.yaml").read_text(encoding="utf-8"))
    for text in routines.values():
        text["aliases"] = [f"xx {a}"[:30] for a in text["aliases"]]
    (root / "translations" / "xx" / "routines.yaml").write_text(
        yaml.safe_dump(routines, allow_unicode=True), encoding="utf-8"
    )
    library = load_library(root)
    assert "xx" in library.translations


@pytest.mark.parametrize(
    ("mend", "fault"),
    [
        (lambda t: t["clamshell"]["steps"].pop(), "'clamshell.steps' has 5, the English 6"),
        (lambda t: t.pop("clamshell"), "'clamshell' is missing"),
        (lambda t: t["clamshell"].__setitem__("why", "  "), "why"),
        (
            lambda t: t["clamshell"]["steps"].__setitem__(0, t["clamshell"]["steps"][0] + " {name}"),
            "placeholders differ",
        ),
    ],
)
def test_a_translation_that_falls_short_is_refused(tmp_path: Path, mend: object, fault: str) -> None:
    root = _copy_content(tmp_path)
    path = root / "translations" / "es" / "techniques.yaml"
    techniques = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert callable(mend)
    mend(techniques)
    path.write_text(yaml.safe_dump(techniques, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match=fault):
        load_library(root)


def test_a_third_language_speaks_and_reads_from_its_files_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog and a lexicon under a new code ("xx", copied from Spanish) are found, spoken and read with no
    code naming the language: the lists of languages come from the files."""
    from bot import i18n
    from bot.coaching import redflags
    from content import lexicon

    locales, lexicons = tmp_path / "locales", tmp_path / "lexicons"
    shutil.copytree(i18n.LOCALE_DIR, locales)
    shutil.copytree(locales / "es", locales / "xx")
    shutil.copytree(lexicon.LEXICON_DIR, lexicons)
    shutil.copy(lexicons / "es.yaml", lexicons / "xx.yaml")
    catalogs = i18n._catalogs
    monkeypatch.setattr(i18n, "_catalogs", lambda: catalogs(locales))
    monkeypatch.setattr(lexicon, "LEXICON_DIR", lexicons)
    monkeypatch.setattr(redflags, "load_lexicon", lambda language: lexicon.load_lexicon(language, lexicons))
    monkeypatch.setattr(
        redflags, "_reader", functools.cache(lambda language: redflags._Reader(redflags.load_lexicon(language)))
    )

    assert "xx" in i18n.languages()
    assert i18n.choose("xx-YY") == "xx"
    with i18n.speaking("xx"):
        assert i18n._("Skip rating") == "Omitir valoración"
        assert i18n.reading() == "xx"
    finding = redflags.read_warning_signs("desde ayer no puedo orinar y me duele mucho la espalda", "xx")
    assert finding and finding.tier is not None and finding.tier.value == "emergency"
