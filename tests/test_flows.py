"""The one pattern's rules: a refusal rolls back, and no Bot API call is made inside a transaction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bot import guard
from bot.coaching.session import StepAction
from bot.flows import Refused
from bot.flows import session as session_flow
from storage import repo
from tests.factories import BotProcess, Person
from tests.test_stretch import begin, outcomes, ratings


async def test_a_refusal_after_a_flushed_write_leaves_nothing_written(bot: BotProcess, person: Person) -> None:
    await person.join()
    db = bot.services.db
    with pytest.raises(Refused):
        async with db.transaction() as tx:
            await repo.add_rating(tx, user_id=person.user_id, value=4, context="free", now=bot.clock.now())
            await tx.flush()
            raise Refused("That button isn't valid any more.")
    assert await ratings(bot, person.user_id) == []


async def test_a_step_press_that_loses_the_race_keeps_no_outcome(
    bot: BotProcess, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Hurts" on a step another press moved on meanwhile: its outcome, written first, is rolled back."""
    step = await begin(person, "hips")
    session = await repo_open_session(bot, person.user_id)

    async def moved_on(*_args: object, **_kwargs: object) -> bool:
        return False  # what advance_session returns when a concurrent press already moved the session

    monkeypatch.setattr(repo, "advance_session", moved_on)
    result = await session_flow.press_step(
        bot.services,
        user_id=person.user_id,
        session_id=session,
        step=0,
        action=StepAction.hurt,
        message_id=step["message"]["message_id"],
    )
    assert isinstance(result, Refused)
    assert result.reason == "That button is from an earlier message and no longer does anything."
    assert await outcomes(bot, person.user_id) == []


async def repo_open_session(bot: BotProcess, user_id: int) -> int:
    async with bot.services.db.transaction() as db:
        session = await repo.open_session(db, user_id=user_id)
    assert session is not None and session.id is not None
    return session.id


async def test_a_bot_api_call_inside_a_transaction_fails_loudly(bot: BotProcess, person: Person) -> None:
    await person.join()
    assert bot.app is not None
    telegram = bot.app.bot
    with pytest.raises(NetworkError, match="inside a database transaction"):
        async with bot.services.db.transaction():
            await telegram.send_message(person.user_id, "Hello from inside a transaction")
    assert guard.VIOLATIONS == ["sendMessage"]
    guard.VIOLATIONS.clear()  # recorded as it should be; the fixture would fail the test otherwise
    # Outside a transaction the same call goes through.
    await telegram.send_message(person.user_id, "Hello after it")
    await person.expect("Hello after it")


async def test_every_bot_test_is_guarded(bot: BotProcess) -> None:
    """The fixture's bot refuses the call: a handler that talked to Telegram inside a transaction fails its test."""
    assert bot.app is not None
    assert isinstance(bot.app.bot.request, guard.GuardedRequest)


ROOT = Path(__file__).resolve().parent.parent
# Calls that reach Telegram: the sender, a Bot, a button's query, an acknowledgement.
TELEGRAM = ("ui.", "bot.", "context.bot.", "query.", "ack", "message.reply")


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _telegram_calls_in_transactions(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.AsyncWith):
            continue
        if not any(
            isinstance(item.context_expr, ast.Call) and _dotted(item.context_expr.func).endswith("transaction")
            for item in node.items
        ):
            continue
        for inner in (n for statement in node.body for n in ast.walk(statement)):
            if isinstance(inner, ast.Await) and isinstance(inner.value, ast.Call):
                name = _dotted(inner.value.func)
                if name.startswith(TELEGRAM):
                    found.append(f"line {inner.lineno}: {name}")
    return found


def test_the_static_check_finds_a_telegram_call_inside_a_transaction() -> None:
    source = "async def f(svc, query):\n    async with svc.db.transaction() as db:\n        await ui.answer(query)\n"
    assert _telegram_calls_in_transactions(source) == ["line 3: ui.answer"]


@pytest.mark.parametrize("path", sorted((ROOT / "bot").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_telegram_call_is_written_inside_a_transaction(path: Path) -> None:
    assert _telegram_calls_in_transactions(path.read_text(encoding="utf-8")) == []
