"""What handlers share: opened in `post_init`, closed in `post_shutdown` (see bot.app)."""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext

from bot.clock import Clock
from bot.config import Settings
from bot.countdowns import Timers
from content import Library
from figures.files import FigureStore
from storage.db import Database

# People per cache of facts (`Services.remember`) before it starts again from empty.
CACHE_LIMIT = 200_000


@dataclass
class Services:
    settings: Settings
    db: Database
    library: Library
    clock: Clock
    timers: Timers = field(default_factory=Timers)
    # This process, as named in the rows it claims (updates, countdowns).
    instance: str = field(default_factory=lambda: secrets.token_hex(8))
    # Per-process caches of facts about people, filled through `remember` only.
    # Ids known to have a users row, so most updates skip the upsert.
    known_users: set[int] = field(default_factory=set)
    # Ids whose users row holds no pending typed question (users.awaiting is NULL), so a button
    # press or a message skips the transaction that would only find that out.
    no_question: set[int] = field(default_factory=set)
    # The language each person is spoken to in (users.language), so most updates skip reading it.
    languages: dict[int, str] = field(default_factory=dict)
    # Recent update times per person, least recently seen first, and when each was last told to slow
    # down (bot.handlers.flood); people quiet for a whole window are dropped, so both stay small.
    flood: OrderedDict[int, deque[float]] = field(default_factory=OrderedDict)
    flood_noticed: dict[int, float] = field(default_factory=dict)
    # Figures for the steps, drawn on first use into settings.figures_dir one at a time (bot.pictures).
    figure_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _figures: FigureStore | None = field(default=None, repr=False)

    @property
    def figures(self) -> FigureStore:
        """The process's figure store (it remembers what it has drawn)."""
        if self._figures is None:
            self._figures = FigureStore(self.library, self.settings.figures_dir)
        return self._figures

    def remember(self, cache: set[int], user_id: int) -> None:
        """Note a fact about a person in a cache. Only a lone updates process (long polling) does: it
        makes every change itself, while among webhook workers another one may change the fact."""
        if not self.settings.webhook:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()  # a cache: forgetting costs one query per person, keeping grows for ever
            cache.add(user_id)

    def remember_language(self, user_id: int, language: str) -> None:
        """Like `remember`: a person's language, cached only by a lone updates process."""
        if not self.settings.webhook:
            if len(self.languages) >= CACHE_LIMIT:
                self.languages.clear()
            self.languages[user_id] = language


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    svc = context.application.bot_data.get("services")
    if not isinstance(svc, Services):
        raise RuntimeError("services are opened in post_init; the application has not been initialised")
    return svc
