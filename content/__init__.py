"""Curated stretching content: techniques and routines as YAML files, checked by `content.schema`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from content.schema import Pose, Role, Routine, Technique
from content.translations import TRANSLATIONS_DIR, Translation, TranslationError, load_translations

CONTENT_DIR = Path(__file__).resolve().parent
M = TypeVar("M", Technique, Routine, Pose)


class ContentError(ValueError):
    """A content file is missing, unreadable or breaks the schema; the message names file and field."""


@dataclass(frozen=True)
class Library:
    techniques: dict[str, Technique]
    routines: dict[str, Routine]
    # Other languages' texts, by language code (content/translations/).
    translations: dict[str, Translation] = field(default_factory=dict)
    # Figure data per technique id (content/poses/); every technique has one.
    poses: dict[str, Pose] = field(default_factory=dict)

    def with_role(self, role: Role) -> str | None:
        """The id of the routine that has this role, if any has."""
        return next((r.id for r in self.routines.values() if r.role is role), None)

    def routines_in_order(self) -> list[Routine]:
        return sorted(self.routines.values(), key=lambda r: (r.order, r.title))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path.name}: expected a mapping of fields at the top level")
    return data


def _validate(model: type[M], path: Path) -> M:
    try:
        item = model.model_validate(_read(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ContentError(f"{path.name}: field '{field}': {first['msg']}") from exc
    key, name = ("technique", item.technique) if isinstance(item, Pose) else ("id", item.id)
    if name != path.stem:
        raise ContentError(f"{path.name}: field '{key}': '{name}' must match the file name")
    return item


def load_library(root: Path = CONTENT_DIR) -> Library:
    """Load and cross-check every content file under `root`; raise ContentError on the first fault."""
    techniques = {t.id: t for t in (_validate(Technique, p) for p in sorted((root / "techniques").glob("*.yaml")))}
    for technique in techniques.values():
        for index, sid in enumerate(technique.swaps):
            swap = techniques.get(sid)
            where = f"{technique.id}.yaml: field 'swaps.{index}'"
            if swap is None:
                raise ContentError(f"{where}: unknown technique '{sid}'")
            if swap.areas[0] != technique.areas[0]:
                raise ContentError(f"{where}: '{sid}' mainly works {swap.areas[0]}, not {technique.areas[0]}")
    routines: dict[str, Routine] = {}
    aliases: dict[str, str] = {}
    for path in sorted((root / "routines").glob("*.yaml")):
        routine = _validate(Routine, path)
        for index, tid in enumerate(routine.techniques):
            if tid not in techniques:
                raise ContentError(f"{path.name}: field 'techniques.{index}': unknown technique '{tid}'")
        if not any(techniques[t].areas[0] == routine.area for t in routine.techniques):
            raise ContentError(f"{path.name}: field 'area': no technique here mainly works {routine.area}")
        for index, tid in enumerate(routine.techniques[1:], 1):
            before = techniques[routine.techniques[index - 1]]
            if tid in before.swaps or before.id in techniques[tid].swaps:
                raise ContentError(
                    f"{path.name}: field 'techniques.{index}': '{tid}' comes straight after its own swap"
                )
        for name in (routine.id, *routine.aliases):
            if name in aliases and aliases[name] != routine.id:
                raise ContentError(f"{path.name}: field 'aliases': '{name}' is already used by '{aliases[name]}'")
            aliases[name] = routine.id
        if routine.role is not None and any(r.role is routine.role for r in routines.values()):
            raise ContentError(f"{path.name}: field 'role': another routine is already the {routine.role} one")
        routines[routine.id] = routine
    if not techniques or not routines:
        raise ContentError(f"{root}: no techniques or no routines found")
    poses = {p.technique: p for p in (_validate(Pose, path) for path in sorted((root / "poses").glob("*.yaml")))}
    for tid in poses:
        if tid not in techniques:
            raise ContentError(f"poses/{tid}.yaml: field 'technique': unknown technique '{tid}'")
    for tid in techniques:
        if tid not in poses:
            raise ContentError(f"techniques/{tid}.yaml: no figure data (content/poses/{tid}.yaml)")
    try:
        translations = load_translations(root / TRANSLATIONS_DIR.name)
    except TranslationError as exc:
        raise ContentError(str(exc)) from exc
    for language, translation in translations.items():
        faults = translation.check_against(techniques, routines)
        if faults:
            raise ContentError(faults[0])
        for rid, text in translation.routines.items():
            for name in text.aliases:
                if aliases.setdefault(name, rid) != rid:
                    raise ContentError(
                        f"translations/{language}/routines.yaml: alias '{name}' of '{rid}' is already used by "
                        f"'{aliases[name]}'"
                    )
    return Library(techniques=techniques, routines=routines, translations=translations, poses=poses)
