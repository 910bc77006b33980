"""Spotting free text that describes a warning sign, by meaning rather than fixed phrases.

The words are data (`content/lexicons/<lang>.yaml`); this module only reads them. A message is cut
into clauses, each word is mended (misspellings) and mapped to a concept (a region, a symptom, a
function), negations and other people's stories mark what they govern, and a rule fires when the
concepts it needs stand un-negated close together in one clause. The whole message is read.

Leaning towards caution: a false alarm costs two taps, a missed one can cost far more.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import product

from bot.coaching.zones import country_of
from content.emergency import Contacts, load_emergency_book
from content.lexicon import Lexicon, Pointer, Rule, Span, Tier, available_lexicons, load_lexicon

_TOKEN = re.compile(r"[0-9]+/[0-9]+|[0-9]+(?:\.[0-9])?|[^\W\d_]+|[.!?;\n]|[,:()\-–—…]|&")
_YEAR = re.compile(r"^(?:19|20)[0-9]{2}$")
_HARD = frozenset(".!?;\n")
_SOFT = frozenset(",:()-–—…")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
# Accents people leave off (or add): acute, grave and diaeresis ("rinon", "despues", "всё"). Never the
# tilde or the breve, which make other letters ("año" is not "ano", "й" is not "и").
_FOLDED_MARKS = frozenset("\u0300\u0301\u0308")
_FOLD_MIN = 4  # shorter words differ by their accent alone: "él" and "el", "sé" and "se", "más" and "mas"
# What a negation, a question or another person's story can govern (see `_mark`). ASKING ("just
# curious") is a question marker that also governs the sentence before it: "can it be cancer? just curious".
NEG, NEG_RAISE, POSTNEG, POSTNEG_STRONG, HYPO, ASKING, OTHER_PERSON = (
    "NEG",
    "NEG_RAISE",
    "POSTNEG",
    "POSTNEG_STRONG",
    "HYPO",
    "ASKING",
    "OTHER_PERSON",
)
_MARKERS = frozenset({NEG, NEG_RAISE, POSTNEG, POSTNEG_STRONG, HYPO, ASKING, OTHER_PERSON})
_OPENERS = frozenset({NEG, NEG_RAISE, POSTNEG_STRONG, HYPO, ASKING, OTHER_PERSON})
_QUESTIONS = frozenset({HYPO, ASKING})
_BACKWARD = 5
_MAX_PHRASE = 8


@dataclass(frozen=True)
class Finding:
    """What a message reports: the warning-sign categories (most urgent tier first) and their tier."""

    categories: tuple[str, ...] = ()
    tier: Tier | None = None
    # A symptom word that is not a warning sign ("tingling in my left calf"): worth a kind pointer.
    pointer: bool = False

    def __bool__(self) -> bool:
        return self.tier is not None


@dataclass
class _Token:
    concept: str | None
    word: str
    negated: bool = False


class _Reader:
    """One language's lexicon, compiled for lookups."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.words = {k: v for k, v in lexicon.words.items() if not k.endswith("*")}
        self.stems = sorted(
            ((k[:-1], v) for k, v in lexicon.words.items() if k.endswith("*")), key=lambda kv: -len(kv[0])
        )
        self.phrases: dict[tuple[str, ...], str] = {}
        for phrase, concept in lexicon.phrases.items():
            self.phrases[tuple(self._mend(t) for t in _tokens(phrase))] = concept
        # The same keys without their accents, read only where the exact spelling is not known.
        single: dict[tuple[str, ...], str] = {(k,): v for k, v in self.words.items()}
        self.words_folded = _folded(single)
        self.phrases_folded = _folded(self.phrases)
        folded_stems: dict[tuple[str, ...], str] = {(_fold(stem),): concept for stem, concept in self.stems}
        self.stems = sorted(
            {*self.stems, *((key[0], c) for key, c in _folded(folded_stems).items())}, key=lambda kv: -len(kv[0])
        )
        self.longest = min(_MAX_PHRASE, max((len(p) for p in self.phrases), default=1))
        # Words a phrase can start with: most positions start none, and are passed by at once.
        self.openers = frozenset(p[0] for p in self.phrases if len(p) > 1)
        self.openers_folded = frozenset(p[0] for p in self.phrases_folded if len(p) > 1)
        self.vocabulary = sorted({w for w in self.words if len(w) >= 7})
        # Every word the lexicon knows, for telling which language a text is in.
        self.vocabulary_all = frozenset(
            {*self.words, *lexicon.spelling, *(w for phrase in self.phrases for w in phrase)}
        )
        neg = lexicon.negation
        self.breakers, self.enders, self.subjects = neg.breakers, neg.enders, neg.subjects
        self.list_words, self.scope = neg.list_words, neg.scope

    def _mend(self, word: str) -> str:
        return self.lexicon.spelling.get(word, word)

    @cache  # noqa: B019 - one reader per language, kept for the process
    def concept_of(self, word: str) -> str | None:
        if word in self.words:
            return self.words[word]
        folded = self.words_folded.get((_fold(word),))
        if folded is not None:
            return folded
        if _YEAR.match(word):
            return "OLD"  # a year named: a history, not today's news
        if word[:1].isdigit():
            return _degrees(word)
        for stem, concept in self.stems:
            if word.startswith(stem):
                return concept
        if len(word) >= 7 and not word.isdigit():
            for known in self.vocabulary:
                if abs(len(known) - len(word)) <= 1 and _one_edit(word, known):
                    return self.words[known]
        return None

    def sentences(self, text: str) -> list[list[list[list[_Token]]]]:
        """Sentences, of clauses (split at "but"), of segments (split at commas), of tokens."""
        words = [self._mend(t) for t in _tokens(text)]
        folded = [_fold(w) for w in words]
        tokens: list[_Token] = []
        i = 0
        while i < len(words):
            exact, plain = words[i] in self.openers, folded[i] in self.openers_folded
            for size in range(min(self.longest, len(words) - i) if exact or plain else 1, 1, -1):
                concept = (self.phrases.get(tuple(words[i : i + size])) if exact else None) or (
                    self.phrases_folded.get(tuple(folded[i : i + size])) if plain else None
                )
                if concept is not None:
                    tokens.append(_Token(concept, " ".join(words[i : i + size])))
                    i += size
                    break
            else:
                word = words[i]
                concept = self.phrases.get((word,)) or self.phrases_folded.get((folded[i],)) or self.concept_of(word)
                tokens.append(_Token(concept, word))
                i += 1
        sentences: list[list[list[list[_Token]]]] = [[[[]]]]
        for token in tokens:
            if token.word in _HARD:
                sentences.append([[[]]])
            elif token.concept is None and token.word in self.breakers:
                sentences[-1].append([[]])
            elif token.word in _SOFT:
                sentences[-1][-1].append([])
            else:
                sentences[-1][-1][-1].append(token)
        return [
            [[seg for seg in clause if seg] for clause in sentence if any(clause)]
            for sentence in sentences
            if any(any(clause) for clause in sentence)
        ]

    def mark(self, sentence: list[list[_Token]]) -> None:
        """Mark what negations, questions and other people's stories govern, in place."""
        open_at_end = False  # a negated list goes on after a comma: "no numbness, tingling or weakness"
        for segment in sentence:
            words = {t.word for t in segment}
            listing = open_at_end and bool(words & self.list_words) and not words & self.subjects
            remaining = len(segment) if listing else 0
            passes_subjects = listing
            for index, token in enumerate(segment):
                kind = token.concept
                if kind in (POSTNEG, POSTNEG_STRONG, HYPO, ASKING):
                    for earlier in segment[0 if kind in _QUESTIONS else max(0, index - _BACKWARD) : index]:
                        earlier.negated = True
                if kind in _OPENERS:
                    remaining = len(segment) if kind in _QUESTIONS else self.scope + (2 if kind == NEG_RAISE else 0)
                    passes_subjects = kind in (NEG_RAISE, HYPO, ASKING)
                    continue
                if remaining <= 0:
                    continue
                if token.concept is None and token.word in self.enders:
                    remaining = 0
                elif token.word in self.subjects and not passes_subjects:
                    remaining = 0
                else:
                    token.negated = True
                    remaining -= 1
            open_at_end = remaining > 0

    def read(self, text: str) -> Finding:
        found: dict[str, Tier] = {}
        pointer = False
        sentences = self.sentences(text)
        for number, sentence in enumerate(sentences):
            for clause in sentence:
                self.mark(clause)
            if number + 1 < len(sentences) and _asks(sentences[number + 1]):
                for clause in sentence:
                    for segment in clause:
                        for token in segment:
                            token.negated = True
            whole = [_present(clause) for clause in sentence]
            sentence_wide = _present([seg for clause in sentence for seg in clause])
            for name, rule in self.lexicon.rules.items():
                if name not in found:
                    spans = [sentence_wide] if rule.span == Span.sentence else whole
                    if any(_fires(rule, present) for present in spans):
                        found[name] = rule.tier
            pointer = pointer or any(_fires(self.lexicon.pointer, present) for present in whole)
        if not found:
            return Finding(pointer=pointer)
        order = [Tier.emergency, Tier.same_day]
        categories = sorted(found, key=lambda c: (order.index(found[c]), list(self.lexicon.rules).index(c)))
        return Finding(tuple(categories), found[categories[0]], pointer=False)


