"""Times of day as people type them for their daily prompt, in their language ("7 de la tarde", "в 7 вечера").

The words are data (the `times` section of `content/lexicons/<lang>.yaml`). A time with minutes or past
noon is taken as it is ("19:00", "7:15"); an hour with a part of the day is placed in it ("8 de la
mañana", "в 11 ночи"); a bare hour ("a las 5", "в 5") could be morning or evening, so both are offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from bot.coaching.schedule import parse_time
from content.lexicon import load_lexicon

_TOKEN = re.compile(r"[0-9]{1,2}(?:[:.h-][0-9]{2})?|[^\W\d_]+")
_CLOCK = re.compile(r"^([0-9]{1,2})(?:[:.h-]([0-9]{2}))?$")
_PARTS = ("morning", "afternoon", "evening", "night")


@dataclass(frozen=True)
class EitherHalf:
    """A bare hour: morning or evening, to be asked."""

    morning: time
    evening: time


def read_time(text: str, language: str = "en") -> time | EitherHalf | None:
    """The time of day the text names, both halves of the day for a bare hour, or None."""
    clear = parse_time(text)
    if clear is not None and not re.fullmatch(r"\s*(?:at\s+)?([1-9]|1[0-2])\s*", text[:20]):
        return clear
    words = load_lexicon(language).times
    if words is None:
        return None
    lowered = f" {' '.join(_TOKEN.findall(text[:60].lower().replace('ё', 'е')))} "
    marks: list[str] = []
    kinds = ("noon", "midnight", "half_past", "quarter_past", "quarter_to", "half_of", "quarter_of", "before", *_PARTS)
    # Longest phrase first, whatever its kind: "del mediodía" is the afternoon before "mediodía" is noon.
    for phrase, kind in sorted(((p, k) for k in kinds for p in getattr(words, k)), key=lambda pk: -len(pk[0])):
        pattern = f" {phrase.replace('ё', 'е')} "
        while pattern in lowered:
            lowered = lowered.replace(pattern, f" @{kind} ", 1)
    for phrase in sorted(words.prefixes, key=len, reverse=True):
        lowered = lowered.replace(f" {phrase} ", " ")
    hour: int | None = None
    minute = 0
    explicit = False  # minutes given as digits, or an hour past 12: the 24-hour clock
    ordinal: int | None = None
    before_minutes: int | None = None
    for token in lowered.split():
        wants_minutes = marks[-1:] == ["before"] and before_minutes is None
        if token.startswith("@"):
            marks.append(token[1:])
        elif (clock := _CLOCK.match(token)) is not None:
            if hour is not None:
                return None
            hour, minute = int(clock[1]), int(clock[2] or 0)
            explicit = clock[2] is not None or hour > 12 or token.startswith("0")
        elif token in words.minutes and wants_minutes:
            before_minutes = words.minutes[token]
        elif token in words.hours and hour is None:
            hour = words.hours[token]
        elif token in words.ordinals or any(token == h + o for h in words.half_of for o in words.ordinals):
            glued = next((h for h in words.half_of if token.startswith(h) and token[len(h) :] in words.ordinals), None)
            if glued is not None:
                marks.append("half_of")
                token = token[len(glued) :]
            ordinal = words.ordinals[token]
        elif token not in words.fillers:
            return None  # "2 veces al día", "30 минут": not a time
    if ordinal is not None:  # "полвосьмого" is half past seven, "четверть девятого" a quarter past eight
        hour, minute = ordinal - 1, 30 if "half_of" in marks else 15 if "quarter_of" in marks else 0
        if "half_of" not in marks and "quarter_of" not in marks:
            return None
    if before_minutes is not None and hour is not None:  # "без пятнадцати восемь": a quarter to eight
        hour, minute = hour - 1, 60 - before_minutes
    if "noon" in marks and hour is None:
        hour = 12
    if "midnight" in marks and hour is None:
        hour = 0
    if hour is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if "half_past" in marks:
        minute = 30
    elif "quarter_past" in marks:
        minute = 15
    elif "quarter_to" in marks:
        hour, minute = hour - 1, 45
    part = next((p for p in _PARTS if p in marks), "afternoon" if "noon" in marks else None)
    if part is None and "midnight" in marks:
        part = "night"
    if explicit or hour > 12:
        return time(hour % 24, minute)
    if part is None:
        return EitherHalf(time(hour % 12, minute), time(hour % 12 + 12, minute))
    if part == "morning":
        return time(hour % 12, minute)
    if part == "night" and (hour <= 5 or hour == 12):
        return time(hour % 12, minute)
    return time(hour % 12 + 12, minute)
