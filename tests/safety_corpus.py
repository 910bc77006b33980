"""Score the warning-sign detector on the labelled corpora in tests/corpus/redflags_<lang>.yaml.

`python -m tests.safety_corpus [lang ...]` prints recall per tier and category, false alarms per kind,
and every miss; tests/test_redflags.py holds the same figures to the targets.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.coaching.redflags import read_warning_signs

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
RECALL_TARGET = 0.97
FALSE_ALARM_TARGET = 0.02


@dataclass
class Score:
    language: str
    flagged: Counter[str] = field(default_factory=Counter)  # by tier and by "tier/category"
    total: Counter[str] = field(default_factory=Counter)
    alarms: Counter[str] = field(default_factory=Counter)  # must-not phrases that raised one, by kind
    quiet: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    wrong_tier: list[str] = field(default_factory=list)

    def recall(self, key: str) -> float:
        return self.flagged[key] / self.total[key] if self.total[key] else 1.0

    @property
    def false_alarm_rate(self) -> float:
        total = sum(self.alarms.values()) + sum(self.quiet.values())
        return sum(self.alarms.values()) / total if total else 0.0


def load_corpus(language: str) -> dict[str, list[dict[str, str]]]:
    """Every corpus file of a language (`redflags_<lang>.yaml`, `redflags_<lang>_*.yaml`), merged."""
    merged: dict[str, list[dict[str, str]]] = {"must_flag": [], "must_not": [], "pointers": []}
    for path in sorted(CORPUS_DIR.glob(f"redflags_{language}.yaml")) + sorted(
        CORPUS_DIR.glob(f"redflags_{language}_*.yaml")
    ):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path
        for key, items in data.items():
            merged.setdefault(key, []).extend(items)
    return merged


def score(language: str, *, named: bool = True) -> Score:
    """The figures for one language's corpus, read in that language, or (`named=False`) as the bot reads
    any message: in whichever language's words it is written."""
    corpus = load_corpus(language)
    result = Score(language)
    reading: str | None = language if named else None
    for item in corpus["must_flag"]:
        tier, category = item["tier"], item["category"]
        found = read_warning_signs(item["text"], reading)
        for key in (tier, f"{tier}/{category}"):
            result.total[key] += 1
            result.flagged[key] += bool(found) and found.tier is not None and found.tier.value == tier
        if not found:
            result.misses.append(f"[{tier}/{category}] {item['text']}")
        elif found.tier is not None and found.tier.value != tier:
            result.wrong_tier.append(f"[{tier}/{category} read as {found.tier.value}] {item['text']}")
    for item in corpus["must_not"]:
        found = read_warning_signs(item["text"], reading)
        (result.alarms if found else result.quiet)[item["kind"]] += 1
        if found:
            result.false_alarms.append(f"[{item['kind']} -> {','.join(found.categories)}] {item['text']}")
    return result


def report(result: Score) -> str:
    lines = [f"== {result.language}"]
    for tier in ("emergency", "same_day"):
        lines.append(f"{tier:>10}: recall {result.recall(tier):.1%} ({result.flagged[tier]}/{result.total[tier]})")
        for key in sorted(k for k in result.total if k.startswith(f"{tier}/")):
            lines.append(
                f"    {key.split('/')[1]:<22} {result.recall(key):.0%} ({result.flagged[key]}/{result.total[key]})"
            )
    alarms, quiet = sum(result.alarms.values()), sum(result.quiet.values())
    lines.append(f"false alarms: {result.false_alarm_rate:.1%} ({alarms}/{alarms + quiet})")
    for kind in sorted(set(result.alarms) | set(result.quiet)):
        lines.append(f"    {kind:<22} {result.alarms[kind]}/{result.alarms[kind] + result.quiet[kind]}")
    for title, items in (
        ("missed", result.misses),
        ("wrong tier", result.wrong_tier),
        ("false alarms", result.false_alarms),
    ):
        lines.append(f"{title}: {len(items)}")
        lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    languages = argv or sorted({p.stem.split("_")[1] for p in CORPUS_DIR.glob("redflags_*.yaml")})
    for language in languages:
        print(report(score(language)))


if __name__ == "__main__":
    main(sys.argv[1:])
