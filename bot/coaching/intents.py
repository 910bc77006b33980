"""What free text asks for when it is neither a warning sign nor a rating: a medicine, a cure, hello, thanks."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from content.lexicon import load_lexicon

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
# A greeting or thanks is the whole point only of a short message; longer ones say something else.
SHORT = 6
_STEM_TAIL = r"[^\W_]*"


class Intent(StrEnum):
    medicine = "medicine"  # "should I take ibuprofen?": not ours to advise
    cure = "cure"  # "will this cure my sciatica?": an honest answer
    thanks = "thanks"
    greeting = "greeting"


@cache
def _patterns(language: str) -> dict[Intent, re.Pattern[str]]:
    words = load_lexicon(language).intents
    compiled = {}
    for intent in Intent:
        parts = []
        for entry in getattr(words, intent.value):
            stem = entry.endswith("*")
            phrase = r"\s+".join(re.escape(w) for w in entry.rstrip("*").split())
            parts.append(r"\b" + phrase + (_STEM_TAIL if stem else r"\b"))
        compiled[intent] = re.compile("|".join(parts))
    return compiled


def read_intent(text: str, language: str = "en") -> Intent | None:
    """The first intent the text shows, most important first, or None."""
    normal = " ".join(_WORD.findall(text[:1000].lower().translate(_APOSTROPHES)))
    patterns = _patterns(language)
    for intent in (Intent.medicine, Intent.cure):
        if patterns[intent].search(normal):
            return intent
    if len(normal.split()) <= SHORT:
        for intent in (Intent.thanks, Intent.greeting):
            if patterns[intent].search(normal):
                return intent
    return None
