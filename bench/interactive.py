"""Benchmark scenario 1, interactive load: simulated users run whole routines against Limber and a floor bot.

    python -m bench.interactive [--users 50] [--rounds 3] [--think 0] [--database-url URL]
                                [--latency-ms 80 --jitter-ms 10] [--floors replay,concurrent] [--flood 300]

Every user runs one whole routine in a closed loop (/stretch <area>, the rating before, every step
with Done / Skip / This hurts, the rating after, the summary), waiting for the bot's answer to each
action before taking the next. Everything goes over real HTTP on 127.0.0.1 through the Bot API
emulator, which runs in a process of its own; each bot runs as a process of its own too, one at a
time, long polling the emulator:

- Limber: `python -m bot.main run` (what `limber run` runs), LOG_LEVEL=WARNING, a SQLite file (or a
  fresh PostgreSQL database created on the server of --database-url, dropped afterwards). One
  database serves all of Limber's rounds, so it grows as a real one does (each round adds its users).
- the floor: `python -m bench.floor`, a bare python-telegram-bot Application built and polled as
  Limber's is, which answers each update with the Bot API calls Limber made for the same update of the
  same user in a first, unmeasured recording round (same methods, texts, parse_mode, reply_markup;
  chat, message and callback query ids translated), with no logic and no storage.

After the recording round come --rounds measured rounds of each bot, alternating in ABBA order
(Limber, floor, floor, Limber, ...) so slow drift on a shared machine hits both alike. Every round
has fresh user ids, a freshly started bot, one unmeasured user running a routine alone first (so
start-up costs are not measured), then --users users at once; user n makes the same choices in every
round (seeded), and as the floor replays Limber, both bots see identical scripts.

Latency runs from the moment the benchmark sends the user's action to the emulator (stamped just
before the HTTP request) to the emulator's own timestamp of the bot's Bot API call that carried the
answer the user waited for: the message with the next buttons, or the summary. The emulator's events
carry no timestamp but its call log does, so the answer is timed emulator-side and the action
client-side, both on the machine's wall clock; one shared reader follows the event stream for all
users. Throughput is the measured updates over the time from a round's first action to its last answer.

The emulator is never reset: Limber drops an update_id it has handled before, so ids keep rising
across rounds. The bots' call counts and calls that differ from the recording (method, text,
parse_mode, buttons) are reported per round, as a check that both bots did the same work.
--keep DIR keeps the logs, the database and the floor's script; --profile DIR samples Limber's
measured rounds with py-spy (threads holding the GIL) and prints where the time went.

Two floors: `floor` replays as above, one update at a time as PTB does by default; `cfloor` is the
same replaying bot handling different chats at once, each chat in order (`bench.floor --concurrent`),
the best a PTB bot can do at a real round trip. --latency-ms / --jitter-ms make the emulator delay
every Bot API answer (a network round trip). --flood N is the flood scenario instead of the floors:
Limber's rounds alternate between the users alone and the users while one more person sends N
messages as fast as the emulator takes them; the users' p95 under the flood is compared with their
p95 without it. The recording round runs Limber through bench._sqlcount, which counts SQL
statements and transactions per update type; they are printed and kept in the JSON.

Prints a table (per bot and per round) and writes JSON (default bench/results/interactive.json) with
machine facts, parameters, per-round figures and latency samples. Targets (issue 13): with a round
trip (--latency-ms > 0), Limber's throughput at 0.8 or more of the concurrent floor's and its p95 at
most 1.5 times the concurrent floor's; on loopback, throughput at 0.65 or more of the replaying
floor's; in the flood, the users' p95 at most 2 times their p95 without it.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import aiohttp

from bench._shared import EmulatorProcess, proc_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
JSON = dict[str, Any]
TOKEN = "424242:BENCH-interactive-abcdefghijklmnopqrstuv"
# User ids are <round tag> * SLOT_MODULUS + <slot>: fresh per round, and the floor finds the slot.
SLOT_MODULUS = 1_000_000
STEP_CHOICES = (("Done", 70), ("Skip", 15), ("This hurts", 15))
MAX_ACTIONS = 60  # a routine that does not end by then is a bug in the script or the bot
TARGET_THROUGHPUT = 0.8  # Limber / concurrent floor updates per second, at least (with a round trip)
TARGET_P95 = 1.5  # Limber p95 / concurrent floor p95, at most (with a round trip)
TARGET_LOOPBACK = 0.65  # Limber / replaying floor updates per second, at least (loopback)
TARGET_FLOOD = 2.0  # the users' p95 with a flood / without, at most
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "interactive.json"
FLOORS = {"replay": "floor", "concurrent": "cfloor"}
FLOOD_TEXTS = ("hello", "hello??", "are you there", "hellooo", "answer me", "?", "anyone", "hey")
T = TypeVar("T")


# --- the emulator's user API --------------------------------------------------------------------


@dataclass(slots=True)
class Stamp:
    """A user action as the emulator took it, with the client's clock around the request."""

    result: JSON
    sent: float  # time.time() just before the request
    acknowledged: float  # time.time() once the emulator answered
    event_seq: int  # the emulator's last event seq when it took the action


