"""The crash scenario: people run routines while `limber run` is SIGKILLed and restarted at random moments;
afterwards every step outcome and rating they saw acknowledged must be in the database, every open
session must resume where the database says it is, and no daily prompt may reach anyone twice.

Plain async functions, run by tests/test_crash.py (a few kills, in CI), `python -m bench.crash_kill`
(the full 50) and `python -m bench.soak` (its people and checks, under faults).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot import callbacks as cb
from bot import views
from bot.coaching.session import OUTCOMES, Status, StepAction
from storage import prompts as prompt_repo
from storage.db import Database
from storage.models import PainRating, Prompt, RoutineSession, StepOutcome
from testkit.chat import JSON, Person
from testkit.processes import LimberProcess, bot_env, emulator_process

SEED = 20261121
AREAS = ("hips", "glutes", "core", "hamstrings", "quick")
TYPED_RATINGS = ("{}", "pain {}/10", "it's a {}")
# How a person picks among a step's buttons ("typed": a pain rating typed during the step).
STEP_CHOICES: dict[StepAction | str, int] = {
    StepAction.done: 45,
    StepAction.skip: 15,
    StepAction.hurt: 12,
    StepAction.timer: 10,
    StepAction.stop: 4,
    "typed": 14,
}
STALE = (views.STALE_BUTTON, views.UNKNOWN_BUTTON)
OUTCOME_ACKS = (None, "", "Noted. Ease off.")
PROMPT_TEXT = "Time for today's stretch"
NOTED = re.compile(r"^Noted: pain (\d+)/10( during your routine)?\. Thank you\.$")
RATED = re.compile(r"^Pain (before|after): (\d+)/10 ✓$")
# Prompt rows that never reached the send request; "sending" and "unknown" may or may not have.
NEVER_SENT = ("pending", "claimed", "missed", "cancelled", "blocked", "failed")
# A restarted bot works off the updates queued while it was down well within this many seconds.
SETTLE = 0.8
# Longest a person waits for an answer while the bot stays up (a dropped update, a slow machine).
PATIENCE = 8.0


def limber_process(api_url: str, database_url: str) -> LimberProcess:
    """`limber run` against this emulator and database; steps as text (these runs read the step text), and
    different people's updates handled at once (bot.concurrency), so a kill lands while several are half done."""
    return LimberProcess(bot_env(api_url, database_url, STEP_PICTURES="false", UPDATE_CONCURRENCY="16"))