def _asks(sentence: list[list[list[_Token]]]) -> bool:
    return any(t.concept == ASKING for clause in sentence for segment in clause for t in segment)


def _present(clause: list[list[_Token]]) -> dict[str, list[int]]:
    """Where each un-negated concept stands in the clause, by word position."""
    present: dict[str, list[int]] = {}
    for index, token in enumerate(t for segment in clause for t in segment):
        if token.concept is not None and token.concept not in _MARKERS and not token.negated:
            present.setdefault(token.concept, []).append(index)
    return present


def _fires(rule: Rule | Pointer, present: dict[str, list[int]]) -> bool:
    concepts = present.keys()
    return any(
        concepts >= set(alt.all) and concepts.isdisjoint(alt.unless) and _close(present, alt.all, rule.window)
        for alt in rule.any
    )


def _fold(word: str) -> str:
    if len(word) < _FOLD_MIN or word.isascii():
        return word
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", word) if c not in _FOLDED_MARKS)
    )


def _folded(keys: dict[tuple[str, ...], str]) -> dict[tuple[str, ...], str]:
    """Keys with their accents folded, leaving out any that two concepts would share."""
    folded: dict[tuple[str, ...], str | None] = {}
    for key, concept in keys.items():
        plain = tuple(_fold(t) for t in key)
        folded[plain] = concept if folded.get(plain, concept) == concept else None
    return {key: concept for key, concept in folded.items() if concept is not None}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


