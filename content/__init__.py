"""Curated stretching content: techniques and routines as YAML files, checked by `content.schema`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from content.schema import Pose, Routine, Technique

CONTENT_DIR = Path(__file__).resolve().parent
M = TypeVar("M", Technique, Routine, Pose)


class ContentError(ValueError):
    """A content file is missing, unreadable or breaks the schema; the message names file and field."""


@dataclass(frozen=True)
class Library:
    techniques: dict[str, Technique]
    routines: dict[str, Routine]
    # Figure data per technique id (content/poses/); every technique has one.
    poses: dict[str, Pose] = field(default_factory=dict)

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
    routines: dict[str, Routine] = {}
    aliases: dict[str, str] = {}
    for path in sorted((root / "routines").glob("*.yaml")):
        routine = _validate(Routine, path)
        for index, tid in enumerate(routine.techniques):
            if tid not in techniques:
                raise ContentError(f"{path.name}: field 'techniques.{index}': unknown technique '{tid}'")
        for name in (routine.id, *routine.aliases):
            if name in aliases and aliases[name] != routine.id:
                raise ContentError(f"{path.name}: field 'aliases': '{name}' is already used by '{aliases[name]}'")
            aliases[name] = routine.id
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
    return Library(techniques=techniques, routines=routines, poses=poses)