class UserApi:
    """The emulator's /_emu API over one aiohttp session (documented in emulator/README.md)."""

    def __init__(self, base_url: str, token: str, connections: int) -> None:
        self.base = f"{base_url.rstrip('/')}/_emu/bot{token}"
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, action: str, payload: JSON | None = None, *, wait: float = 0.0) -> JSON:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections))
        timeout = aiohttp.ClientTimeout(total=wait + 60)
        async with self._session.post(f"{self.base}/{action}", json=payload or {}, timeout=timeout) as response:
            body: JSON = await response.json(content_type=None)
        if not body.get("ok"):
            raise RuntimeError(f"emulator refused {action} {payload}: {body.get('error')}")
        return body

    async def act(self, action: str, payload: JSON) -> Stamp:
        sent = time.time()
        body = await self.post(action, payload)
        return Stamp(body["result"], sent, time.time(), int(body["event_seq"]))

    async def calls(self, method: str | None = None) -> list[JSON]:
        body = await self.post("calls", {"method": method} if method else {})
        return list(body["result"])


class EventHub:
    """One reader of the emulator's event stream for every user, instead of one long poll each."""

    def __init__(self, api: UserApi, after: int) -> None:
        self.api = api
        self.cursor = after
        self.events: list[JSON] = []
        self.queues: dict[int, asyncio.Queue[JSON]] = {}

    def subscribe(self, chat_id: int) -> asyncio.Queue[JSON]:
        return self.queues.setdefault(chat_id, asyncio.Queue())

    async def run(self) -> None:
        while True:
            body = await self.api.post("events", {"after": self.cursor, "timeout": 5.0}, wait=5.0)
            seen = time.time()
            for event in body["result"]:
                event["seen"] = seen
                self.cursor = max(self.cursor, int(event["seq"]))
                self.events.append(event)
                queue = self.queues.get(event.get("chat_id") or 0)
                if queue is not None:
                    queue.put_nowait(event)


# --- one simulated user -------------------------------------------------------------------------


@dataclass(slots=True)
class Action:
    """One user action and the answer it got."""

    slot: int
    index: int
    kind: str  # "send" or "press"
    what: str  # the text sent or the button label pressed
    sent: float
    acknowledged: float
    event_seq: int
    query_id: str | None = None
    answer_seq: int = 0
    answer_seen: float = 0.0  # when the shared reader saw the answer (client clock)
    answer_time: float = 0.0  # when the bot's answering call reached the emulator (emulator clock)

    @property
    def latency(self) -> float:
        return self.answer_time - self.sent


def _keyboard(message: JSON) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def _is_answer(event: JSON, after: int) -> bool:
    """The bot's answer a user waits for: a new message or edit carrying buttons (the summary has some)."""
    return int(event["seq"]) > after and event["type"] in ("message", "edit") and bool(_keyboard(event["message"]))


async def _wait_answer(queue: asyncio.Queue[JSON], after: int, patience: float) -> JSON:
    async with asyncio.timeout(patience):
        while True:
            event = await queue.get()
            if _is_answer(event, after):
                return event


def _choose(labels: list[str], rng: random.Random) -> str:
    """What the user taps: a rating on a rating keyboard, Done / Skip / This hurts on a step, going gently."""
    if "10" in labels:
        return str(rng.randint(0, 10))
    gentle = [label for label in labels if label.startswith("🌿")]
    if gentle:  # the pain check after a rating of 8 or more: go on with the gentle routine
        return gentle[0]
    words = [word for word, _ in STEP_CHOICES]
    if any("Done" in label for label in labels):
        word = rng.choices(words, weights=[weight for _, weight in STEP_CHOICES])[0]
        return next(label for label in labels if word in label)
    raise RuntimeError(f"unexpected keyboard: {labels}")


