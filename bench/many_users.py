"""Many-users benchmark: start-up, memory, scheduler pass cost and event-loop lag with a large population.

    python -m bench.many_users [--people 100000] [--days 30] [--due 2000] [--cost-due 1000] [--tappers 20]
                               [--database-url URL]

Everyone has daily prompts scheduled (their next reminder time at least three hours ahead, so none
come due by themselves) and `--days` days of history (see bench/_seed.py). The bot runs as
bench._probe: `limber run` exactly as deployed, plus instrumentation (event-loop lag sampler, prompt
pass timings); it long-polls the Bot API emulator, each in a process of its own, over HTTP on
127.0.0.1. Phases: start-up; idle passes (100,000 scheduled, none due); a fan-out of `--cost-due`
people alone (cost per due prompt); a fan-out of `--due` people while `--tappers` people run /stretch
routines and tap buttons (event-loop lag). Prints a table and writes bench/results/many_users.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._seed import BenchDb, SeedSpec, describe_seed, person_ids, prepared_database, set_schedules
from bench._shared import (
    JSON,
    TOKEN,
    EmulatorProcess,
    LimberProcess,
    Row,
    api_calls,
    bot_env,
    machine_facts,
    open_chats,
    print_table,
    proc_cpu_seconds,
    progress,
    summary,
    verdict,
    write_result,
)
from bot import callbacks as cb
from bot.coaching.session import StepAction
from emulator import EmulatorClient

AREAS = ("hips", "glutes", "core", "hamstrings", "quick")
STEP_CHOICES: dict[StepAction, int] = {
    StepAction.done: 70,
    StepAction.skip: 15,
    StepAction.hurt: 6,
    StepAction.timer: 6,
    StepAction.stop: 3,
}
PROMPT_TEXT = "Time for today's stretch"


# --- reading the probe's record -------------------------------------------------------------------


class Probe:
    """The JSON lines bench._probe writes: ready, lag (once a second), pass (after each prompt pass)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[JSON] = []
        self._offset = 0

    def refresh(self) -> None:
        if not self.path.exists():
            return
        with self.path.open() as f:
            f.seek(self._offset)
            while True:
                line = f.readline()
                if not line.endswith("\n"):
                    break
                self._offset = f.tell()
                self.events.append(json.loads(line))

    def of(self, kind: str, since: float = 0.0) -> list[JSON]:
        self.refresh()
        return [e for e in self.events if e["event"] == kind and e["t"] >= since]

    def lags(self, start: float, end: float) -> list[float]:
        """Lag samples (ms) from the seconds whose record fell inside [start, end + 1)."""
        return [s for e in self.of("lag", start) if e["t"] < end + 1.0 for s in e["samples"]]

    async def passes_until(self, since: float, done: Callable[[list[JSON]], bool], within_s: float) -> list[JSON]:
        deadline = time.monotonic() + within_s
        while True:
            passes = self.of("pass", since)
            if done(passes):
                return passes
            if time.monotonic() > deadline:
                raise TimeoutError(f"prompt passes did not finish in {within_s:.0f} s: {passes[-3:]}")
            await asyncio.sleep(0.2)


# --- people tapping through routines ------------------------------------------------------------


class EventHub:
    """One long poll of the emulator's events, handed to whoever waits on a chat (instead of one poll per
    person, which would add hundreds of requests a second to the machine being measured)."""

    def __init__(self, api_url: str) -> None:
        self.client = EmulatorClient(api_url, TOKEN)
        self.cursor = 0
        self.recent: dict[int, list[JSON]] = {}
        self.waiters: dict[int, list[tuple[int, Callable[[JSON], bool], asyncio.Future[JSON]]]] = {}

    async def run(self) -> None:
        while True:
            events = await self.client.events(after=self.cursor, timeout=5)
            for event in events:
                self.cursor = max(self.cursor, int(event["seq"]))
                chat = event.get("chat_id")
                if chat not in self.waiters and chat not in self.recent:
                    continue
                kept = self.recent.setdefault(chat, [])
                kept.append(event)
                del kept[:-30]
                for waiter in list(self.waiters.get(chat, [])):
                    after, match, future = waiter
                    if not future.done() and event["seq"] > after and match(event):
                        future.set_result(event)

    def watch(self, chat_id: int) -> None:
        self.recent.setdefault(chat_id, [])

    async def wait(self, chat_id: int, after: int, match: Callable[[JSON], bool], within_s: float) -> JSON | None:
        for event in self.recent.get(chat_id, []):
            if event["seq"] > after and match(event):
                return event
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        entry = (after, match, future)
        self.waiters.setdefault(chat_id, []).append(entry)
        try:
            return await asyncio.wait_for(future, within_s)
        except TimeoutError:
            return None
        finally:
            self.waiters[chat_id].remove(entry)