def _degrees(word: str) -> str | None:
    """A body temperature that is a fever (37.8 °C and up, or 100 °F and up) reads as one."""
    try:
        value = float(word)
    except ValueError:
        return None
    return "DEGREES" if 37.8 <= value <= 42.5 or 100.0 <= value <= 107.0 else None


def _one_edit(a: str, b: str) -> bool:
    """At most one insertion, deletion, substitution or swap of neighbours apart."""
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return True
    return False


def _close(present: dict[str, list[int]], needed: tuple[str, ...], window: int) -> bool:
    """Some occurrence of every needed concept lies within `window` words of the others."""
    choices = [present[c][:6] for c in needed]
    return any(max(pick) - min(pick) <= window for pick in product(*choices))


@cache
def _reader(language: str) -> _Reader:
    return _Reader(load_lexicon(language))


def read_warning_signs(text: str, language: str | None = None) -> Finding:
    """The warning signs the text reports, read in `language`, or in every language Limber reads.

    Every language by default: people write in the language they think in, whatever their app is set to.
    """
    if language is not None:
        return _reader(language).read(text)
    findings = [_reader(lang).read(text) for lang in _languages_of(text)]
    flagged = [f for f in findings if f]
    if not flagged:
        return Finding(pointer=any(f.pointer for f in findings))
    order = [Tier.emergency, Tier.same_day]
    tier = min((f.tier for f in flagged if f.tier is not None), key=order.index)
    categories = tuple(
        dict.fromkeys(
            c for f in sorted(flagged, key=lambda f: order.index(f.tier or Tier.same_day)) for c in f.categories
        )
    )
    return Finding(categories, tier)


def _languages_of(text: str) -> list[str]:
    """The languages whose lexicons know most of the text's words: one, or several on a tie.

    Reading English with the Spanish lexicon would find "cancer" in "never had cancer" without
    knowing "never"; each text is read by the lexicon it is written in.
    """
    words = set(_tokens(text[:4000]))
    scores = {lang: len(words & _reader(lang).vocabulary_all) for lang in available_lexicons()}
    best = max(scores.values(), default=0)
    return [lang for lang, score in scores.items() if score == best] if best else list(scores)


def detect_red_flags(text: str, language: str | None = None) -> list[str]:
    """The warning-sign categories the text reports, most urgent first."""
    return list(read_warning_signs(text, language).categories)


def help_contacts(zone: str | None) -> Contacts | None:
    """Whom to call where the person's time zone names their country; None where it does not."""
    contacts, local = load_emergency_book().for_country(country_of(zone))
    return contacts if local else None