def presses_of(message: JSON) -> list[cb.Press]:
    buttons = [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
    return [p for p in (cb.parse(b.get("callback_data")) for b in buttons) if p is not None]


def session_presses(message: JSON) -> list[cb.Press]:
    """The buttons that act on a routine session (not a prompt's, a menu's or the flare offer's)."""
    return [
        p
        for p in presses_of(message)
        if isinstance(p, cb.StepPress | cb.RatePress | cb.ContinuePress | cb.PainCheckPress)
    ]


class Stretcher:
    """A person doing routines through the crashes.

    They act on the newest message whose buttons are live, and wait for the answer; when none comes
    because the bot died, they look at the chat again once it is back, as anyone would. A press
    answered "earlier message" marks that message dead, and /stretch (then Continue) finds the way on.
    """

    def __init__(
        self,
        api_url: str,
        user_id: int,
        rng: random.Random,
        bot: LimberProcess,
        presses: dict[str, str],
        typed: Counter[tuple[int, int]],
    ) -> None:
        self.person = Person(api_url, user_id, first_name=f"P{user_id}")
        self.rng = rng
        self.bot = bot
        self.presses = presses  # callback query id -> button data, for the ledger
        self.typed = typed  # (user, value) -> pain ratings typed, for the ledger
        self.dead: set[int] = set()
        self.actions = 0
        self.unanswered = 0

    @property
    def user_id(self) -> int:
        return self.person.user_id

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.act()
            self.actions += 1
            # A human pace, also under the bot's flood limit.
            await asyncio.sleep(self.rng.uniform(0.4, 0.8))

    async def act(self) -> None:
        message = await self.live_message()
        if message is None:
            await self.say(f"/stretch {self.rng.choice(AREAS)}")
            return
        presses = session_presses(message)
        if isinstance(presses[0], cb.PainCheckPress):
            choice = self.rng.choice([p.choice for p in presses if isinstance(p, cb.PainCheckPress)])
            await self.press(message, lambda p: isinstance(p, cb.PainCheckPress) and p.choice == choice)
        elif isinstance(presses[0], cb.ContinuePress):
            await self.press(message, lambda p: isinstance(p, cb.ContinuePress) and not p.stop)
        elif isinstance(presses[0], cb.RatePress):
            roll, value = self.rng.random(), self.rng.randint(0, 10)
            if roll < 0.25:
                self.typed[(self.user_id, value)] += 1
                await self.say(self.rng.choice(TYPED_RATINGS).format(value))
            elif roll < 0.33:
                await self.press(message, lambda p: isinstance(p, cb.RatePress) and p.value is None)
            else:
                await self.press(message, lambda p: isinstance(p, cb.RatePress) and p.value == value)
        else:
            offered = {p.action for p in presses if isinstance(p, cb.StepPress)}
            choices = [c for c in STEP_CHOICES if c == "typed" or c in offered]
            choice = self.rng.choices(choices, weights=[STEP_CHOICES[c] for c in choices])[0]
            if choice == "typed":
                value = self.rng.randint(0, 10)
                self.typed[(self.user_id, value)] += 1
                await self.say(f"pain {value}/10")
            else:
                await self.press(message, lambda p: isinstance(p, cb.StepPress) and p.action == choice)

    async def live_message(self) -> JSON | None:
        for message in reversed(await self.person.messages()):
            if session_presses(message):
                return None if message["message_id"] in self.dead else message
        return None

    async def say(self, text: str) -> None:
        kills = self.bot.kills
        await self.person.send(text)
        await self.wait(self.is_reply, kills)

    async def press(self, message: JSON, want: Callable[[cb.Press | None], bool]) -> None:
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        index = next(i for i, b in enumerate(buttons) if want(cb.parse(b.get("callback_data"))))
        kills = self.bot.kills
        update = await self.person.client.press(self.user_id, message["message_id"], button=index)
        query_id = update["callback_query"]["id"]
        self.presses[query_id] = buttons[index]["callback_data"]
        answer = await self.wait(lambda e: e["type"] == "callback_answer" and e["callback_query_id"] == query_id, kills)
        if answer is None or answer.get("text") in ("Timer started", views.SOMETHING_WRONG):
            return
        if answer.get("text") in STALE:
            self.dead.add(message["message_id"])
            return
        await self.wait(self.is_reply, kills)  # the next step, rating or summary

    def is_reply(self, event: JSON) -> bool:
        if event["type"] != "message" or event["chat_id"] != self.user_id:
            return False
        return PROMPT_TEXT not in (event["message"].get("text") or "")

    async def wait(self, match: Callable[[JSON], bool], kills_before: int) -> JSON | None:
        """The matching event, or None when it will not come (the bot died since) or is very late."""
        deadline = time.monotonic() + PATIENCE
        while True:
            with suppress(TimeoutError):
                return await self.person.client.wait_for(match, timeout=0.25)
            if self.bot.moved_on(kills_before, SETTLE) or time.monotonic() > deadline:
                self.unanswered += 1
                return None


@dataclass
class Ledger:
    """What people saw acknowledged, read from the emulator's event log: exactly what their screens showed."""

    presses: dict[str, str] = field(default_factory=dict)  # callback query id -> button data
    typed: Counter[tuple[int, int]] = field(default_factory=Counter)  # (user, value) -> ratings typed
    outcomes: dict[tuple[int, int], str] = field(default_factory=dict)  # (session, step) -> outcome
    ratings: dict[tuple[int, str], int] = field(default_factory=dict)  # (session, before/after) -> value
    noted: Counter[tuple[int, str, int]] = field(default_factory=Counter)  # (user, during/free, value)
    stops: set[int] = field(default_factory=set)  # sessions whose ⏹ Stop was acknowledged
    conflicts: list[str] = field(default_factory=list)
    _after: int = 0
    _keyboards: dict[tuple[int, int], int] = field(default_factory=dict)  # rating message -> session
    _unresolved: list[JSON] = field(default_factory=list)  # answers that came before press() returned

    async def refresh(self, person: Person) -> None:
        events = await person.client.events(after=self._after)
        pending, self._unresolved = self._unresolved, []
        for event in [*pending, *events]:
            self._after = max(self._after, int(event["seq"]))
            self._read(event)

    def _read(self, event: JSON) -> None:
        chat = int(event.get("chat_id") or 0)
        if event["type"] == "message":
            message = event["message"]
            for button in presses_of(message):
                if isinstance(button, cb.RatePress):
                    self._keyboards[(chat, message["message_id"])] = button.session_id
                    break
            if noted := NOTED.match(message.get("text") or ""):
                self.noted[(chat, "during" if noted[2] else "free", int(noted[1]))] += 1
        elif event["type"] == "edit":
            rated = RATED.match(event["message"].get("text") or "")
            session_id = self._keyboards.get((chat, event["message_id"]))
            if rated and session_id is not None:
                self._rating(session_id, rated[1], int(rated[2]))
        elif event["type"] == "callback_answer":
            data = self.presses.get(event["callback_query_id"])
            if data is None:
                self._unresolved.append(event)
                return
            press, text = cb.parse(data), event.get("text")
            if isinstance(press, cb.StepPress) and press.action in OUTCOMES and text in OUTCOME_ACKS:
                key, outcome = (press.session_id, press.step), OUTCOMES[press.action]
                if self.outcomes.setdefault(key, outcome) != outcome:
                    self.conflicts.append(f"step {key} acknowledged as {self.outcomes[key]} and as {outcome}")
            elif isinstance(press, cb.StepPress) and press.action is StepAction.stop and text == "Stopped":
                self.stops.add(press.session_id)
            elif isinstance(press, cb.RatePress) and press.value is not None and text == f"Noted: {press.value}/10":
                self._rating(press.session_id, "before" if press.when == "b" else "after", press.value)

    def _rating(self, session_id: int, context: str, value: int) -> None:
        if self.ratings.setdefault((session_id, context), value) != value:
            self.conflicts.append(f"session {session_id} {context} rating acknowledged as two values")


@dataclass
class Snapshot:
    sessions: dict[int, RoutineSession]
    outcomes: list[StepOutcome]
    ratings: list[PainRating]
    prompts: list[Prompt]


async def snapshot(database_url: str) -> Snapshot:
    """The database as it is, through a connection of our own (not the bot's)."""
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            sessions = {r.id or 0: r for r in (await s.execute(select(RoutineSession))).scalars()}
            outcomes = list((await s.execute(select(StepOutcome))).scalars())
            ratings = list((await s.execute(select(PainRating))).scalars())
            prompts = list((await s.execute(select(Prompt))).scalars())
    finally:
        await db.close()
    return Snapshot(sessions, outcomes, ratings, prompts)


def losses(ledger: Ledger, db: Snapshot) -> list[str]:
    """Everything acknowledged that the database does not have (or has differently)."""
    missing = list(ledger.conflicts)
    outcomes = {(o.session_id, o.step_index): o.outcome for o in db.outcomes}
    for key, outcome in sorted(ledger.outcomes.items()):
        if outcomes.get(key) != outcome:
            missing.append(f"step outcome {key}: acknowledged {outcome}, database has {outcomes.get(key)}")
    rated = {(r.session_id, r.context, r.value) for r in db.ratings}
    # A severe rating before a routine goes along to Relax when the person switches to it.
    relax = {sid for sid, s in db.sessions.items() if s.routine_id == "relax"}
    taken_along = {(db.sessions[r.session_id].user_id, r.value) for r in db.ratings if r.session_id in relax}
    unrated = {sid for sid in db.sessions} - {r.session_id for r in db.ratings}
    for (session_id, context), value in sorted(ledger.ratings.items()):
        moved = session_id in unrated and (db.sessions[session_id].user_id, value) in taken_along
        if (session_id, context, value) not in rated and not (context == "before" and moved):
            missing.append(f"rating {value} {context} session {session_id}: acknowledged, not in the database")
    # A message's update may run twice (after a kill between its commit and its confirmation): then
    # the same rating is noted again, so "noted" counts acknowledgements, not ratings.
    loose = Counter((r.user_id, r.context, r.value) for r in db.ratings)
    for noted, times in sorted(ledger.noted.items()):
        if not loose[noted]:
            missing.append(f"rating {noted}: noted {times} times, not in the database")
    for session_id in sorted(ledger.stops):
        if session_id not in db.sessions or not db.sessions[session_id].stopped:
            missing.append(f"session {session_id}: stop acknowledged, not in the database")
    return missing


def inconsistencies(db: Snapshot) -> list[str]:
    """Sessions whose steps and ratings do not add up: each step ends once, with the move to the next."""
    problems = []
    by_session: dict[int, list[int]] = {}
    for o in db.outcomes:
        by_session.setdefault(o.session_id, []).append(o.step_index)
    for session_id, session in sorted(db.sessions.items()):
        steps = sorted(by_session.get(session_id, []))
        if len(steps) != len(set(steps)):
            problems.append(f"session {session_id} has two outcomes for one step: {steps}")
        if session.status in (Status.rating_before, Status.pain_check):
            expected: list[int] = []
        elif session.status == Status.in_progress or session.stopped:
            expected = list(range(session.current_step))
        else:
            expected = list(range(len(session.plan)))
        if steps != expected:
            problems.append(
                f"session {session_id} ({session.status}, step {session.current_step}) has outcomes {steps}"
            )
    per_context = Counter((r.session_id, r.context) for r in db.ratings if r.context in ("before", "after"))
    problems += [f"session {key[0]} has {n} {key[1]} ratings" for key, n in per_context.items() if n > 1]
    return problems


def doubled_ratings(ledger: Ledger, db: Snapshot) -> list[str]:
    """No rating stored more often than it was given: each typed message and each rating press counts once
    (a re-run of its update, after a kill, a takeover or a database retry, must find it stored)."""
    given = Counter(ledger.typed)
    for data in ledger.presses.values():
        press = cb.parse(data)
        if isinstance(press, cb.RatePress) and press.value is not None and press.session_id in db.sessions:
            given[(db.sessions[press.session_id].user_id, press.value)] += 1
    stored = Counter((r.user_id, r.value) for r in db.ratings)
    return [
        f"user {user}: pain {value}/10 stored {n} times, given {given[(user, value)]}"
        for (user, value), n in sorted(stored.items())
        if n > given[(user, value)]
    ]


def prompt_problems(db: Snapshot, chats: dict[int, list[JSON]]) -> list[str]:
    """A prompt message is never sent twice, and every prompt row agrees with the chat."""
    rows = {p.id: p for p in db.prompts}
    sent: dict[int, list[int]] = {}  # prompt id -> message ids in the chat
    problems = []
    for user_id, messages in chats.items():
        days: Counter[object] = Counter()
        for message in messages:
            ids = [p.prompt_id for p in presses_of(message) if isinstance(p, cb.PromptPress)]
            if PROMPT_TEXT not in (message.get("text") or "") or not ids:
                continue
            row = rows.get(ids[0])
            if row is None or row.user_id != user_id:
                problems.append(f"user {user_id}: prompt message {message['message_id']} has no prompt row")
                continue
            sent.setdefault(ids[0], []).append(message["message_id"])
            days[row.local_date] += 1
        problems += [f"user {user_id}: {n} prompt messages on {day}" for day, n in days.items() if n > 1]
    for row in db.prompts:
        shown = sent.get(row.id or 0, [])
        if row.status == "sent" and shown != [row.message_id]:
            problems.append(f"prompt {row.id} is sent as message {row.message_id}, the chat has {shown}")
        if row.status in NEVER_SENT and shown:
            problems.append(f"prompt {row.id} is {row.status}, the chat has {shown}")
    # A kill leaves prompts claimed or mid-request; the restarted clock resolves them at once.
    problems += [f"prompt {p.id} left {p.status}" for p in db.prompts if p.status in ("claimed", "sending")]
    days_sent = Counter((p.user_id, p.local_date) for p in db.prompts if p.status == "sent")
    problems += [f"user {u} has {n} prompts sent on {d}" for (u, d), n in days_sent.items() if n > 1]
    return problems


async def schedule_prompts(database_url: str, dues: dict[int, datetime]) -> None:
    """Daily prompts (in UTC) falling due at these moments, set straight in the database as /reminders would."""
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            for user_id, due in dues.items():
                prefs = await prompt_repo.preferences_of(s, user_id=user_id)
                prefs.reminders_on, prefs.reminder_time, prefs.timezone = True, f"{due:%H:%M}", "UTC"
                prefs.next_prompt_at, prefs.next_prompt_date = due, due.date()
    finally:
        await db.close()


async def resume_problem(person: Person, session: RoutineSession | None) -> str | None:
    """After the last restart /stretch offers the open session, and Continue shows where the database says it is."""
    await person.send("/stretch")
    if session is None:
        await person.expect("Choose a routine", timeout=20)
        return None
    offer = (await person.expect("You have a routine open", timeout=20))["message"]
    n = len(session.plan)
    where, shown = {
        Status.rating_before: ("about to begin", "how is your pain right now"),
        Status.rating_after: ("waiting for your pain rating", "How is your pain now"),
        Status.pain_check: ("after a high pain rating", "severe pain"),
    }.get(
        Status(session.status),
        (f"at step {session.current_step + 1} of {n}", f"Step {session.current_step + 1} of {n}"),
    )
    if where not in offer["text"]:
        return f"user {person.user_id}: offered {offer['text']!r}, the database says {where!r}"
    await person.press("Continue", offer)
    await person.expect_answer()
    try:
        await person.expect(shown, timeout=20)
    except TimeoutError:
        return f"user {person.user_id}: Continue did not show {shown!r}"
    return None


async def settle(bot: LimberProcess, person: Person, last_due: float) -> None:
    """Wait until the bot has worked off what was queued, and the prompt clock has seen every due prompt."""
    after = person.client.cursor
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = await person.client.events(after=after, timeout=1.0)
        if events:
            after = int(events[-1]["seq"])
        elif bot.up_for() > 2.5 and time.time() > last_due + 2.5:
            return


@dataclass
class CrashReport:
    kills: int = 0
    restarts: int = 0
    actions: int = 0
    unanswered: int = 0  # actions whose answer never came because the bot died; the person looked again
    acked_outcomes: int = 0
    acked_ratings: int = 0
    acked_stops: int = 0
    sessions: int = 0
    resumed: int = 0
    prompt_messages: int = 0
    prompt_statuses: Counter[str] = field(default_factory=Counter)
    prompts_lost: int = 0  # killed in "sending" before the request was made: recorded unknown, never sent
    exit_code: int | None = None
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)  # acknowledged, then lost
    duplicates: list[str] = field(default_factory=list)  # prompts sent twice, steps ended twice
    broken: list[str] = field(default_factory=list)  # sessions that do not resume, errors in the log

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicates or self.broken) and self.exit_code == 0

    def rows(self) -> list[tuple[str, object]]:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.prompt_statuses.items())) or "none"
        return [
            ("kills (SIGKILL)", self.kills),
            ("restarts", self.restarts),
            ("user actions", self.actions),
            ("actions unanswered (retried)", self.unanswered),
            ("acknowledged step outcomes checked", self.acked_outcomes),
            ("acknowledged ratings checked", self.acked_ratings),
            ("acknowledged stops checked", self.acked_stops),
            ("sessions", self.sessions),
            ("open sessions resumed", self.resumed),
            ("prompt messages", self.prompt_messages),
            ("prompt rows", statuses),
            ("prompts 'unknown' (killed mid-send), never requested", self.prompts_lost),
            ("exit code after SIGTERM", self.exit_code),
            ("missing", len(self.missing)),
            ("duplicates", len(self.duplicates)),
            ("other problems", len(self.broken)),
            ("seconds", round(self.seconds, 1)),
        ]


