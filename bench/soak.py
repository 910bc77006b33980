"""Soak: mixed traffic with injected faults for a set time; the bot's memory, and nothing lost or doubled.

    python -m bench.soak --minutes 30

The real bot (`limber run`) long-polls the emulator, each in a process of its own. For the whole
run, people do routines (taps and typed ratings, timers, stops: the crash check's `Stretcher`s),
others type free ratings and forged button data, a new person writes every second (so per-person
counters see an ever-growing crowd), daily prompts fall due all along, and every few seconds a
Bot API fault is injected: 5xx, 429 and dropped connections on sendMessage, editMessageText and
answerCallbackQuery. At the end everything acknowledged is checked against the database (as
`tests/test_crash.py` does after its kills) and the bot's resident memory at the start (after a
warm-up) and at the end is reported. Exits 1 on anything lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._shared import Row, machine_facts, print_table, proc_memory_mb, progress, verdict, write_result
from testkit.chat import Person
from testkit.crash import (
    SEED,
    Ledger,
    Stretcher,
    doubled_ratings,
    inconsistencies,
    limber_process,
    losses,
    prompt_problems,
    schedule_prompts,
    snapshot,
)
from testkit.processes import emulator_process

# (method, fault): what Telegram does now and then; each hits one call, of any chat.
FAULTS = (
    ("sendMessage", {"error_code": 502}),
    ("sendMessage", {"error_code": 500, "times": 2}),
    ("sendMessage", {"error_code": 429, "retry_after": 1}),
    ("editMessageText", {"error_code": 502}),
    ("answerCallbackQuery", {"error_code": 502, "times": 2}),
    ("answerCallbackQuery", {"kind": "reset"}),
    ("sendMessage", {"kind": "reset"}),
)
FORGED = ("1:s:999999999999:0:d", "1:p:2147483648:s", "1:r:1:b:11", "2:n:menu", "garbage")


async def chatter(
    api_url: str, user_id: int, rng: random.Random, stop: asyncio.Event, ledger: Ledger, counts: dict[str, int]
) -> None:
    """Someone who types free ratings and presses forged buttons now and then."""
    person = Person(api_url, user_id)
    try:
        await person.join()
        welcome = (await person.messages())[-1]
        while not stop.is_set():
            if rng.random() < 0.7:
                value = rng.randint(0, 10)
                ledger.typed[(user_id, value)] += 1
                await person.send(f"pain {value}/10")
                with suppress(TimeoutError):
                    await person.expect(f"Noted: pain {value}/10", timeout=15)
                    counts["free_noted"] += 1
            else:
                await person.press_data(rng.choice(FORGED), welcome["message_id"])
                counts["forged"] += 1
            await asyncio.sleep(rng.uniform(1.0, 3.0))
    finally:
        await person.close()


async def visitors(api_url: str, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """A new person every second: says hello once and never comes back."""
    next_id = 500_000
    while not stop.is_set():
        person = Person(api_url, next_id)
        next_id += 1
        try:
            await person.send("hello")
            counts["visitors"] += 1
        finally:
            await person.close()
        await asyncio.sleep(1.0)


async def faults(api_url: str, rng: random.Random, stop: asyncio.Event, counts: dict[str, int]) -> None:
    operator = Person(api_url, 9998)
    try:
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            method, fault = rng.choice(FAULTS)
            if "kind" in fault:
                await operator.client.network_fault(method, kind=str(fault["kind"]))
            else:
                await operator.client.fail_next(method, **fault)
            counts["faults"] += 1
    finally:
        await operator.close()


async def prompts(database_url: str, people: list[int], rng: random.Random, stop: asyncio.Event) -> None:
    """Daily prompts falling due all along (a day's prompt is once per person and local day)."""
    pending = list(people)
    rng.shuffle(pending)
    while pending and not stop.is_set():
        batch, pending = pending[:5], pending[5:]
        now = datetime.now(UTC)
        await schedule_prompts(database_url, {u: now + timedelta(seconds=rng.uniform(1, 20)) for u in batch})
        await asyncio.sleep(20)


async def soak(workdir: Path, *, seconds: float, stretchers: int, chatters: int, seed: int, database_url: str) -> dict:
    rng = random.Random(seed)
    ledger = Ledger()
    counts = {"free_noted": 0, "forged": 0, "visitors": 0, "faults": 0}
    async with emulator_process(workdir / "files") as api_url:
        bot = limber_process(api_url, database_url)
        await bot.start()
        assert bot.proc is not None
        pid = bot.proc.pid
        observer = Person(api_url, 9999)
        people = [
            Stretcher(api_url, 7001 + i, random.Random(rng.random()), bot, ledger.presses, ledger.typed)
            for i in range(stretchers)
        ]
        prompted = [Person(api_url, 8001 + i) for i in range(40)]
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            for person in [*(p.person for p in people), *prompted]:
                await person.join()
            tasks += [asyncio.create_task(p.run(stop)) for p in people]
            tasks += [
                asyncio.create_task(chatter(api_url, 6001 + i, random.Random(rng.random()), stop, ledger, counts))
                for i in range(chatters)
            ]
            tasks.append(asyncio.create_task(visitors(api_url, stop, counts)))
            await asyncio.sleep(min(30.0, seconds / 10))  # warm-up: imports, caches, the first routines
            start_memory = proc_memory_mb(pid)
            progress(f"warmed up: RSS {start_memory['rss_mb']} MB; soaking for {seconds:.0f} s")
            tasks.append(asyncio.create_task(faults(api_url, random.Random(rng.random()), stop, counts)))
            tasks.append(
                asyncio.create_task(
                    prompts(database_url, [p.user_id for p in prompted], random.Random(rng.random()), stop)
                )
            )
            started = time.monotonic()
            while (left := seconds - (time.monotonic() - started)) > 0:
                await asyncio.sleep(min(60.0, left))
                await ledger.refresh(observer)
                progress(
                    f"{time.monotonic() - started:.0f} s: RSS {proc_memory_mb(pid)['rss_mb']} MB, "
                    f"{len(ledger.outcomes)} step outcomes acknowledged, {counts}"
                )
            end_memory = proc_memory_mb(pid)
            stop.set()
            await asyncio.gather(*tasks)
            await asyncio.sleep(3.0)  # the last answers
            await ledger.refresh(observer)
            chats = {p.user_id: await p.messages() for p in [*(s.person for s in people), *prompted]}
            exit_code = await bot.terminate()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if bot.running:
                await bot.kill()
            (workdir / "bot.log").write_text("".join(bot.log))
            for person in [*(s.person for s in people), *prompted, observer]:
                await person.close()
    db = await snapshot(database_url)
    lost = losses(ledger, db)
    doubled = [
        *[p for p in inconsistencies(db) if "two outcomes" in p or "ratings" in p],
        *prompt_problems(db, chats),
        *doubled_ratings(ledger, db),
    ]
    errors = [line.strip() for line in bot.log if " ERROR " in line or " CRITICAL " in line]
    return {
        "seconds": round(seconds),
        "rss_start_mb": start_memory["rss_mb"],
        "rss_end_mb": end_memory["rss_mb"],
        "rss_peak_mb": end_memory["hwm_mb"],
        "actions": sum(p.actions for p in people),
        "acknowledged_outcomes": len(ledger.outcomes),
        "acknowledged_ratings": len(ledger.ratings) + ledger.noted.total(),
        "prompts_sent": sum(1 for p in db.prompts if p.status == "sent"),
        **counts,
        "lost": lost,
        "duplicated": doubled,
        "errors_logged": errors[:20],
        "exit_code": exit_code,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to soak (default 30)")
    parser.add_argument("--stretchers", type=int, default=4, help="people running routines (default 4)")
    parser.add_argument("--chatters", type=int, default=4, help="people typing ratings and forged buttons")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--database-url", help="default: a fresh SQLite file; postgresql://... works too")
    parser.add_argument("--note", help="a label for this run in the results' history")
    args = parser.parse_args(argv)
    facts = machine_facts("bench.soak", sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="limber-soak-"))
    url = args.database_url or f"sqlite:///{workdir / 'limber.db'}"
    result = asyncio.run(
        soak(
            workdir,
            seconds=args.minutes * 60,
            stretchers=args.stretchers,
            chatters=args.chatters,
            seed=args.seed,
            database_url=url,
        )
    )
    growth = result["rss_end_mb"] - result["rss_start_mb"]
    ok = not result["lost"] and not result["duplicated"] and result["exit_code"] == 0
    rows = [
        Row("minutes", f"{args.minutes:g}"),
        Row("user actions (routines)", str(result["actions"])),
        Row("free ratings noted", str(result["free_noted"])),
        Row("forged presses", str(result["forged"])),
        Row("one-time visitors", str(result["visitors"])),
        Row("Bot API faults injected", str(result["faults"])),
        Row("prompts sent", str(result["prompts_sent"])),
        Row("RSS at start (after warm-up)", f"{result['rss_start_mb']} MB"),
        Row("RSS at end", f"{result['rss_end_mb']} MB", "flat", ""),
        Row("RSS growth", f"{growth:+.1f} MB"),
        Row("lost", str(len(result["lost"])), "0", verdict(not result["lost"])),
        Row("duplicated", str(len(result["duplicated"])), "0", verdict(not result["duplicated"])),
        Row("errors logged", str(len(result["errors_logged"]))),
        Row("exit code after SIGTERM", str(result["exit_code"]), "0", verdict(result["exit_code"] == 0)),
    ]
    table = print_table("Soak: mixed traffic with injected faults", rows)
    for problem in [*result["lost"], *result["duplicated"]]:
        print(f"PROBLEM: {problem}")
    headline = {k: result[k] for k in ("seconds", "rss_start_mb", "rss_end_mb", "faults", "prompts_sent")}
    headline |= {"lost": len(result["lost"]), "duplicated": len(result["duplicated"])}
    path = write_result("soak", {"machine": facts, "note": args.note, "result": result, "table": table}, headline)
    print(f"written: {path}")
    if ok:
        shutil.rmtree(workdir)
    else:
        print(f"FAILED: database and bot.log kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