async def run_user(
    api: UserApi, hub: EventHub, user_id: int, *, routine: str, seed: int, think: float, patience: float
) -> list[Action]:
    """One whole routine, each action taken once the answer to the previous one arrived."""
    slot = user_id % SLOT_MODULUS
    rng = random.Random(f"{seed}:{slot}")
    queue = hub.subscribe(user_id)
    text = f"/stretch {routine}"
    stamp = await api.act("send", {"user_id": user_id, "text": text, "first_name": "Bench"})
    actions = [Action(slot, 0, "send", text, stamp.sent, stamp.acknowledged, stamp.event_seq)]
    while True:
        action = actions[-1]
        try:
            answer = await _wait_answer(queue, action.event_seq, patience)
        except TimeoutError:
            raise RuntimeError(f"user {user_id}: no answer to {action.what!r} within {patience}s") from None
        action.answer_seq, action.answer_seen = int(answer["seq"]), float(answer["seen"])
        message = answer["message"]
        if str(message.get("text", "")).startswith("Summary"):
            return actions
        if len(actions) >= MAX_ACTIONS:
            raise RuntimeError(f"user {user_id}: no summary after {MAX_ACTIONS} actions")
        if think > 0:
            await asyncio.sleep(think)
        label = _choose(_keyboard(message), rng)
        payload = {"user_id": user_id, "message_id": message["message_id"], "button": label, "button_is_label": True}
        stamp = await api.act("press", payload)
        query_id = str(stamp.result["callback_query"]["id"])
        actions.append(
            Action(slot, len(actions), "press", label, stamp.sent, stamp.acknowledged, stamp.event_seq, query_id)
        )


# --- bot processes ------------------------------------------------------------------------------


class BotProcess:
    """A bot in a process of its own; ready once it long-polls the emulator."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path, log: TextIO) -> None:
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )

    async def alongside(self, work: Awaitable[T]) -> T:
        """Await `work`, failing at once if the bot exits meanwhile."""
        assert self.proc is not None
        task = asyncio.ensure_future(work)
        exited = asyncio.ensure_future(self.proc.wait())
        try:
            await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise RuntimeError(f"{shlex.join(self.argv)} exited with {self.proc.returncode}; see {self.log.name}")
        return task.result()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def emulator_process(workdir: Path, latency_ms: float = 0.0, jitter_ms: float = 0.0) -> Any:
    """The emulator in its own process; yields (url, pid)."""
    emulator = EmulatorProcess(workdir / "files", latency_ms=latency_ms, jitter_ms=jitter_ms)
    try:
        yield await emulator.start(), emulator.pid
    finally:
        await emulator.stop()


@contextlib.asynccontextmanager
async def database(url: str | None, workdir: Path) -> Any:
    """A SQLite file in the work directory, or a new database on the PostgreSQL server of `url`."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite:///{workdir / 'limber.db'}"
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql")
    name = f"limber_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = admin.render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


# --- recording Limber for the floor -------------------------------------------------------------


def _chat_calls(calls: list[JSON], actions: list[Action], chat_id: int) -> list[JSON]:
    """The chat's Bot API calls in order: those naming it, and answers to its callback queries."""
    queries = {action.query_id for action in actions if action.query_id}
    return [
        call
        for call in calls
        if call["params"].get("chat_id") == chat_id or call["params"].get("callback_query_id") in queries
    ]


# Calls that send a message (whose id later edits of it use).
SENDS = ("sendMessage", "sendPhoto", "sendAnimation", "sendDocument")


def build_script(calls: list[JSON], events: list[JSON], users: dict[int, list[Action]]) -> JSON:
    """Per slot and update, the calls Limber made between that action and the user's next one."""
    messages: dict[int, list[JSON]] = {}
    for event in events:
        if event["type"] == "message" and event.get("chat_id"):
            messages.setdefault(int(event["chat_id"]), []).append(event)
    slots: dict[str, list[list[JSON]]] = {}
    for user_id, actions in users.items():
        boundaries = [action.event_seq for action in actions]
        recorded: list[list[JSON]] = [[] for _ in actions]
        chat_messages = messages.get(user_id, [])
        message_seqs = [int(event["seq"]) for event in chat_messages]
        for call in _chat_calls(calls, actions, user_id):
            index = bisect.bisect_left(boundaries, int(call["seq"])) - 1
            if index < 0:
                raise RuntimeError(f"call {call['seq']} for chat {user_id} came before any action")
            entry: JSON = {"method": call["method"], "params": call["params"]}
            if call.get("file"):
                entry["file"] = call["file"]
            if call["method"] in SENDS and call.get("ok"):
                position = bisect.bisect_right(message_seqs, int(call["seq"]))
                entry["message_id"] = chat_messages[position]["message"]["message_id"]
            recorded[index].append(entry)
        if not all(recorded):
            raise RuntimeError(f"user {user_id}: an update without any recorded Bot API call")
        slots[str(user_id % SLOT_MODULUS)] = recorded
    return {"slot_modulus": SLOT_MODULUS, "slots": slots}