def session_buttons(message: JSON) -> list[tuple[int, cb.Press]]:
    buttons = [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
    found: list[tuple[int, cb.Press]] = []
    for index, button in enumerate(buttons):
        press = cb.parse(button.get("callback_data"))
        if isinstance(press, cb.StepPress | cb.RatePress | cb.ContinuePress):
            found.append((index, press))
    return found


class Tapper:
    """Someone doing routines: /stretch <area>, a rating, then Done/Skip/This hurts/timer, at a human pace."""

    def __init__(self, api_url: str, hub: EventHub, user_id: int, rng: random.Random) -> None:
        self.client = EmulatorClient(api_url, TOKEN)
        self.hub = hub
        self.user_id = user_id
        self.rng = rng
        self.latencies: list[float] = []  # action -> the bot's first answer (ms)
        self.unanswered = 0
        self.actions = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.hub.watch(self.user_id)
        try:
            while not stop.is_set():
                await self.act()
                self.actions += 1
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.rng.uniform(0.4, 0.8))
        finally:
            await self.client.close()

    async def act(self) -> None:
        message = None
        for candidate in reversed(await self.client.messages(self.user_id)):
            if session_buttons(candidate):
                message = candidate
                break
        if message is None:
            started = time.monotonic()
            await self.client.send(self.user_id, f"/stretch {self.rng.choice(AREAS)}")
            reply = await self.hub.wait(self.user_id, self.client.cursor, self._reply, 15)
            self._record(started, reply)
            return
        buttons = session_buttons(message)
        first = buttons[0][1]
        if isinstance(first, cb.ContinuePress):
            index = next(i for i, p in buttons if isinstance(p, cb.ContinuePress) and not p.stop)
        elif isinstance(first, cb.RatePress):
            value = self.rng.randint(0, 10)
            index = next((i for i, p in buttons if isinstance(p, cb.RatePress) and p.value == value), buttons[0][0])
        else:
            offered = {p.action: i for i, p in buttons if isinstance(p, cb.StepPress)}
            choices = [a for a in STEP_CHOICES if a in offered]
            action = self.rng.choices(choices, weights=[STEP_CHOICES[a] for a in choices])[0]
            index = offered[action]
        started = time.monotonic()
        update = await self.client.press(self.user_id, message["message_id"], button=index)
        query_id = update["callback_query"]["id"]
        after = self.client.cursor
        answer = await self.hub.wait(
            self.user_id,
            after,
            lambda e: e["type"] == "callback_answer" and e.get("callback_query_id") == query_id,
            15,
        )
        self._record(started, answer)
        # The next step, rating or summary (or the edit that takes the buttons away), before acting again.
        await self.hub.wait(self.user_id, after, self._reply, 5)

    @staticmethod
    def _reply(event: JSON) -> bool:
        if event["type"] not in ("message", "edit"):
            return False
        return PROMPT_TEXT not in ((event.get("message") or {}).get("text") or "")

    def _record(self, started: float, answer: JSON | None) -> None:
        if answer is None:
            self.unanswered += 1
        else:
            self.latencies.append((time.monotonic() - started) * 1000)


# --- the run --------------------------------------------------------------------------------------


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


async def fan_out(db: BenchDb, probe: Probe, group: list[int], within_s: float) -> tuple[list[JSON], float]:
    """Make the group due this minute and wait for the passes that send them; (those passes, when due)."""
    now = datetime.now(UTC)
    marked = time.time()
    await set_schedules(db, group, due=floor_minute(now))
    passes = await probe.passes_until(
        marked, lambda ps: sum(p["report"]["sent"] + p["report"]["failed"] for p in ps) >= len(group), within_s
    )
    return [p for p in passes if p["report"]["scheduled"] or p["report"]["sent"]], marked


