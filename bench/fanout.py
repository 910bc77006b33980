"""Prompt fan-out benchmark: many people due at the same minute, the emulator answering 1% of sends with 429.

    python -m bench.fanout [--people 10000] [--rate-429 0.01] [--retry-after 1] [--database-url URL]

The real bot (`limber run`, as bench._probe starts it with instrumentation; the prompt clock polls
every second) long-polls the Bot API emulator, each in a process of its own, over HTTP on
127.0.0.1. Every person has a private chat with the bot and
daily prompts due at the same whole minute (their reminder time in their own zone); a seeded 1% of
them get a one-time 429 (retry_after) on their first sendMessage. Measured from the emulator's
record of every sendMessage: the sustained rate, the most sends in any one-second window, prompts
lost and duplicated, and how late the last prompt came. Prints a table and writes
bench/results/fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

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
    max_in_window,
    open_chats,
    print_table,
    proc_cpu_seconds,
    proc_memory_mb,
    progress,
    summary,
    verdict,
    write_result,
)
from emulator import EmulatorClient

PROMPT_TEXT = "Time for today's stretch"
PAUSE_GAP = 0.5  # a gap between two sends this long is a 429 pause, not pacing (pacing is ~35 ms)
PASS_LINE = re.compile(r"prompt pass: PassReport\((.*)\)")


async def run(args: argparse.Namespace, argv: list[str]) -> int:
    facts = machine_facts("bench.fanout", argv)
    workdir = Path(tempfile.mkdtemp(prefix="limber-fanout-"))
    spec = SeedSpec(people=args.people, days=0, seed=args.seed)
    people = list(person_ids(args.people))
    rng = random.Random(args.seed)
    emulator = EmulatorProcess(workdir / "files")
    api_url = await emulator.start()
    bot: LimberProcess | None = None
    try:
        progress(f"emulator at {api_url}; opening {len(people):,} chats")
        chats_s = await open_chats(api_url, people)
        throttled = sorted(rng.sample(people, round(len(people) * args.rate_429)))
        async with EmulatorClient(api_url, TOKEN) as client:
            for chat_id in throttled:
                await client.fail_next(
                    "sendMessage", error_code=429, retry_after=args.retry_after, chat_id=chat_id, times=1
                )
        progress(f"chats open in {chats_s:.1f} s; {len(throttled)} chats will get a 429 first")

        async with prepared_database(args.database_url, spec, workdir, keep=args.keep) as prepared:
            progress(describe_seed(spec, prepared))
            db = await BenchDb(prepared.url).open()
            try:
                start = datetime.now(UTC) + timedelta(seconds=args.lead)
                due = (start + timedelta(minutes=1)).replace(second=0, microsecond=0)
                await set_schedules(db, people, due=due)
                env = bot_env(api_url, prepared.url, LIMBER_PROBE_OUT=str(workdir / "probe.jsonl"))
                if args.fanout_rate is not None:
                    env["FANOUT_RATE"] = str(args.fanout_rate)
                bot = LimberProcess(env, module="bench._probe", args=[], log_path=workdir / "bot.log")
                await bot.start()
                passes: list[str] = []
                bot.watchers.append(lambda line: passes.extend(PASS_LINE.findall(line)))
                progress(f"bot ready in {bot.ready_at - bot.spawned_at:.1f} s; all due at {due:%H:%M:%S} UTC")
                await asyncio.sleep(max(0.0, due.timestamp() - time.time()))
                bot_cpu0, emu_cpu0 = bot.cpu_seconds(), proc_cpu_seconds(emulator.pid)
                pings: list[tuple[float, float]] = []
                pinger = asyncio.create_task(ping(api_url, pings))
                statuses = await wait_until_done(db, len(people), due, within_s=args.people / 15 + 300)
                pinger.cancel()
                await asyncio.sleep(1.0)
                bot_cpu, emu_cpu = bot.cpu_seconds() - bot_cpu0, proc_cpu_seconds(emulator.pid) - emu_cpu0
                bot_memory = bot.memory()
            finally:
                await db.close()
            calls = await api_calls(api_url, "sendMessage")
            async with EmulatorClient(api_url, TOKEN) as client:
                stats_started = time.monotonic()
                stats = await client.stats()
                stats_s = time.monotonic() - stats_started
            emulator_memory = proc_memory_mb(emulator.pid)
            await bot.stop()
            bot = None
            seeded = describe_seed(spec, prepared)
            kind = prepared.kind
    finally:
        if bot is not None:
            await bot.stop()
        await emulator.stop()

    result = measure(calls, stats, set(people), due)
    slow = sorted(pings, key=lambda p: -p[1])[:5]
    result["emulator_health_ms"] = summary([1000 * p for _, p in pings])
    result["emulator_slowest_answers"] = [
        {"at_s": round(t - due.timestamp(), 1), "ms": round(1000 * p, 1)} for t, p in slow
    ]
    probe = [json.loads(line) for line in (workdir / "probe.jsonl").read_text().splitlines()]
    lags = [s for e in probe if e["event"] == "lag" and e["t"] >= due.timestamp() for s in e["samples"]]
    bot_sends = sorted(t for e in probe if e["event"] == "lag" for t in e.get("sends", []))
    result["max_bot_requests_in_any_1s"] = max_in_window(bot_sends)
    result["bot_busiest_window"] = busiest_window(bot_sends)[1:2]
    result["bot_loop_lag_ms"] = summary(lags)
    result["bot_passes"] = [
        {k: v for k, v in e.items() if k != "event"} for e in probe if e["event"] == "pass" and e["report"]["scheduled"]
    ]
    sends = [{"t": c["time"], "chat": c["params"].get("chat_id"), "status": c["status"]} for c in calls]
    (workdir / "sends.json").write_text(json.dumps(sends))
    result.update(
        {
            "db_statuses": statuses,
            "bot_cpu_s": round(bot_cpu, 1),
            "bot_memory": bot_memory,
            "emulator_cpu_s": round(emu_cpu, 1),
            "emulator_cpu_ms_per_send": round(1000 * emu_cpu / max(1, len(calls)), 2),
            "emulator_memory": emulator_memory,
            "emulator_stats_call_s": round(stats_s, 3),
            "pass_reports": passes,
            "retried_429_by_bot": sum(int(m) for p in passes for m in re.findall(r"retried_429=(\d+)", p)),
        }
    )
    rows = [Row("seeded people (users + preferences)", f"{args.people:,}"), *table_rows(result, args)]
    title = (
        f"Prompt fan-out: {args.people:,} people due at once, {args.rate_429:.0%} of chats answered 429 first ({kind})"
    )
    text = print_table(title, rows)
    data: JSON = {
        "scenario": "fanout",
        "note": args.note,
        "machine": facts,
        "parameters": {
            "people": args.people,
            "rate_429": args.rate_429,
            "retry_after_s": args.retry_after,
            "seed": args.seed,
            "database": kind,
            "prompt_poll_seconds": 1,
            "fanout_rate_setting": args.fanout_rate or "default (bot.config)",
        },
        "seeded": seeded,
        "setup": {"chats_open_s": round(chats_s, 1), "throttled_chats": len(throttled)},
        "definitions": DEFINITIONS,
        "results": result,
        "table": text,
        "verdicts": {r.metric: r.verdict for r in rows if r.verdict},
        "noise": "2-core machine shared with other work: rates and lags are noisy; see load_average_at_start",
    }
    headline = {r.metric: r.value for r in rows if r.verdict}
    path = write_result("fanout", data, headline)
    print(f"\nwritten {path}")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.verdict != "MISS" for r in rows) else 1


async def ping(api_url: str, pings: list[tuple[float, float]]) -> None:
    """Every 100 ms, how long the emulator takes to answer /_emu/health: a stalled emulator (its own garbage
    collection, the machine's other work) timestamps the requests that queued meanwhile all at once."""
    async with aiohttp.ClientSession() as session:
        while True:
            started = time.time()
            async with session.get(f"{api_url}/_emu/health") as response:
                await response.read()
            pings.append((started, time.time() - started))
            await asyncio.sleep(0.1)


async def wait_until_done(db: BenchDb, expected: int, due: datetime, *, within_s: float) -> dict[str, int]:
    """Until every due prompt is in a final state (sent, failed, ...), printing progress every 30 s."""
    deadline = time.monotonic() + within_s
    last_report = time.monotonic()
    while True:
        rows = await db.fetch("SELECT status, count(*) FROM prompts WHERE due_at >= ? GROUP BY status", db.ts(due))
        statuses = {str(status): int(n) for status, n in rows}
        open_ = sum(statuses.get(s, 0) for s in ("pending", "claimed", "sending"))
        total = sum(statuses.values())
        if total >= expected and open_ == 0:
            return statuses
        if time.monotonic() > deadline:
            progress(f"timed out waiting: {statuses}")
            return statuses
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            progress(f"{statuses.get('sent', 0):,} of {expected:,} sent ({statuses})")
        await asyncio.sleep(1.0)


DEFINITIONS = {
    "sustained_per_s": "successful sends per second while sending: (sends - 1 - pauses) / (last - first - "
    f"pause time), where a pause is a gap of {PAUSE_GAP} s or more between two successful sends (the "
    "global stop after a 429's retry_after); emulator arrival times",
    "average_per_s": "(sends - 1) / (last send - first send), pauses included",
    "median_per_second_bin": "median number of successful sends per whole second between the first and last send",
    "max_in_any_1s": "most successful sendMessage calls in any sliding one-second window (emulator stats(), "
    "monotonic arrival times)",
    "max_requests_in_any_1s": "the same over every sendMessage request, 429s included (emulator wall clock)",
    "lost": "people whose chat got no prompt message",
    "duplicated": "prompt messages beyond the first in any chat",
    "last_lateness_s": "last successful prompt send (emulator arrival time) minus the due minute",
}


def measure(calls: list[JSON], stats: JSON, people: set[int], due: datetime) -> JSON:
    prompts = [c for c in calls if int(c["params"].get("chat_id", 0)) in people]
    ok = sorted(c["time"] for c in prompts if c["ok"])
    per_chat = Counter(int(c["params"]["chat_id"]) for c in prompts if c["ok"] and PROMPT_TEXT in c["params"]["text"])
    first, last = (ok[0], ok[-1]) if ok else (0.0, 0.0)
    busiest = busiest_window(ok)
    gaps = [b - a for a, b in itertools.pairwise(ok)]
    pauses = [g for g in gaps if g >= PAUSE_GAP]
    active = (last - first) - sum(pauses)
    bins = Counter(int(t - first) for t in ok)
    whole = [bins.get(i, 0) for i in range(int(last - first))]
    status_counts = Counter(str(c["status"]) for c in prompts)
    return {
        "sends_ok": len(ok),
        "requests": len(prompts),
        "responses": dict(status_counts),
        "delivered_people": len(per_chat),
        "lost": len(people) - len(per_chat),
        "duplicated": sum(n - 1 for n in per_chat.values() if n > 1),
        "first_send_after_due_s": round(first - due.timestamp(), 2),
        "last_lateness_s": round(last - due.timestamp(), 1),
        "span_s": round(last - first, 1),
        "pauses": len(pauses),
        "pause_time_s": round(sum(pauses), 1),
        "sustained_per_s": round((len(ok) - 1 - len(pauses)) / active, 2) if active > 0 else 0.0,
        "average_per_s": round((len(ok) - 1) / (last - first), 2) if last > first else 0.0,
        "median_per_second_bin": statistics.median(whole) if whole else 0,
        "max_in_any_1s": int(stats["max_per_second_overall"]),
        "max_requests_in_any_1s": max_in_window([c["time"] for c in prompts]),
        "busiest_window": {
            "starts_after_first_send_s": round(busiest[0] - first, 2) if ok else None,
            "sends": busiest[1],
            "gaps_ms": [round(1000 * g, 1) for g in busiest[2]],
        },
        "max_per_chat_in_any_1s": max(stats["max_per_second_per_chat"].values(), default=0),
    }


def busiest_window(times: list[float], window: float = 1.0) -> tuple[float, int, list[float]]:
    """Where the most sends fell inside one second: (its first send, how many, the gaps between them)."""
    best, best_start, start = 0, 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        if end - start + 1 > best:
            best, best_start = end - start + 1, start
    inside = times[best_start : best_start + best]
    return (inside[0] if inside else 0.0), best, [b - a for a, b in itertools.pairwise(inside)]


def table_rows(r: JSON, args: argparse.Namespace) -> list[Row]:
    return [
        Row("sent (successful sendMessage)", f"{r['sends_ok']:,}"),
        Row("429 answers / pauses seen", f"{r['responses'].get('429', 0)} / {r['pauses']}"),
        Row(
            "sustained msgs/s (outside 429 pauses)",
            f"{r['sustained_per_s']:.2f}",
            ">= 28",
            verdict(r["sustained_per_s"] >= 28),
        ),
        Row("average msgs/s (429 pauses included)", f"{r['average_per_s']:.2f}"),
        Row("most sends in any 1 s window", str(r["max_in_any_1s"]), "<= 30", verdict(r["max_in_any_1s"] <= 30)),
        Row("most requests (incl. 429s) in any 1 s", str(r["max_requests_in_any_1s"])),
        Row("  the same, as the bot made them", str(r["max_bot_requests_in_any_1s"])),
        Row(
            "most sends to one chat in any 1 s",
            str(r["max_per_chat_in_any_1s"]),
            "<= 1",
            verdict(r["max_per_chat_in_any_1s"] <= 1),
        ),
        Row("lost", str(r["lost"]), "0", verdict(r["lost"] == 0)),
        Row("duplicated", str(r["duplicated"]), "0", verdict(r["duplicated"] == 0)),
        Row("first prompt after the due minute", f"{r['first_send_after_due_s']:.1f} s"),
        Row("last prompt's lateness", f"{r['last_lateness_s']:.1f} s"),
        Row("bot CPU during the fan-out", f"{r['bot_cpu_s']:.1f} s"),
        Row("emulator CPU per sendMessage", f"{r['emulator_cpu_ms_per_send']:.2f} ms"),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="people due at the same minute (default 10000)")
    parser.add_argument(
        "--rate-429", type=float, default=0.01, help="share of chats whose first send gets a 429 (default 0.01)"
    )
    parser.add_argument("--retry-after", type=int, default=1, help="retry_after of those 429s, seconds (default 1)")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir; postgresql://HOST:PORT/DB names a server, "
        "where a fresh database is created (and dropped afterwards)",
    )
    parser.add_argument("--seed", type=int, default=20261121, help="random seed (which chats get 429s, people)")
    parser.add_argument("--lead", type=float, default=20.0, help="due at the first whole minute this many s ahead")
    parser.add_argument("--fanout-rate", type=float, help="FANOUT_RATE for the bot (default: the bot's own default)")
    parser.add_argument("--note", help="a label for this run in the JSON's history (e.g. 'before fix')")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot.log) and database")
    args = parser.parse_args(argv)
    return asyncio.run(run(args, argv))


if __name__ == "__main__":
    raise SystemExit(main())
