"""Content in other languages, as data beside the English (`content/translations/<lang>/*.yaml`).

Each language has the techniques' and routines' texts keyed by id, the area names and local city names
for the time-zone question. `check_against` holds a translation to the English: every id present, the
same number of steps, cautions and equipment, the same tags and placeholders, and no empty text.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated
from zoneinfo import available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from content.schema import Area, Routine, Technique

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_MARKUP = re.compile(r"<[^>]+>|\{[^}]*\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TechniqueText(_Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=60)]
    steps: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=240)]]
    cautions: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=240)]]
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=320)]
    equipment: list[Text] = []


class RoutineText(_Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=300)]
    aliases: list[Annotated[str, StringConstraints(to_lower=True, strip_whitespace=True, min_length=2, max_length=30)]]


class Translation(_Strict):
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    techniques: dict[str, TechniqueText]
    routines: dict[str, RoutineText]
    areas: dict[Area, Text]
    cities: dict[str, str]

    def check_against(self, techniques: dict[str, Technique], routines: dict[str, Routine]) -> list[str]:
        """Every way this translation falls short of the English content, as 'where: what' lines."""
        faults: list[str] = []
        where = f"translations/{self.language}"
        for tid in techniques.keys() - self.techniques.keys():
            faults.append(f"{where}/techniques.yaml: '{tid}' is missing")
        for rid in routines.keys() - self.routines.keys():
            faults.append(f"{where}/routines.yaml: '{rid}' is missing")
        for key in set(Area) - self.areas.keys():
            faults.append(f"{where}/areas.yaml: '{key}' is missing")
        for tid, text in self.techniques.items():
            english = techniques.get(tid)
            if english is None:
                faults.append(f"{where}/techniques.yaml: '{tid}' is no technique")
                continue
            for name in ("steps", "cautions", "equipment"):
                ours, theirs = getattr(text, name), getattr(english, name)
                if len(ours) != len(theirs):
                    faults.append(f"{where}/techniques.yaml: '{tid}.{name}' has {len(ours)}, the English {len(theirs)}")
            pairs = [
                (text.title, english.title),
                (text.why, english.why),
                *zip(text.steps, english.steps, strict=False),
            ]
            pairs += list(zip(text.cautions, english.cautions, strict=False))
            for ours_text, theirs_text in pairs:
                if sorted(_MARKUP.findall(ours_text)) != sorted(_MARKUP.findall(theirs_text)):
                    faults.append(
                        f"{where}/techniques.yaml: '{tid}': tags or placeholders differ in “{ours_text[:40]}”"
                    )
        for rid in self.routines.keys() - routines.keys():
            faults.append(f"{where}/routines.yaml: '{rid}' is no routine")
        zones = available_timezones()
        for city, zone in self.cities.items():
            if zone not in zones:
                faults.append(f"{where}/cities.yaml: '{city}' names no time zone ('{zone}')")
            if city != city.lower():
                faults.append(f"{where}/cities.yaml: '{city}' must be lower case")
        return faults


class TranslationError(ValueError):
    """A translation file is missing, unreadable or breaks the schema; the message names file and field."""


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TranslationError(f"{path}: cannot read: {exc}") from exc


@cache
def translations() -> dict[str, Translation]:
    """The shipped translations, read once: what the views show a person in their language."""
    return load_translations()


def load_translations(root: Path = TRANSLATIONS_DIR) -> dict[str, Translation]:
    """Every language's translation under `root`, validated against the schema (not yet against the English)."""
    found: dict[str, Translation] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        data = {"language": folder.name}
        for part in ("techniques", "routines", "areas", "cities"):
            data[part] = _read(folder / f"{part}.yaml")  # type: ignore[assignment]
        try:
            found[folder.name] = Translation.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(file)"
            raise TranslationError(f"translations/{folder.name}: field '{field}': {first['msg']}") from exc
    return found