# --- one round ----------------------------------------------------------------------------------


@dataclass
class Round:
    bot: str
    number: int  # 0: the recording round
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the measured phase
    client_latencies: list[float] = field(default_factory=list)  # action sent -> answer seen by the reader
    acknowledge: list[float] = field(default_factory=list)  # action request round trips
    differing_calls: int = 0  # calls not as recorded (method, text, parse_mode, buttons), missing or extra
    differing_examples: list[JSON] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> JSON:
        result: JSON = {
            "bot": self.bot,
            "round": self.number,
            "updates": self.updates,
            "seconds": round(self.seconds, 4),
            "updates_per_second": round(self.throughput, 2),
            **{f"{name}_ms": round(value * 1000, 2) for name, value in percentiles(self.latencies).items()},
            "client_side_p50_ms": round(quantile(self.client_latencies, 0.5) * 1000, 2),
            "client_side_p95_ms": round(quantile(self.client_latencies, 0.95) * 1000, 2),
            "action_request_p50_ms": round(quantile(self.acknowledge, 0.5) * 1000, 2),
            "bot_api_calls": self.calls,
            "calls_differing_from_recording": self.differing_calls,
            "differing_examples": self.differing_examples,
            "cpu_seconds": {name: round(value, 3) for name, value in self.cpu.items()},
            "cpu_ms_per_update": {
                name: round(value * 1000 / self.updates, 3) if self.updates else None
                for name, value in self.cpu.items()
            },
        }
        return result