async def run(args: argparse.Namespace, argv: list[str]) -> int:
    facts = machine_facts("bench.many_users", argv)
    workdir = Path(tempfile.mkdtemp(prefix="limber-many-"))
    spec = SeedSpec(people=args.people, days=args.days, seed=args.seed)
    rng = random.Random(args.seed + 1)
    everyone = list(person_ids(args.people))
    chosen = rng.sample(everyone, args.tappers + args.cost_due + args.due)
    tappers, cost_group, lag_group = (
        chosen[: args.tappers],
        chosen[args.tappers : args.tappers + args.cost_due],
        chosen[args.tappers + args.cost_due :],
    )
    progress(f"preparing {args.people:,} people with {args.days} days of history")
    emulator = EmulatorProcess(workdir / "files")
    bot: LimberProcess | None = None
    out: JSON = {}
    async with prepared_database(args.database_url, spec, workdir, keep=args.keep) as prepared:
        seeded = describe_seed(spec, prepared)
        progress(seeded)
        db = await BenchDb(prepared.url).open()
        try:
            scheduled = await set_schedules(db, None, after=datetime.now(UTC) + timedelta(hours=3))
            progress(f"{scheduled:,} schedules set (next prompts 3-27 h ahead)")
            api_url = await emulator.start()
            chats_s = await open_chats(api_url, [*tappers, *cost_group, *lag_group])
            progress(f"emulator at {api_url}; {len(chosen):,} chats open in {chats_s:.1f} s")
            probe = Probe(workdir / "probe.jsonl")
            env = bot_env(api_url, prepared.url, LIMBER_PROBE_OUT=str(probe.path))
            bot = LimberProcess(env, module="bench._probe", args=[], log_path=workdir / "bot.log")
            await bot.start()
            out["startup"] = await startup_figures(bot, probe, api_url)
            out["memory_after_start"] = bot.memory()
            progress(f"bot ready: {out['startup']}")

            # Idle: everyone scheduled, nobody due.
            ready_t = bot.ready_at
            idle = await probe.passes_until(ready_t, lambda ps: len(ps) >= args.idle_passes + 1, 120)
            idle = idle[1:]  # the first pass after start-up warms caches
            out["idle"] = {
                "passes": len(idle),
                "wall_ms": summary([p["wall_s"] * 1000 for p in idle]),
                "cpu_ms": summary([p["cpu_s"] * 1000 for p in idle]),
                "lag_ms": summary(probe.lags(idle[0]["start"], idle[-1]["t"])),
                "memory": bot.memory(),
            }
            idle_cpu_rate = cpu_rate(probe, idle[0]["start"], idle[-1]["t"])
            out["idle"]["process_cpu_share"] = round(idle_cpu_rate, 4)
            progress(f"idle passes: {out['idle']['wall_ms']}")

            # Cost: a fan-out alone.
            progress(f"fan-out of {len(cost_group):,} (cost per due prompt)")
            passes, marked = await fan_out(db, probe, cost_group, len(cost_group) / 10 + 120)
            out["cost"] = pass_costs(passes, len(cost_group), idle_cpu_rate)
            out["cost"]["lag_ms"] = summary(probe.lags(marked, passes[-1]["t"]))
            out["cost"]["memory"] = bot.memory()
            progress(f"cost: {out['cost']}")

            # Lag: a fan-out while people tap through routines.
            hub = EventHub(api_url)
            hub_task = asyncio.create_task(hub.run())
            stop = asyncio.Event()
            people = [Tapper(api_url, hub, uid, random.Random(args.seed + uid)) for uid in tappers]
            tapping = [asyncio.create_task(p.run(stop)) for p in people]
            await asyncio.sleep(args.warmup)
            progress(f"{len(people)} people tapping; fan-out of {len(lag_group):,}")
            bot_cpu0, emulator_cpu0 = bot.cpu_seconds(), proc_cpu_seconds(emulator.pid)
            passes, marked = await fan_out(db, probe, lag_group, len(lag_group) / 10 + 120)
            bot_cpu = bot.cpu_seconds() - bot_cpu0
            stop.set()
            await asyncio.gather(*tapping, return_exceptions=True)
            hub_task.cancel()
            with suppress(asyncio.CancelledError):
                await hub_task
            await hub.client.close()
            window = (passes[0]["start"], passes[-1]["t"])
            lags = probe.lags(*window)
            latencies = [x for p in people for x in p.latencies]
            sends = [c["time"] for c in await api_calls(api_url, "sendMessage") if c["ok"]]
            in_window = [t for t in sends if window[0] <= t <= window[1]]
            out["lag_phase"] = {
                "due": len(lag_group),
                "tappers": len(people),
                "window_s": round(window[1] - window[0], 1),
                "lag_ms": summary(lags),
                "lag_over_20ms": sum(1 for x in lags if x > 20),
                "tapper_actions": sum(p.actions for p in people),
                "tapper_answer_ms": summary(latencies, 1),
                "tapper_unanswered": sum(p.unanswered for p in people),
                "bot_cpu_s": round(bot_cpu, 1),
                "emulator_cpu_s": round(proc_cpu_seconds(emulator.pid) - emulator_cpu0, 1),
                "all_sends_per_s": round(len(in_window) / max(1e-9, window[1] - window[0]), 1),
                "pass": pass_costs(passes, len(lag_group), idle_cpu_rate),
                "memory": bot.memory(),
            }
            progress(f"lag phase: {out['lag_phase']['lag_ms']}")
            out["memory_end"] = bot.memory()
            out["rss_series_max_mb"] = max((e.get("vmrss", 0) for e in probe.of("lag")), default=0)
        finally:
            await db.close()
            if bot is not None:
                await bot.stop()
            await emulator.stop()
        kind = prepared.kind
        seed_info = {
            "description": seeded,
            "rows": prepared.seeded,
            "seed_seconds": prepared.seed_seconds,
            "cached": prepared.cached,
            "cache": prepared.cache,
        }

    rows = [Row("seeded rows (see 'seeded:' above)", f"{sum(prepared.seeded.values()):,}"), *table_rows(out, args)]
    title = f"Many users: {args.people:,} people, {args.days} days of history ({kind})"
    print(f"seeded: {seeded}")
    text = print_table(title, rows)
    data: JSON = {
        "scenario": "many_users",
        "note": args.note,
        "machine": facts,
        "parameters": {
            "people": args.people,
            "days": args.days,
            "due": args.due,
            "cost_due": args.cost_due,
            "tappers": args.tappers,
            "idle_passes": args.idle_passes,
            "seed": args.seed,
            "database": kind,
            "prompt_poll_seconds": 1,
        },
        "seeded": seed_info,
        "definitions": DEFINITIONS,
        "results": out,
        "table": text,
        "verdicts": {r.metric: r.verdict for r in rows if r.verdict},
        "noise": "2-core machine shared with other work (the emulator and the simulated people run on it "
        "too): timings and lags are noisy; see load_average_at_start",
    }
    headline = {r.metric: r.value for r in rows if r.value}
    path = write_result("many_users", data, headline)
    print(f"\nwritten {path}")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.verdict != "MISS" for r in rows) else 1


