"""Warning signs as people type them: the labelled corpora at their targets, and the reader's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.coaching.redflags import help_contacts, read_warning_signs
from content.lexicon import LEXICON_DIR, LexiconError, Tier, available_lexicons, load_lexicon
from tests.safety_corpus import CORPUS_DIR, FALSE_ALARM_TARGET, RECALL_TARGET, load_corpus, report, score

# Smallest corpus worth holding a lexicon to: (emergency, same-day, must-not), all of a language's files
# merged. Each language has a first corpus and a second one written blind, by a writer who never saw the
# lexicon; each file alone holds issue 15's "at least 120 must-flag and 120 must-not" (MIN_PER_FILE).
MIN_CORPUS = {"en": (300, 160, 440)}
MIN_CORPUS_OTHER = (160, 110, 280)
MIN_PER_FILE = (120, 120)


@pytest.mark.parametrize("language", available_lexicons())
def test_corpus_meets_the_targets(language: str) -> None:
    result = score(language)
    emergency, same_day, must_not = MIN_CORPUS.get(language, MIN_CORPUS_OTHER)
    assert result.total["emergency"] >= emergency and result.total["same_day"] >= same_day, "the corpus is too small"
    assert sum(result.alarms.values()) + sum(result.quiet.values()) >= must_not, "the corpus is too small"
    for tier in ("emergency", "same_day"):
        assert result.recall(tier) >= RECALL_TARGET, report(result)
    assert result.false_alarm_rate <= FALSE_ALARM_TARGET, report(result)
    assert not result.wrong_tier, report(result)


@pytest.mark.parametrize("path", sorted(CORPUS_DIR.glob("redflags_*.yaml")), ids=lambda p: p.stem)
def test_every_corpus_file_is_big_enough_on_its_own(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    must_flag, must_not = MIN_PER_FILE
    assert len(data["must_flag"]) >= must_flag and len(data["must_not"]) >= must_not, path.name


@pytest.mark.parametrize("language", available_lexicons())
def test_every_language_has_a_corpus_written_blind(language: str) -> None:
    assert (CORPUS_DIR / f"redflags_{language}_unseen.yaml").exists()


@pytest.mark.parametrize("language", available_lexicons())
def test_the_corpus_meets_the_targets_when_the_language_is_not_named(language: str) -> None:
    # As the bot reads a message: whatever the person's app language, in the language it is written in.
    result = score(language, named=False)
    for tier in ("emergency", "same_day"):
        assert result.recall(tier) >= RECALL_TARGET, report(result)
    assert result.false_alarm_rate <= FALSE_ALARM_TARGET, report(result)


def test_every_category_and_kind_is_covered() -> None:
    corpus = load_corpus("en")
    categories = {item["category"] for item in corpus["must_flag"]}
    assert categories == set(load_lexicon("en").rules)
    kinds = {item["kind"] for item in corpus["must_not"]}
    assert {"negation", "idiom", "other_sense", "old_injury", "one_sided", "bathroom", "sleep", "cold"} <= kinds


def test_symptoms_that_are_not_warning_signs_get_a_pointer() -> None:
    pointers = load_corpus("en")["pointers"]
    assert len(pointers) >= 20
    for item in pointers:
        found = read_warning_signs(item["text"])
        assert not found and found.pointer, item["text"]


def test_the_whole_message_is_read() -> None:
    story = "Long day. " * 120 + "Anyway the other thing is i cant feel the toilet paper when i wipe."
    assert len(story) > 1000
    assert read_warning_signs(story).categories == ("saddle",)


def test_a_denied_sign_beside_a_reported_one_still_flags_the_reported_one() -> None:
    found = read_warning_signs("the doctor said no fever, but since tuesday i cant pee properly")
    assert found.tier is Tier.emergency and found.categories == ("urinary",)


@pytest.mark.parametrize(
    ("language", "question", "report"),
    [
        (
            "en",
            "can back pain with a fever mean an infection? just curious",
            "i cant pee since last night. is that bad? just curious",
        ),
        (
            "es",
            "la fiebre con dolor de espalda es motivo para ir al médico? solo pregunto",
            "no puedo orinar desde anoche. es grave? solo pregunto",
        ),
        (
            "ru",
            "озноб при боли в спине это опасно? просто спрашиваю",
            "не могу помочиться с утра. это опасно? просто спрашиваю",
        ),
    ],
)
def test_just_asking_governs_the_question_before_it_and_no_further(language: str, question: str, report: str) -> None:
    assert not read_warning_signs(question, language)
    assert read_warning_signs(report, language).categories == ("urinary",)


@pytest.mark.parametrize(
    ("language", "accented", "plain"),
    [
        ("es", "no llegué al baño a tiempo", "no llegue al baño a tiempo"),
        ("es", "se me dobló la pierna al bajar del bus", "se me doblo la pierna al bajar del bus"),
    ],
)
def test_accents_left_off_read_as_written(language: str, accented: str, plain: str) -> None:
    found = read_warning_signs(accented, language)
    assert found and read_warning_signs(plain, language) == found


def test_folding_keeps_the_tilde_and_short_words() -> None:
    # "año" is not "ano", and "el" (the) is not "él" (he): "el dolor" is still the person's own.
    assert not read_warning_signs("hace un año me cuesta un poco sentarme en el suelo", "es")
    assert read_warning_signs("el chorro es muy débil y me cuesta orinar", "es").categories == ("urinary",)


def test_both_tiers_are_reported_most_urgent_first() -> None:
    found = read_warning_signs("ive had a fever since monday and now both my legs are numb")
    assert found.categories == ("both_legs", "fever") and found.tier is Tier.emergency


@pytest.mark.parametrize(
    ("zone", "number"),
    [("Europe/London", "999"), ("America/Toronto", "911"), ("Europe/Madrid", "112"), ("Australia/Sydney", "000")],
)
def test_the_emergency_number_follows_the_zone(zone: str, number: str) -> None:
    contacts = help_contacts(zone)
    assert contacts is not None and contacts.emergency == number


def test_no_country_means_no_guessed_number() -> None:
    assert help_contacts("UTC") is None and help_contacts(None) is None


def test_a_lexicon_key_given_twice_is_refused(tmp_path: Path) -> None:
    source = (LEXICON_DIR / "en.yaml").read_text(encoding="utf-8")
    (tmp_path / "xx.yaml").write_text(
        source.replace("spelling:\n", "spelling:\n  feaver: fever\n", 1), encoding="utf-8"
    )
    with pytest.raises(LexiconError, match="given twice"):
        load_lexicon("xx", tmp_path)


def test_a_rule_naming_an_unknown_concept_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((LEXICON_DIR / "en.yaml").read_text(encoding="utf-8"))
    data["rules"]["fever"]["any"].append({"all": ["NO_SUCH_CONCEPT"]})
    (tmp_path / "xx.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(LexiconError, match="NO_SUCH_CONCEPT"):
        load_lexicon("xx", tmp_path)
