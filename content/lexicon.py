"""Schema of a language's warning-sign lexicon (`content/lexicons/<lang>.yaml`), read by bot.coaching.redflags."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
Concept = str
# Concepts the reader gives itself, from numbers: a year is a history ("OLD"), a fever temperature "DEGREES".
BUILT_IN: frozenset[Concept] = frozenset({"OLD", "DEGREES"})


class Tier(StrEnum):
    """How soon to get help, following NICE NG59 and the NHS."""

    emergency = "emergency"  # possible cauda equina syndrome: the emergency department now
    same_day = "same_day"  # a doctor or an urgent-advice line today


class Alternative(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    all: tuple[Concept, ...] = Field(min_length=1)
    unless: tuple[Concept, ...] = ()


class Span(StrEnum):
    clause = "clause"  # up to a full stop or a "but"
    sentence = "sentence"  # across "but": "eating normally but losing weight"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tier: Tier
    window: int = Field(ge=1, le=30)
    span: Span = Span.clause
    any: tuple[Alternative, ...] = Field(min_length=1)


class Pointer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    window: int = Field(ge=1, le=30)
    any: tuple[Alternative, ...] = Field(min_length=1)


class Negation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scope: int = Field(ge=1, le=20)
    breakers: frozenset[str]
    enders: frozenset[str]
    subjects: frozenset[str]
    list_words: frozenset[str]


class RatingWords(BaseModel):
    """How a language types a pain rating: number words, cues, fillers, and units that rule a number out."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    numbers: dict[str, int]
    out_of: tuple[str, ...]
    cues: tuple[str, ...]
    fillers: frozenset[str]
    units: frozenset[str]
    # Words before a number that make it a time or a date ("at 5", "since 3").
    before: frozenset[str]
    # Words after a number that add a half ("un 7 y medio"): not a whole number, so out of range.
    halves: tuple[str, ...] = ()
    # Words before the first of two numbers that make them a range of ratings ("entre 5 y 6"), even where
    # `before` would rule a lone number out ("entre semana", "entre 5 y 10 minutos" stay what they are).
    between: frozenset[str] = frozenset()


class Intents(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    medicine: tuple[str, ...]
    cure: tuple[str, ...]
    greeting: tuple[str, ...]
    thanks: tuple[str, ...]


class TimeWords(BaseModel):
    """How a language types a time of day (bot/coaching/times.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prefixes: tuple[str, ...] = ()  # "a las", "в", "около": dropped
    fillers: frozenset[str] = frozenset()  # words that may stand around a time: "h", "hs", "часа"
    hours: dict[str, int] = {}  # hours in words: "siete", "семь", "час"
    minutes: dict[str, int] = {}  # minutes in words after `before`: "пятнадцати"
    morning: tuple[str, ...] = ()
    afternoon: tuple[str, ...] = ()
    evening: tuple[str, ...] = ()
    night: tuple[str, ...] = ()
    noon: tuple[str, ...] = ()
    midnight: tuple[str, ...] = ()
    half_past: tuple[str, ...] = ()  # "y media"
    quarter_past: tuple[str, ...] = ()  # "y cuarto"
    quarter_to: tuple[str, ...] = ()  # "menos cuarto"
    # Russian counts toward the next hour: "полвосьмого" (half of the eighth) is 7:30.
    ordinals: dict[str, int] = {}
    half_of: tuple[str, ...] = ()
    quarter_of: tuple[str, ...] = ()
    before: tuple[str, ...] = ()  # "без пятнадцати восемь": 7:45


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    language: str = Field(pattern=r"^[a-z]{2}$")
    spelling: dict[str, str]
    phrases: dict[str, Concept]
    words: dict[str, Concept]
    negation: Negation
    rules: dict[str, Rule]
    pointer: Pointer
    ratings: RatingWords
    intents: Intents
    times: TimeWords | None = None

    @model_validator(mode="after")
    def _rules_use_known_concepts(self) -> Lexicon:
        known = set(self.phrases.values()) | set(self.words.values()) | BUILT_IN
        named: list[tuple[str, Rule | Pointer]] = [*self.rules.items(), ("pointer", self.pointer)]
        for name, rule in named:
            for alt in rule.any:
                missing = [c for c in (*alt.all, *alt.unless) if c not in known]
                if missing:
                    raise ValueError(f"rule '{name}' names concepts no word or phrase gives: {missing}")
        return self


class LexiconError(ValueError):
    """A lexicon file is missing or breaks the schema; the message names the file and field."""


def available_lexicons() -> list[str]:
    return sorted(p.stem for p in LEXICON_DIR.glob("*.yaml"))


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice: the second would silently win."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"'{key}' is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@cache
def load_lexicon(language: str, root: Path = LEXICON_DIR) -> Lexicon:
    path = root / f"{language}.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), _UniqueKeys)
        return Lexicon.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path.name}: cannot read: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise LexiconError(f"{path.name}: field '{field}': {first['msg']}") from exc