async def startup_figures(bot: LimberProcess, probe: Probe, api_url: str) -> JSON:
    """Seconds from spawning the process to: the interpreter running, the bot's modules imported, post_init
    done ("Limber ready"), and the first getUpdates reaching the emulator (polling)."""
    for _ in range(50):
        polls = [c for c in await api_calls(api_url, "getUpdates") if c["time"] >= bot.spawned_at]
        if polls:
            break
        await asyncio.sleep(0.1)
    events = {e["event"]: e for e in probe.of("start") + probe.of("imported") + probe.of("ready")}
    return {
        "interpreter_s": round(events["start"]["t"] - bot.spawned_at, 2),
        "imported_s": round(events["imported"]["t"] - bot.spawned_at, 2),
        "ready_s": round(events["ready"]["t"] - bot.spawned_at, 2),
        "polling_s": round(polls[0]["time"] - bot.spawned_at, 2) if polls else None,
        "rss_imported_mb": events["imported"].get("vmrss"),
        "rss_ready_mb": events["ready"].get("vmrss"),
    }


def cpu_rate(probe: Probe, start: float, end: float) -> float:
    """The process's CPU seconds per second between two lag records (its background: polling, the sampler)."""
    records = [e for e in probe.of("lag", start) if e["t"] <= end + 1]
    if len(records) < 2:
        return 0.0
    return (records[-1]["cpu"] - records[0]["cpu"]) / (records[-1]["t"] - records[0]["t"])


def pass_costs(passes: list[JSON], due: int, background_cpu_rate: float) -> JSON:
    wall = sum(p["wall_s"] for p in passes)
    cpu = sum(p["cpu_s"] for p in passes)
    materialize = sum(p.get("materialize_s", 0.0) for p in passes)
    materialize_cpu = sum(p.get("materialize_cpu_s", 0.0) for p in passes)
    deliver_cpu = sum(p.get("deliver_cpu_s", 0.0) for p in passes)
    net_cpu = cpu - background_cpu_rate * wall
    return {
        "due": due,
        "passes": len(passes),
        "sent": sum(p["report"]["sent"] for p in passes),
        "retried_429": sum(p["report"]["retried_429"] for p in passes),
        "wall_s": round(wall, 2),
        "rate_per_s": round(due / wall, 2) if wall else None,
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_prompt": round(1000 * cpu / due, 2),
        "net_cpu_ms_per_prompt": round(1000 * net_cpu / due, 2),
        "materialize_ms_per_prompt": round(1000 * materialize / due, 3),
        "materialize_cpu_ms_per_prompt": round(1000 * materialize_cpu / due, 3),
        "deliver_cpu_ms_per_prompt": round(1000 * deliver_cpu / due, 2),
    }


