"""`limber run` counting SQL statements and transactions per update type: python -m bench._sqlcount

Started as `limber run` is (bot.main.main(["run"]), the same environment); SQLAlchemy engine
events count every statement and every transaction (BEGIN) made while an update is handled, by
the update's type ("press step:done", "/stretch", "text", ...), and the counts are written as JSON to
$LIMBER_SQL_COUNTS when the bot stops. The listeners cost a little CPU: figures from these runs
are for counting, the timed rounds run `limber run` itself.
"""

from __future__ import annotations

import contextvars
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from telegram import Update

import bot.main
from bot import callbacks as cb
from bot.updates import LimberApplication

_KIND: contextvars.ContextVar[str | None] = contextvars.ContextVar("update_kind", default=None)
UPDATES: Counter[str] = Counter()
STATEMENTS: Counter[str] = Counter()
TRANSACTIONS: Counter[str] = Counter()


def kind_of(update: object) -> str:
    """The update's type as the benchmark reports it."""
    if not isinstance(update, Update):
        return type(update).__name__
    if update.callback_query is not None:
        press = cb.parse(update.callback_query.data)
        if press is None:
            return "press (unknown)"
        name = type(press).__name__.removesuffix("Press").lower()
        action = getattr(press, "action", None)
        return f"press {name}:{action.value}" if action is not None else f"press {name}"
    message = update.effective_message
    if message is not None and message.text:
        word = message.text.split(maxsplit=1)[0]
        return word.split("@")[0] if word.startswith("/") else "text"
    if update.my_chat_member is not None:
        return "my_chat_member"
    return "message (other)"


@event.listens_for(Engine, "before_cursor_execute")
def _statement(*_args: Any) -> None:
    kind = _KIND.get()
    if kind is not None:
        STATEMENTS[kind] += 1


@event.listens_for(Engine, "begin")
def _transaction(*_args: Any) -> None:
    kind = _KIND.get()
    if kind is not None:
        TRANSACTIONS[kind] += 1


_process_update = LimberApplication.process_update


async def _counted(self: LimberApplication, update: object) -> None:
    kind = kind_of(update)
    UPDATES[kind] += 1
    token = _KIND.set(kind)
    try:
        await _process_update(self, update)
    finally:
        _KIND.reset(token)


LimberApplication.process_update = _counted  # type: ignore[method-assign]


def counts() -> dict[str, dict[str, float]]:
    return {
        kind: {
            "updates": n,
            "statements_per_update": round(STATEMENTS[kind] / n, 2),
            "transactions_per_update": round(TRANSACTIONS[kind] / n, 2),
        }
        for kind, n in sorted(UPDATES.items())
    }


def main() -> int:
    try:
        return bot.main.main(["run"])
    finally:
        out = os.environ.get("LIMBER_SQL_COUNTS")
        if out:
            Path(out).write_text(json.dumps(counts(), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
