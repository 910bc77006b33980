"""The translation catalogs: complete, faithful in placeholders and markup, with each language's plural forms,
and never behind the code (a text added without a catalog entry fails here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "bot" / "locales" / "limber.pot"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z]+>")
LANGUAGES = [lang for lang in i18n.languages() if lang != i18n.DEFAULT]


def _catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=language)


def test_the_template_holds_every_text_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_", "--no-location",
         "--omit-header", "--sort-output", "-o", str(fresh), "bot"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    wanted = {m.id for m in _catalog(fresh) if m.id}
    have = {m.id for m in _catalog(POT) if m.id}
    assert wanted == have, f"run the extract in TRANSLATING.md; new: {sorted(map(str, wanted - have))[:5]}"


def test_there_are_languages_besides_english() -> None:
    assert {"es", "ru"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_faithfully(language: str) -> None:
    template = {m.id for m in _catalog(POT) if m.id}
    catalog = _catalog(i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", language)
    assert template <= {m.id for m in catalog if m.id}, "run pybabel update (TRANSLATING.md)"
    plurals = catalog.num_plurals
    for message in catalog:
        if not message.id or message.id not in template:
            continue
        ids = [str(i) for i in (message.id if isinstance(message.id, tuple | list) else (message.id,))]
        strings = [str(s) for s in (message.string if isinstance(message.string, tuple | list) else (message.string,))]
        assert all(s.strip() for s in strings), f"{language}: untranslated: {ids[0][:60]!r}"
        if isinstance(message.id, tuple):
            assert len(strings) == plurals, f"{language}: {ids[0][:60]!r} needs {plurals} plural forms"
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(ids[-1])), (
                f"{language}: placeholders differ in {ids[0][:60]!r}"
            )
            assert sorted(TAG.findall(string)) == sorted(TAG.findall(ids[0])), (
                f"{language}: tags differ in {ids[0][:60]!r}"
            )


def test_russian_has_three_plural_forms() -> None:
    with i18n.speaking("ru"):
        forms = {i18n.ngettext("{n} step", "{n} steps", n) for n in (1, 2, 5)}
    assert len(forms) == 3