@dataclass
class Bench:
    args: argparse.Namespace
    api: UserApi
    api_url: str
    emulator_pid: int
    workdir: Path
    database_url: str
    routines: list[str]
    script_path: Path
    recorded: dict[int, list[JSON]] = field(default_factory=dict)  # the recording's calls per slot
    profiles: list[Path] = field(default_factory=list)
    flood_sent: list[int] = field(default_factory=list)
    next_tag: int = 1

    def command(self, bot: str, *, record: bool = False) -> list[str]:
        if record:
            return [sys.executable, "-m", "bench._sqlcount"]
        if bot.startswith("limber"):
            return [sys.executable, "-m", "bot.main", "run"]
        concurrent = ["--concurrent"] if bot == "cfloor" else []
        return [sys.executable, "-m", "bench.floor", str(self.script_path), *concurrent]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.api_url,
            "DATABASE_URL": self.database_url,
            "LOG_LEVEL": "WARNING",
            "PTB_TIMEDELTA": "true",
            "LIMBER_SQL_COUNTS": str(self.workdir / "sql-counts.json"),
        }

    async def profiler(self, bot: str, number: int, pid: int) -> asyncio.subprocess.Process | None:
        """With --profile DIR: py-spy sampling Limber's measured phase (it costs CPU: figures suffer)."""
        if self.args.profile is None or not bot.startswith("limber") or number == 0:
            return None
        self.args.profile.mkdir(parents=True, exist_ok=True)
        output = self.args.profile / f"limber-round{number}.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [py_spy, "record", "--pid", str(pid), "--rate", "250", "--gil", "--format", "raw"]
        command += ["--output", str(output)]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await asyncio.sleep(0.5)  # attached before the users start
        self.profiles.append(output)
        return process

    async def last_seq(self) -> int:
        """The emulator's latest seq (calls and events share it): what a round's own records come after."""
        events = await self.api.post("events", {"after": 2**62})
        calls = await self.api.calls()
        return max([int(events["event_seq"])] + [int(call["seq"]) for call in calls])

    async def users(self, hub: EventHub, user_ids: list[int]) -> dict[int, list[Action]]:
        args = self.args
        runs = [
            run_user(
                self.api,
                hub,
                user_id,
                routine=self.routines[user_id % SLOT_MODULUS % len(self.routines)],
                seed=args.seed,
                think=args.think,
                patience=args.timeout,
            )
            for user_id in user_ids
        ]
        results = await asyncio.gather(*runs)
        return dict(zip(user_ids, results, strict=True))

    async def flood(self, user_id: int) -> int:
        """One person sends --flood messages as fast as the emulator takes them, waiting for no answer."""
        for n in range(self.args.flood):
            text = FLOOD_TEXTS[n % len(FLOOD_TEXTS)]
            await self.api.post("send", {"user_id": user_id, "text": text, "first_name": "Flood"})
        return int(self.args.flood)

    async def round(self, bot: str, number: int, *, record: bool = False) -> Round:
        """Start the bot, warm it with one user alone, then run every user at once; stop the bot."""
        args = self.args
        tag = self.next_tag
        self.next_tag += 1
        # Nothing is reset between rounds: Limber remembers handled update_ids, so they must keep rising.
        marker = await self.last_seq()
        hub = EventHub(self.api, marker)
        reader = asyncio.create_task(hub.run())
        log_path = self.workdir / f"{bot}-{tag}.log"
        with log_path.open("w", encoding="utf-8") as log:
            process = BotProcess(self.command(bot, record=record), self.env(), self.workdir, log)
            try:
                await process.start()
                # One user alone first: it waits while the bot starts, and warms the fresh process.
                prime = tag * SLOT_MODULUS + args.users
                primed = await process.alongside(self.users(hub, [prime]))
                user_ids = [tag * SLOT_MODULUS + slot for slot in range(args.users)]
                pids = {"bot": process.pid, "emulator": self.emulator_pid}
                cpu_before = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
                client_before = resource.getrusage(resource.RUSAGE_SELF)
                profiler = await self.profiler(bot, number, process.pid)
                flooder = None
                if bot == "limber+flood":
                    flooder = asyncio.create_task(self.flood(tag * SLOT_MODULUS + args.users + 1))
                measured = await process.alongside(self.users(hub, user_ids))
                if flooder is not None:
                    self.flood_sent.append(await flooder)
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    await profiler.wait()
                client_after = resource.getrusage(resource.RUSAGE_SELF)
                cpu = {name: proc_cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
                cpu["client"] = (client_after.ru_utime - client_before.ru_utime) + (
                    client_after.ru_stime - client_before.ru_stime
                )
            finally:
                await process.stop()
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        calls = [call for call in await self.api.calls() if int(call["seq"]) > marker]
        result = measure(bot, number, calls, measured)
        result.cpu = cpu
        if record:
            script = build_script(calls, hub.events, {**primed, **measured})
            self.script_path.write_text(json.dumps(script, ensure_ascii=False), encoding="utf-8")
            self.recorded = {
                int(slot): [call for update in updates for call in update] for slot, updates in script["slots"].items()
            }
        for user_id, actions in measured.items():
            recorded = self.recorded.get(user_id % SLOT_MODULUS, [])
            live = _chat_calls(calls, actions, user_id)
            for got, want in zip(live, recorded, strict=False):
                if _shape(got) != _shape(want):
                    result.differing_calls += 1
                    if len(result.differing_examples) < 3:
                        result.differing_examples.append(_difference(_shape(want), _shape(got)))
            result.differing_calls += abs(len(live) - len(recorded))
        return result


def _difference(recorded: tuple[Any, ...], live: tuple[Any, ...]) -> JSON:
    """Where a call differs from the recording, texts cut to the first differing stretch."""
    fields = ("method", "text", "parse_mode", "buttons")
    example: JSON = {}
    for name, want, got in zip(fields, recorded, live, strict=True):
        if want == got:
            continue
        if isinstance(want, str) and isinstance(got, str):
            start = next((i for i, (x, y) in enumerate(zip(want, got, strict=False)) if x != y), 0)
            want, got = want[max(start - 20, 0) : start + 40], got[max(start - 20, 0) : start + 40]
        example[name] = {"recorded": want, "live": got}
    return example


def _shape(call: JSON) -> tuple[Any, ...]:
    """What must match between a bot's call and the recording: method, text, parse mode, buttons."""
    params = call["params"]
    return (call["method"], params.get("text"), params.get("parse_mode"), _keyboard(params))


def measure(bot: str, number: int, calls: list[JSON], users: dict[int, list[Action]]) -> Round:
    """Time each answer by the emulator's log of the Bot API call that carried it."""
    result = Round(bot, number)
    methods: Counter[str] = Counter()
    first, last = float("inf"), 0.0
    for user_id, actions in users.items():
        chat_calls = _chat_calls(calls, actions, user_id)
        methods.update(call["method"] for call in chat_calls)
        seqs = [int(call["seq"]) for call in chat_calls]
        for action in actions:
            position = bisect.bisect_left(seqs, action.answer_seq) - 1
            if position < 0:
                raise RuntimeError(f"no Bot API call before answer event {action.answer_seq} in chat {user_id}")
            action.answer_time = float(chat_calls[position]["time"])
            result.latencies.append(action.latency)
            result.client_latencies.append(action.answer_seen - action.sent)
            result.acknowledge.append(action.acknowledged - action.sent)
            first, last = min(first, action.sent), max(last, action.answer_time)
    result.updates = len(result.latencies)
    result.seconds = last - first
    result.calls = dict(sorted(methods.items()))
    return result


# --- statistics and output ----------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": quantile(values, 0.5), "p95": quantile(values, 0.95), "p99": quantile(values, 0.99)}


def aggregate(rounds: list[Round]) -> JSON:
    latencies = [value for r in rounds for value in r.latencies]
    updates = sum(r.updates for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    cpu: Counter[str] = Counter()
    for r in rounds:
        cpu.update(r.cpu)
    return {
        "rounds": len(rounds),
        "updates": updates,
        "seconds": round(seconds, 4),
        "updates_per_second": round(updates / seconds, 2) if seconds else 0.0,
        **{f"{name}_ms": round(value * 1000, 2) for name, value in percentiles(latencies).items()},
        "cpu_ms_per_update": {name: round(value * 1000 / updates, 3) for name, value in cpu.items()},
    }


def machine() -> JSON:
    info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    models = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
    memory = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if "MemTotal" in line
        ),
        "",
    )
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    import telegram

    return {
        "cpu_model": models[0] if models else platform.processor(),
        "cpu_count": len(models) or os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_telegram_bot": telegram.__version__,
        "load_average_after": os.getloadavg(),
        "git_commit": commit.stdout.strip() or None,
    }