DEFINITIONS = {
    "start-up": "from spawning the process to post_init done (the 'Limber ready' log line: migrations checked, "
    "content loaded, commands set, countdowns resumed), and to the first getUpdates reaching the emulator",
    "resident memory": "VmRSS / VmHWM of the bot process from /proc (peak = VmHWM over the whole run)",
    "pass, nothing due": "wall time of one prompt pass (materialize + deliver) with every person scheduled and "
    "none due; the first pass after start-up is left out",
    "per due prompt": "CPU time of the bot process (all threads) during the pass(es) that sent a fan-out alone, "
    "divided by the prompts: the deliberate pacing sleeps cost no CPU. 'net' subtracts the idle process's CPU "
    "rate over the same wall time; materialize = wall time of claiming schedules and writing the outbox",
    "loop lag": "overshoot of a 10 ms asyncio.sleep in the bot's event loop, sampled continuously; p99 over the "
    "fan-out's passes while the tapping people keep acting",
    "tapper answer": "a person's /stretch or button press until the bot's first answer (callback answer or message)",
}


def table_rows(out: JSON, args: argparse.Namespace) -> list[Row]:
    s, idle, cost, lag = out["startup"], out["idle"], out["cost"], out["lag_phase"]
    peak = out["memory_end"]["hwm_mb"]
    p99 = lag["lag_ms"].get("p99", 0.0)
    return [
        Row("start-up to ready (post_init done)", f"{s['ready_s']:.2f} s"),
        Row("start-up to polling (first getUpdates)", f"{s['polling_s']:.2f} s"),
        Row("resident memory after start-up", f"{out['memory_after_start']['rss_mb']:.0f} MB"),
        Row("resident memory peak (VmHWM)", f"{peak:.0f} MB", "<= 150 MB", verdict(peak <= 150)),
        Row("pass, nothing due: median", f"{idle['wall_ms']['median']:.1f} ms"),
        Row("pass, nothing due: p95 / max", f"{idle['wall_ms']['p95']:.1f} / {idle['wall_ms']['max']:.1f} ms"),
        Row(f"per due prompt ({cost['due']:,} due): CPU", f"{cost['cpu_ms_per_prompt']:.2f} ms"),
        Row("per due prompt: CPU net of idle", f"{cost['net_cpu_ms_per_prompt']:.2f} ms"),
        Row("per due prompt: materialize wall", f"{cost['materialize_ms_per_prompt']:.3f} ms"),
        Row("fan-out rate (alone)", f"{cost['rate_per_s']:.1f} /s"),
        Row(
            f"loop lag p99 ({lag['due']:,} due + {lag['tappers']} tapping)",
            f"{p99:.1f} ms",
            "<= 20 ms",
            verdict(p99 <= 20),
        ),
        Row("loop lag median / max", f"{lag['lag_ms'].get('median', 0):.2f} / {lag['lag_ms'].get('max', 0):.1f} ms"),
        Row("idle loop lag p99", f"{idle['lag_ms'].get('p99', 0):.1f} ms"),
        Row(
            "tapper answers p50 / p95",
            f"{lag['tapper_answer_ms'].get('median', 0):.0f} / {lag['tapper_answer_ms'].get('p95', 0):.0f} ms",
        ),
        Row("tapper actions / unanswered", f"{lag['tapper_actions']} / {lag['tapper_unanswered']}"),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.many_users", description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000, help="people with schedules (default 100000)")
    parser.add_argument("--days", type=int, default=30, help="days of history per person (default 30)")
    parser.add_argument("--due", type=int, default=2_000, help="fan-out while people tap (default 2000)")
    parser.add_argument("--cost-due", type=int, default=1_000, help="fan-out alone, for the cost (default 1000)")
    parser.add_argument("--tappers", type=int, default=20, help="people tapping through routines (default 20)")
    parser.add_argument("--idle-passes", type=int, default=10, help="passes with nothing due to time (default 10)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of tapping before the fan-out")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir (the seeded file is cached under /tmp); "
        "postgresql://HOST:PORT/DB names a server, where a fresh database is created and dropped afterwards",
    )
    parser.add_argument("--seed", type=int, default=20261121, help="random seed")
    parser.add_argument("--note", help="a label for this run in the JSON's history (e.g. 'before fix')")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot.log, probe.jsonl)")
    args = parser.parse_args(argv)
    if args.tappers + args.due + args.cost_due > args.people:
        parser.error("--people must be at least --tappers + --due + --cost-due")
    return asyncio.run(run(args, argv))


if __name__ == "__main__":
    raise SystemExit(main())
