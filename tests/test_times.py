"""Times for the daily prompt as people type them, in each language (tests/corpus/times_<lang>.yaml)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml

from bot.coaching.times import EitherHalf, read_time
from content.lexicon import available_lexicons

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = [
    (path.stem.split("_")[1], item)
    for path in sorted(CORPUS.glob("times_*.yaml"))
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(("language", "item"), CASES, ids=lambda v: str(v)[:40] if isinstance(v, dict) else v)
def test_times_are_read_as_people_mean_them(language: str, item: dict[str, str]) -> None:
    assert language in available_lexicons(), f"a times corpus for {language} needs its lexicon"
    found = read_time(item["text"], language)
    label = "none" if found is None else "ask" if isinstance(found, EitherHalf) else f"{found:%H:%M}"
    assert label == item["expect"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7pm", time(19)), ("19:05", time(19, 5)), ("7:30", time(7, 30)), ("seven am", time(7)), ("noon", time(12))],
)
def test_english_times(text: str, expected: time) -> None:
    assert read_time(text) == expected


@pytest.mark.parametrize("text", ["5", "at 5", "ten"])
def test_a_bare_hour_is_either_half_of_the_day(text: str) -> None:
    assert isinstance(read_time(text), EitherHalf)
