"""Pain ratings and intents as people type them (tests/corpus/ratings_<lang>.yaml, intents_<lang>.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.coaching.intents import read_intent
from bot.coaching.ratings import OutOfRange, Rating, Several, Unsure, parse_pain

CORPUS = Path(__file__).resolve().parent / "corpus"


def _read(kind: str) -> list[tuple[str, dict[str, object]]]:
    return [
        (path.stem.split("_")[1], item)
        for path in sorted(CORPUS.glob(f"{kind}_*.yaml"))
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]


def _as_label(parsed: Rating | OutOfRange | Unsure | Several | None) -> str:
    match parsed:
        case Rating(value):
            return str(value)
        case Unsure(value):
            return f"ask{value}"
        case Several():
            return "ask"
        case OutOfRange():
            return "out_of_range"
    return "none"


@pytest.mark.parametrize(
    ("language", "item"), _read("ratings"), ids=lambda v: str(v)[:40] if isinstance(v, dict) else v
)
def test_ratings_are_read_as_people_mean_them(language: str, item: dict[str, object]) -> None:
    found = _as_label(parse_pain(str(item["text"]), language))
    assert found == str(item["expect"])


@pytest.mark.parametrize(
    ("language", "item"), _read("intents"), ids=lambda v: str(v)[:40] if isinstance(v, dict) else v
)
def test_intents_are_read(language: str, item: dict[str, object]) -> None:
    found = read_intent(str(item["text"]), language)
    assert (found.value if found else "other") == item["intent"]
