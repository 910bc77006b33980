"""Pain ratings 0-10: reading them from free text and judging a change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# How much text we read at most: a rating never needs more, and huge messages stay cheap.
MAX_SCAN = 200
_NUM = r"(\d{1,3}(?:[.,]\d+)?)"
_PATTERNS = [
    re.compile(rf"^\s*{_NUM}\s*(?:/\s*10|out of 10|of 10)?\s*[.!]*\s*$"),
    re.compile(
        rf"\b(?:pain|rating|rate|level|score|hurts?|it'?s|its|it is|i'?m at|im at|i am at|about|around|feels? like)"
        rf"(?:\s+(?:is|at|of|a|an|about|around|now|today|like|maybe))*\s*[:=]?\s*{_NUM}\s*(?:/\s*10|out of 10|of 10)?\b"
    ),
    re.compile(rf"\b{_NUM}\s*(?:/\s*10|out of 10|of 10)\b"),
]


@dataclass(frozen=True)
class Rating:
    value: int


@dataclass(frozen=True)
class OutOfRange:
    """A number that looks meant as a rating but is not a whole number from 0 to 10."""

    raw: str


def parse_pain(text: str) -> Rating | OutOfRange | None:
    """Read a pain rating from what a person typed ("5", "pain 5/10", "it's a 7"), or None."""
    lowered = text[:MAX_SCAN].lower().replace("’", "'")
    for pattern in _PATTERNS:
        match = pattern.search(lowered)
        if match is None:
            continue
        raw = match.group(1).replace(",", ".")
        if "." in raw:
            whole, _, frac = raw.partition(".")
            if frac.strip("0"):
                return OutOfRange(raw)
            raw = whole
        value = int(raw)
        return Rating(value) if 0 <= value <= 10 else OutOfRange(raw)
    return None


class Verdict(StrEnum):
    better = "better"
    worse = "worse"
    same = "same"


@dataclass(frozen=True)
class PainChange:
    before: int
    after: int
    verdict: Verdict

    @property
    def delta(self) -> int:
        return self.after - self.before


def is_meaningful(before: float, after: float) -> bool:
    """A change of 2 points, or of 30% of the starting level, counts as meaningful."""
    change = abs(after - before)
    return change >= 2 or (before > 0 and change / before >= 0.3 and change > 0)


def pain_change(before: int, after: int) -> PainChange:
    if not is_meaningful(before, after):
        return PainChange(before, after, Verdict.same)
    return PainChange(before, after, Verdict.better if after < before else Verdict.worse)