LIMBER_PACKAGES = ("bot", "storage", "content")
DATABASE_PACKAGES = ("sqlalchemy", "aiosqlite", "asyncpg", "greenlet", "storage (Limber)")


def _category(stack: str, packages: set[str]) -> str:
    """Which part of handling an update a sample belongs to (first match wins)."""
    if "Bot._post" in stack:
        return "Bot API calls (PTB Bot._post, httpx)"
    if packages & set(DATABASE_PACKAGES):
        return "database (SQLAlchemy, aiosqlite, storage/)"
    if "Updater" in stack or "get_updates" in stack:
        return "fetching updates (getUpdates, Update.de_json)"
    if any(package.endswith("(Limber)") for package in packages):
        return "Limber's own code (handlers, views, flow)"
    return "other (event loop, PTB dispatch)"


def _frame(frame: str) -> tuple[str, str]:
    """py-spy's "function (path:line)" -> (function (path), the package it is in, e.g. "sqlalchemy")."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    package = path.split("/", 1)[0].removesuffix(".py") if "/" in path else path.removesuffix(".py")
    if package in LIMBER_PACKAGES:
        package = f"{package} (Limber)"
    return f"{name} ({path})", package


def print_profile(paths: list[Path], limit: int = 15) -> None:
    """Where Limber's time went (threads holding the GIL): by package, and Limber functions by inclusive samples.

    SQLAlchemy's async layer runs statements in greenlets, whose samples lack the calling handler,
    so the Limber functions' shares leave out most database time.
    """
    by_package: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = [_frame(frame) for frame in stack.split(";") if " (" in frame]
            if not frames:
                continue
            by_package[frames[-1][1]] += count
            by_category[_category(stack, {package for _, package in frames})] += count
            for name in {name for name, package in frames if package.endswith("(Limber)")}:
                inclusive[name] += count
    if not total:
        print("profile: no samples")
        return
    print(f"profile of Limber's measured rounds ({total} samples holding the GIL, 250/s; {', '.join(map(str, paths))})")
    print("samples by part:")
    for category, count in by_category.most_common():
        print(f"  {count / total:6.1%}  {category}")
    print("samples by the package of the innermost frame:")
    for package, count in by_package.most_common(limit):
        print(f"  {count / total:6.1%}  {package}")
    print("Limber functions by inclusive samples:")
    for name, count in inclusive.most_common(limit):
        print(f"  {count / total:6.1%}  {name}")


def print_table(results: JSON, rounds: list[Round], bots: tuple[str, ...]) -> None:
    header = f"{'bot':<13}{'rounds':>7}{'updates':>9}{'updates/s':>11}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    header += f"{'bot CPU ms/upd':>16}"
    print(header)
    for bot in bots:
        row = results[bot]
        print(
            f"{bot:<13}{row['rounds']:>7}{row['updates']:>9}{row['updates_per_second']:>11.1f}"
            f"{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"{row['cpu_ms_per_update'].get('bot', 0.0):>16.2f}"
        )
    print()
    print("per round (measured; round 0 is Limber's unmeasured recording round):")
    print(
        f"{'round':>5}  {'bot':<13}{'updates':>8}{'updates/s':>11}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'API calls':>11}{'not as recorded':>17}"
    )
    for r in rounds:
        p = percentiles(r.latencies)
        print(
            f"{r.number:>5}  {r.bot:<13}{r.updates:>8}{r.throughput:>11.1f}"
            f"{p['p50'] * 1000:>9.1f}{p['p95'] * 1000:>9.1f}{p['p99'] * 1000:>9.1f}"
            f"{sum(r.calls.values()):>11}{r.differing_calls:>17}"
        )


def bots_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The bots whose rounds alternate: Limber and the floors, or Limber with and without the flood."""
    if args.flood:
        return ("limber", "limber+flood")
    return ("limber", *(FLOORS[name] for name in args.floors))


