"""Pain ratings 0-10: reading them from free text and judging a change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from content.lexicon import RatingWords, load_lexicon

# How much text we read at most: a rating never needs more, and huge messages stay cheap.
MAX_SCAN = 200
_TOKEN = re.compile(r"[0-9]{1,2}:[0-9]{2}|-?[0-9]+(?:[.,][0-9]+)?|[^\W\d_]+|/")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_DATE = re.compile(r"^0[1-9][.,][0-9]{2}$|^[0-3]?[0-9][.,][01][0-9][.,]")


@dataclass(frozen=True)
class Rating:
    value: int


@dataclass(frozen=True)
class OutOfRange:
    """A number that looks meant as a rating but is not a whole number from 0 to 10."""

    raw: str


@dataclass(frozen=True)
class Unsure:
    """A digit among other words ("my back is so stiff 6"): maybe a rating, so ask before storing it."""

    value: int


@dataclass(frozen=True)
class Several:
    """Two or three numbers that could each be the rating ("5 or 6", "entre 5 y 6", "4-5"): ask which."""

    values: tuple[int, ...]  # in the order typed, each once


MAX_SEVERAL = 3  # more numbers than this is a list or a story, not a hesitation


def parse_pain(text: str, language: str = "en") -> Rating | OutOfRange | Unsure | Several | None:
    """Read a pain rating from what a person typed: "4", "4/10", "pain 4", "it's a 4", "about a six".

    Times ("3 o'clock", "at 7:30"), durations ("20 minutes"), counts ("2 sessions") and dates are never
    ratings; a lone digit among other words is `Unsure`, and two or three numbers of the scale that
    are nothing else are `Several` (the person hesitates: Limber asks which rather than guess).
    """
    words = load_lexicon(language).ratings
    tokens = _halves(_TOKEN.findall(text[:MAX_SCAN].lower().translate(_APOSTROPHES)), words)
    if not tokens:
        return None
    joined = f" {' '.join(tokens)} ".replace(" / 10 ", " /10 ")
    tens = ("10", *(word for word, value in words.numbers.items() if value == 10))
    for phrase in words.out_of:
        for ten in tens:
            joined = joined.replace(f" {phrase} {ten} ", " /10 ")
    tokens = joined.split()
    candidates: list[tuple[int, str, bool]] = []  # (position, raw, typed as a word)
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        before = tokens[i - 1] if i > 0 else ""
        if token in words.numbers:
            candidates.append((i, str(words.numbers[token]), True))
        elif ":" in token or _DATE.match(token):
            return None  # a time of day, or a date such as "01.12"
        elif token[:1] == "-" and token[1:2].isdigit() and before[:1].isdigit():
            candidates.append((i, token[1:], False))  # the end of a range, "4-5"
        elif token[:1].isdigit() or (token[:1] == "-" and token[1:2].isdigit()):
            rate = after in ("a", "an", "per", "each") and tokens[i + 2 : i + 3] and tokens[i + 2] in words.units
            if after in words.units or after == "/" or rate:
                continue  # a duration, a count, a rate ("2 a day"), a date
            ranged = before in words.between and any(t[:1].isdigit() for t in tokens[i + 2 : i + 4])
            if before == "/" or (before in words.before and not ranged and not _cued(tokens, i, words.cues)):
                continue
            candidates.append((i, token, False))
    digits = sum(1 for t in tokens if t[:1].isdigit() or t[:2].lstrip("-")[:1].isdigit())
    typed_digits = sum(1 for _, _, as_word in candidates if not as_word)
    if 1 < len(candidates) <= MAX_SEVERAL and typed_digits == digits and "/10" not in tokens:
        values = [_whole(raw) for _, raw, _ in candidates]
        if all(v is not None and 0 <= v <= 10 for v in values):
            return Several(tuple(dict.fromkeys(v for v in values if v is not None)))
    if len(candidates) != 1 or (digits > 1 and "/10" not in tokens):
        return None  # several numbers: not a rating on its own
    position, raw, as_word = candidates[0]
    out_of_ten = tokens[position + 1 : position + 2] == ["/10"]
    others = [t for j, t in enumerate(tokens) if j != position and t != "/10"]
    rest = [t for t in others if t not in words.fillers]
    cued = _cued(tokens, position, words.cues)
    value = _whole(raw)
    if value is None or not 0 <= value <= 10:
        # "11", "15/10", "12 ugh": meant as a rating, off the scale; "im 42" is not.
        near = value is not None and 10 < value <= 20 and not rest
        return OutOfRange(raw) if not others or out_of_ten or cued or near else None
    if not rest or cued or out_of_ten:
        return Rating(value)
    # "hips tight 5", "6 after the walk": a number at either end of what was said, fillers aside.
    said = [j for j, t in enumerate(tokens) if j == position or (t not in words.fillers and t != "/10")]
    at_an_end = position in (said[0], said[-1])
    return Unsure(value) if at_an_end and not as_word else None


def _halves(tokens: list[str], words: RatingWords) -> list[str]:
    """A number followed by a half ("7 y medio") becomes one token, "7.5"."""
    if not words.halves:
        return tokens
    read: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        value = token if token.isdigit() else str(words.numbers[token]) if token in words.numbers else None
        for half in (h.split() for h in words.halves):
            if value is not None and tokens[i + 1 : i + 1 + len(half)] == half:
                read.append(f"{value}.5")
                i += 1 + len(half)
                break
        else:
            read.append(token)
            i += 1
    return read


def _cued(tokens: list[str], position: int, cues: tuple[str, ...]) -> bool:
    """The number follows a cue such as "pain" or "it's a", with at most one filler between."""
    before = " ".join(tokens[max(0, position - 4) : position])
    return any(before.endswith(cue) or before.endswith(f"{cue} a") for cue in cues)


def _whole(raw: str) -> int | None:
    number = raw.replace(",", ".")
    whole, _, fraction = number.partition(".")
    if fraction.strip("0"):
        return None
    return int(whole)


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
