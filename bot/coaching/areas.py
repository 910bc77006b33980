"""Turning what a person typed after /stretch into a routine."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from content import Library

MAX_AREA_TEXT = 40


@dataclass(frozen=True)
class AreaMatch:
    routine_id: str
    exact: bool


def _normal(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())[:MAX_AREA_TEXT]


def alias_table(library: Library) -> dict[str, str]:
    table: dict[str, str] = {}
    for routine in library.routines.values():
        for name in (routine.id, routine.id.replace("-", " "), routine.title.lower(), *routine.aliases):
            table.setdefault(_normal(name), routine.id)
    # Every language's names work for everyone: "/stretch caderas", "/stretch поясница".
    for translation in library.translations.values():
        for rid, text in translation.routines.items():
            for name in (text.title.lower(), *text.aliases):
                table.setdefault(_normal(name), rid)
    return table


def resolve_area(text: str, library: Library) -> AreaMatch | None:
    """Exact id or alias first, then the closest name for a typo; None when nothing is close."""
    wanted = _normal(text)
    if not wanted:
        return None
    table = alias_table(library)
    if wanted in table:
        return AreaMatch(table[wanted], exact=True)
    close = difflib.get_close_matches(wanted, list(table), n=1, cutoff=0.7)
    return AreaMatch(table[close[0]], exact=False) if close else None
