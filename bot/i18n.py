"""The person's language: gettext catalogs (Babel `.po` files in bot/locales/) and the language in use.

Views call `_()` and `ngettext()`; which language they speak is set once per update (from the person's
row) or per job (daily prompts, countdowns) with `speaking(language)`. Adding a language is data: a
`bot/locales/<lang>/LC_MESSAGES/limber.po` catalog, a lexicon and content translations (TRANSLATING.md).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from content.lexicon import available_lexicons

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "limber"
DEFAULT = "en"
# Offered, never forced: a Ukrainian or Belarusian speaker may prefer Russian, or may not.
MAY_PREFER = {"uk": "ru", "be": "ru"}

_language: ContextVar[str] = ContextVar("language", default=DEFAULT)


@cache
def _catalogs(root: Path = LOCALE_DIR) -> dict[str, gettext.NullTranslations]:
    """Every catalog, compiled in memory: the .po files are the only source, so nothing is stale."""
    found: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
    for path in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = path.parent.parent.name
        with path.open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        found[language] = gettext.GNUTranslations(compiled)
    return found


def languages() -> list[str]:
    """The languages Limber speaks, English first."""
    return [DEFAULT, *sorted(lang for lang in _catalogs() if lang != DEFAULT)]


def choose(language_code: str | None) -> str:
    """The language for someone Telegram says writes `language_code` ("es-MX" -> "es"); English otherwise."""
    base = (language_code or "").lower().replace("_", "-").split("-")[0]
    return base if base in _catalogs() else DEFAULT


def suggestion(language_code: str | None) -> str | None:
    """A language worth offering (never forcing) to someone whose own Limber does not speak."""
    base = (language_code or "").lower().split("-")[0]
    offer = MAY_PREFER.get(base)
    return offer if offer in _catalogs() and base not in _catalogs() else None


def current() -> str:
    return _language.get()


def reading() -> str:
    """The language to read ratings, times and questions in: the one spoken, where it has a lexicon."""
    language = _language.get()
    return language if language in available_lexicons() else DEFAULT


def use(language: str) -> None:
    """Speak `language` for the rest of this update's handling (its task's context)."""
    _language.set(language if language in _catalogs() else DEFAULT)


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Speak `language` inside the block: for what is sent without an incoming update."""
    token = _language.set(language if language in _catalogs() else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined; `_()` translates it where it is shown."""
    return message


def _(message: str) -> str:
    return _catalogs()[_language.get()].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogs()[_language.get()].ngettext(singular, plural, n)