async def run_crash_scenario(
    workdir: Path,
    *,
    kills: int,
    users: int = 4,
    seed: int = SEED,
    database_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> CrashReport:
    """People run routines while the bot is SIGKILLed `kills` times; then everything is checked."""
    started = time.monotonic()
    database_url = database_url or f"sqlite:///{workdir / 'limber.db'}"
    rng = random.Random(seed)
    report = CrashReport()
    ledger = Ledger()
    async with emulator_process(workdir / "files") as api_url:
        bot = limber_process(api_url, database_url)
        people = [
            Stretcher(api_url, 7001 + i, random.Random(rng.random()), bot, ledger.presses, ledger.typed)
            for i in range(users)
        ]
        # People who only get daily prompts: more prompts, more kills that land in the middle of sending.
        passive = [Person(api_url, 8001 + i) for i in range(min(max(2 * kills, 8), 100))]
        observer = Person(api_url, 9999)
        drivers: list[asyncio.Task[None]] = []
        try:
            await bot.start()
            for person in [*(p.person for p in people), *passive]:
                await person.join()
            # Due at random moments over about the time the kills take (a restart takes ~3 s).
            window = 2.5 * kills
            now = datetime.now(UTC)
            prompted = [p.user_id for p in people[::2]] + [p.user_id for p in passive]
            dues = {u: now + timedelta(seconds=rng.uniform(1.0, window)) for u in prompted}
            await schedule_prompts(database_url, dues)

            stop = asyncio.Event()
            drivers = [asyncio.create_task(p.run(stop)) for p in people]
            for kill in range(kills):
                # Some kills land while the backlog queued during the restart is worked off, the
                # others around the prompt clock's first pass, one second after start-up.
                await asyncio.sleep((1.0 if rng.random() < 0.4 else 0.0) + rng.uniform(0.05, 0.6))
                await bot.kill()
                await bot.start()
                # Whatever was acknowledged before the kill survived it.
                await ledger.refresh(observer)
                report.missing += losses(ledger, await snapshot(database_url))
                if progress:
                    progress(f"kill {kill + 1}/{kills}: {len(ledger.outcomes)} step outcomes acknowledged so far")
            stop.set()
            await asyncio.gather(*drivers)
            await settle(bot, observer, max(dues.values()).timestamp())
            await ledger.refresh(observer)

            db = await snapshot(database_url)
            for p in people:
                open_ = [s for s in db.sessions.values() if s.user_id == p.user_id and s.status != Status.finished]
                problem = await resume_problem(p.person, open_[0] if open_ else None)
                report.resumed += bool(open_) and problem is None
                report.broken += [problem] if problem else []
            report.exit_code = await bot.terminate()
            # With the bot stopped, the chats and its requests are final.
            chats = {p.user_id: await p.messages() for p in [*(s.person for s in people), *passive]}
            requested = {
                int(c["params"]["chat_id"])
                for c in await observer.client.calls("sendMessage")
                if PROMPT_TEXT in str(c["params"].get("text"))
            }
        finally:
            for task in drivers:
                task.cancel()
            await asyncio.gather(*drivers, return_exceptions=True)
            if bot.running:
                await bot.kill()
            (workdir / "bot.log").write_text("".join(bot.log))
            for person in [*(s.person for s in people), *passive, observer]:
                await person.close()

    db = await snapshot(database_url)
    # Checked after every restart and at the end: each loss once.
    report.missing = list(dict.fromkeys([*report.missing, *losses(ledger, db)]))
    for problem in inconsistencies(db):
        (report.duplicates if "two outcomes" in problem else report.broken).append(problem)
    report.duplicates += prompt_problems(db, chats)
    report.duplicates += doubled_ratings(ledger, db)
    report.broken += [f"log: {line.strip()}" for line in bot.log if " ERROR " in line or " CRITICAL " in line]
    report.broken += ["log: Traceback"] if any("Traceback" in line for line in bot.log) else []
    report.kills, report.restarts = bot.kills, bot.starts - 1
    report.actions = sum(p.actions for p in people)
    report.unanswered = sum(p.unanswered for p in people)
    report.acked_outcomes, report.acked_ratings = len(ledger.outcomes), len(ledger.ratings) + ledger.noted.total()
    report.acked_stops, report.sessions = len(ledger.stops), len(db.sessions)
    report.prompt_statuses = Counter(p.status for p in db.prompts)
    report.prompts_lost = sum(1 for p in db.prompts if p.status == "unknown" and p.user_id not in requested)
    report.prompt_messages = sum(
        1 for messages in chats.values() for m in messages if PROMPT_TEXT in (m.get("text") or "")
    )
    report.seconds = time.monotonic() - started
    return report
