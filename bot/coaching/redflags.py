"""Spotting free text that describes a red-flag symptom: stop and seek care, not stretch."""

from __future__ import annotations

import re

MAX_SCAN = 1000

# Leaning towards caution: a false alarm costs two taps, a missed one can cost far more.
CATEGORIES: dict[str, tuple[str, list[str]]] = {
    "bladder_bowel": (
        "changes in bladder or bowel control",
        [
            r"can'?t (?:pee|wee|urinate|poo|poop)",
            r"cannot (?:pee|wee|urinate|poo|poop)",
            r"(?:trouble|difficulty|problems?) (?:peeing|urinating|passing urine|pooing)",
            r"(?:lost|losing|loss of|no) (?:control of )?(?:my )?(?:bladder|bowel)",
            r"(?:bladder|bowel) (?:control|problems?|issues?|changes?)",
            r"incontinen",
            r"(?:wet|soiled) myself",
            r"(?:pee|urine|poo|poop)(?:d|ing)? (?:myself|my pants)",
        ],
    ),
    "saddle": (
        "numbness in the saddle area (between the legs, genitals or bottom)",
        [
            r"numb(?:ness)? (?:down there|in (?:my )?(?:groin|crotch|genitals?|private|bum|buttocks|bottom|saddle))",
            r"saddle (?:numb|anaesth|anesth)",
            r"(?:groin|crotch|genitals?|between my legs|down there) (?:is |are |feels? |feeling |went |gone )?numb",
            r"can'?t feel (?:my )?(?:groin|crotch|genitals?|bottom|down there)",
            r"numb(?:ness)? between (?:my )?legs",
        ],
    ),
    "both_legs": (
        "weakness or numbness in both legs",
        [
            r"both (?:of my )?legs (?:are |feel |feeling |getting |going |went |have gone )*(?:weak|numb|dead|giving way)",
            r"(?:weak|numb)(?:ness)? (?:in )?both (?:of my )?legs",
            r"can'?t (?:feel|move|lift) (?:both|either of) (?:my )?legs",
            r"legs (?:are |keep )?(?:giving way|collapsing)",
            # "Legs" in the plural going weak or numb: both legs, whatever the word order.
            r"\blegs (?:are |were |feel |keep )?(?:both |all )?(?:going |getting |gone |feeling |becoming )?(?:weak|numb|dead)",
        ],
    ),
    "fever": (
        "a fever or feeling hot and shivery with back pain",
        [r"\bfever", r"feverish", r"\bchills\b", r"high temperature"],
    ),
    "injury": (
        "pain after a fall, accident or injury",
        [
            r"\bi (?:fell|slipped|tripped)",
            r"\b(?:a|the|my) (?:fall|accident|crash)\b",
            r"car (?:accident|crash)",
            r"hit by",
            r"(?:since|after) (?:i|the|a|my) (?:fell|fall|accident|crash|injury)",
            r"\binjured\b",
        ],
    ),
}
_COMPILED = {key: [re.compile(p) for p in patterns] for key, (_, patterns) in CATEGORIES.items()}


def detect_red_flags(text: str) -> list[str]:
    """The red-flag categories the text mentions, in a stable order."""
    lowered = re.sub(r"\s+", " ", text[:MAX_SCAN].lower().replace("’", "'"))
    return [key for key, patterns in _COMPILED.items() if any(p.search(lowered) for p in patterns)]


def describe(categories: list[str]) -> list[str]:
    return [CATEGORIES[c][0] for c in categories if c in CATEGORIES]