def ratios(results: JSON, args: argparse.Namespace) -> tuple[JSON, JSON, JSON]:
    """The ratios of one run, the targets they are held to, and which are met."""
    limber = results["limber"]
    found: JSON = {}
    targets: JSON = {}
    passed: JSON = {}
    if args.flood:
        flooded = results["limber+flood"]
        found["p95_flooded_over_unflooded"] = round(flooded["p95_ms"] / limber["p95_ms"], 3)
        targets["p95_flooded_over_unflooded_at_most"] = TARGET_FLOOD
        passed["flood_p95"] = found["p95_flooded_over_unflooded"] <= TARGET_FLOOD
        return found, targets, passed
    for floor in ("floor", "cfloor"):
        if floor in results:
            found[f"throughput_limber_over_{floor}"] = round(
                limber["updates_per_second"] / results[floor]["updates_per_second"], 3
            )
            found[f"p95_limber_over_{floor}"] = round(limber["p95_ms"] / results[floor]["p95_ms"], 3)
    if args.latency_ms > 0 and "cfloor" in results:
        targets["throughput_over_cfloor_at_least"] = TARGET_THROUGHPUT
        targets["p95_over_cfloor_at_most"] = TARGET_P95
        passed["throughput"] = found["throughput_limber_over_cfloor"] >= TARGET_THROUGHPUT
        passed["p95"] = found["p95_limber_over_cfloor"] <= TARGET_P95
    if args.latency_ms == 0 and "floor" in results:
        targets["throughput_over_floor_at_least"] = TARGET_LOOPBACK
        passed["throughput_loopback"] = found["throughput_limber_over_floor"] >= TARGET_LOOPBACK
    return found, targets, passed


def print_sql_counts(counts: JSON) -> None:
    print("SQL per update type (the recording round, counted by SQLAlchemy engine events; bench/_sqlcount.py):")
    print(f"  {'update':<26}{'updates':>8}{'statements':>12}{'transactions':>14}")
    for kind, row in counts.items():
        print(
            f"  {kind:<26}{row['updates']:>8}{row['statements_per_update']:>12.2f}{row['transactions_per_update']:>14.2f}"
        )


