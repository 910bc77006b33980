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


# The Telegram side: what a flow hands its result to, never what it calls.
TELEGRAM_SIDE = ("telegram", "bot.ui", "bot.pictures", "bot.conversation")


def _imported(source: str, package: str) -> list[str]:
    """Every module (and `from` name, as a module) a source imports, relative imports resolved in `package`."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def _telegram_imports(source: str, package: str = "bot.flows") -> list[str]:
    return sorted(
        {
            name
            for name in _imported(source, package)
            for side in TELEGRAM_SIDE
            if name == side or name.startswith(side + ".")
        }
    )


@pytest.mark.parametrize(
    "source",
    [
        "import telegram\n",
        "from telegram.error import BadRequest\n",
        "from bot import ui, views\n",
        "from bot import pictures\n",
        "import bot.ui\n",
        "from bot.conversation import show_step\n",
        "from .. import ui\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from telegram import Bot\n",
        "def f():\n    from bot.pictures import send_step\n",
    ],
)
def test_the_import_check_finds_a_flow_that_talks_to_telegram(source: str) -> None:
    assert _telegram_imports(source) != []


def test_the_import_check_lets_a_flow_use_the_views_and_storage() -> None:
    source = (
        "from bot import records, views\nfrom bot.flows import Refused\nfrom storage import repo\nimport uibuilder\n"
    )
    assert _telegram_imports(source) == []


@pytest.mark.parametrize("path", sorted((ROOT / "bot" / "flows").rglob("*.py")), ids=lambda p: p.name)
def test_no_flow_imports_telegram_the_sender_or_the_pictures(path: Path) -> None:
    assert _telegram_imports(path.read_text(encoding="utf-8")) == []