async def run(args: argparse.Namespace) -> JSON:
    from content import load_library

    routines = sorted(load_library().routines)
    bots = bots_of(args)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="limber-interactive-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise SystemExit(f"{workdir} is not empty: the database must start empty")
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    rounds: list[Round] = []
    async with (
        emulator_process(workdir, args.latency_ms, args.jitter_ms) as (api_url, emulator_pid),
        database(args.database_url, workdir) as database_url,
    ):
        api = UserApi(api_url, TOKEN, connections=args.users + 16)
        bench = Bench(args, api, api_url, emulator_pid, workdir, database_url, routines, workdir / "script.json")
        try:
            print(f"recording Limber's calls ({args.users} users) ...", flush=True)
            recording = await bench.round("limber", 0, record=True)
            order = [bot for pair in range(args.rounds) for bot in (bots if pair % 2 == 0 else bots[::-1])]
            for index, bot in enumerate(order):
                number = index // len(bots) + 1
                result = await bench.round(bot, number)
                print(
                    f"round {number} {bot:<12} {result.updates} updates, {result.throughput:.1f}/s, "
                    f"p95 {quantile(result.latencies, 0.95) * 1000:.1f} ms",
                    flush=True,
                )
                rounds.append(result)
        finally:
            await api.close()
    counts_path = workdir / "sql-counts.json"
    sql_counts = json.loads(counts_path.read_text(encoding="utf-8")) if counts_path.is_file() else {}
    results = {bot: aggregate([r for r in rounds if r.bot == bot]) for bot in bots}
    found, targets, passed = ratios(results, args)
    report: JSON = {
        "scenario": "interactive (flood)" if args.flood else "interactive",
        "command": shlex.join(["python", "-m", "bench.interactive", *sys.argv[1:]]),
        "argv": sys.argv,
        "date": started.isoformat(timespec="seconds"),
        "wall_seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": {**machine(), "load_average_before": load_before},
        "parameters": {
            "users": args.users,
            "rounds_per_bot": args.rounds,
            "think_seconds": args.think,
            "seed": args.seed,
            "answer_timeout_seconds": args.timeout,
            "latency_ms": args.latency_ms,
            "jitter_ms": args.jitter_ms,
            "flood_messages": args.flood,
            "routines": routines,
            "step_choices": dict(STEP_CHOICES),
            "database": "postgresql (fresh database)" if database_url.startswith("postgres") else "sqlite file",
            "database_shared_by_limber_rounds": True,
            "order": "recording round (Limber), then ABBA: " + ", ".join(r.bot for r in rounds),
        },
        "method": {
            "latency": "action sent (client clock, just before the HTTP request to the emulator) to the emulator's "
            "timestamp of the bot's Bot API call carrying the awaited answer; events carry no timestamp, so "
            "one shared client-side reader finds the answer event and the emulator's call log times it",
            "throughput": "measured updates / (last answer - first action) per round; aggregate: sums over rounds",
            "floor": "bench/floor.py replays Limber's recorded calls per update (round 0), ids translated; "
            "cfloor: the same with different chats at once, each chat in order",
            "round_trip": "the emulator delays every Bot API answer by latency_ms plus up to jitter_ms",
        },
        "results": results,
        "ratios": found,
        "targets": targets,
        "pass": passed,
        "sql_per_update_type": sql_counts,
        "flood_sent": bench.flood_sent,
        "recording_round": recording.summary(),
        "rounds": [{**r.summary(), "latencies_ms": [round(v * 1000, 3) for v in r.latencies]} for r in rounds],
        "workdir": str(workdir) if args.keep else None,
    }
    print()
    print_table(results, rounds, bots)
    print()
    for name, value in found.items():
        print(f"{name}: {value:.3f}")
    for name, ok in passed.items():
        print(f"target {name}: {'PASS' if ok else 'MISS'} ({targets})")
    print(
        "latency: action stamped by this client before its request; answer stamped by the emulator's call log "
        "(events carry no timestamp); one shared event reader"
    )
    if sql_counts:
        print()
        print_sql_counts(sql_counts)
    if bench.profiles:
        print()
        print_profile([path for path in bench.profiles if path.exists()])
        report["profiles"] = [str(path) for path in bench.profiles]
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interactive", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="users running routines at once (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per bot, alternating (default 3)")
    parser.add_argument("--think", type=float, default=0.0, help="seconds a user waits before acting (default 0)")
    parser.add_argument("--seed", type=int, default=20261121, help="seed of the users' choices")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a user waits for an answer")
    parser.add_argument("--database-url", help="default: a SQLite file; postgresql://host/db: a fresh database there")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="round trip added to every Bot API answer")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="plus up to this much, at random")
    parser.add_argument(
        "--floors",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=["replay", "concurrent"],
        help="floors to compare with: replay (one update at a time), concurrent (chats at once); default both",
    )
    parser.add_argument(
        "--flood", type=int, default=0, help="the flood scenario: one more person sends this many messages"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument("--keep", type=Path, help="keep bot logs, the database and the floor's script here")
    parser.add_argument(
        "--profile", type=Path, help="sample Limber's measured rounds with py-spy into this directory (slows it)"
    )
    args = parser.parse_args(argv)
    if any(name not in FLOORS for name in args.floors):
        parser.error(f"--floors takes {', '.join(FLOORS)}")
    report = asyncio.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
