"""`limber run` with instrumentation, for the benchmarks: python -m bench._probe

The bot is started exactly as `limber run` starts it (bot.main.main(["run"]), the same environment
variables); on top, written as JSON lines to $LIMBER_PROBE_OUT:

- "start" (interpreter up, before the bot's imports), "imported", "ready" (post_init done);
- "lag" once a second: the event loop's lag samples (ms) from a task that sleeps 10 ms and records
  the overshoot, with VmRSS/VmHWM and the moments (time.time()) sendMessage requests were made;
- "sql": statements that took 5 ms or more (SQL text, milliseconds), at most 2,000;
- "gc": every collection of the oldest generation, with how long it took (ms) and what it collected;
- "pass" after every prompt pass: wall and CPU time (time.process_time: every thread of the
  process) of the pass and of its materialize and deliver phases, and its report.
"""

from __future__ import annotations

import time

_STARTED = time.time()

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402

import bot.app  # noqa: E402
import bot.main  # noqa: E402
import bot.prompt_clock  # noqa: E402
import bot.ratelimit  # noqa: E402

LAG_INTERVAL = 0.010
SLOW_SQL_MS = 5.0


class Recorder:
    def __init__(self, path: str) -> None:
        self.file = Path(path).open("a", buffering=1)

    def write(self, event: str, **fields: Any) -> None:
        self.file.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")


def _memory() -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key.lower()] = round(int(rest.split()[0]) / 1024, 1)
    return values


_SENDS: list[float] = []


async def _lag_sampler(rec: Recorder) -> None:
    loop = asyncio.get_running_loop()
    samples: list[float] = []
    flushed = loop.time()
    while True:
        before = loop.time()
        await asyncio.sleep(LAG_INTERVAL)
        after = loop.time()
        samples.append(round((after - before - LAG_INTERVAL) * 1000, 2))
        if after - flushed >= 1.0:
            rec.write("lag", samples=samples, cpu=time.process_time(), sends=_SENDS[:], **_memory())
            samples, flushed = [], after
            _SENDS.clear()


def _watch_sql(rec: Recorder) -> None:
    slow = 0

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        nonlocal slow
        took = (time.perf_counter() - conn.info["bench_started"].pop()) * 1000
        if took >= SLOW_SQL_MS and slow < 2000:
            slow += 1
            rec.write("sql", ms=round(took, 1), sql=" ".join(statement.split())[:400], many=executemany)


def _watch_gc(rec: Recorder) -> None:
    started = 0.0

    def callback(phase: str, info: dict[str, int]) -> None:
        nonlocal started
        if info.get("generation") != 2:
            return
        if phase == "start":
            started = time.perf_counter()
        else:
            took = (time.perf_counter() - started) * 1000
            rec.write("gc", ms=round(took, 1), collected=info.get("collected"))

    gc.callbacks.append(callback)


def install(rec: Recorder) -> None:
    _watch_sql(rec)
    _watch_gc(rec)
    original_post_init = bot.app.post_init
    original_run_pass = bot.prompt_clock.run_pass
    original_materialize = bot.prompt_clock._materialize
    original_deliver = bot.prompt_clock._deliver
    phases: dict[str, float] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def post_init(app: Any) -> None:
        await original_post_init(app)
        rec.write("ready", cpu=time.process_time(), **_memory())
        task = asyncio.get_running_loop().create_task(_lag_sampler(rec))
        tasks.add(task)

    async def timed(name: str, coro: Any) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            await coro
        finally:
            phases[f"{name}_s"] = phases.get(f"{name}_s", 0.0) + time.perf_counter() - wall
            phases[f"{name}_cpu_s"] = phases.get(f"{name}_cpu_s", 0.0) + time.process_time() - cpu

    async def materialize(svc: Any, report: Any) -> None:
        await timed("materialize", original_materialize(svc, report))

    async def deliver(bot_: Any, svc: Any, limiter: Any, report: Any) -> None:
        await timed("deliver", original_deliver(bot_, svc, limiter, report))

    async def run_pass(bot_: Any, svc: Any, limiter: Any) -> Any:
        phases.clear()
        start, wall, cpu = time.time(), time.perf_counter(), time.process_time()
        report = await original_run_pass(bot_, svc, limiter)
        rec.write(
            "pass",
            start=start,
            wall_s=time.perf_counter() - wall,
            cpu_s=time.process_time() - cpu,
            report=dataclasses.asdict(report),
            **phases,
        )
        return report

    original_send = ExtBot.send_message

    async def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _SENDS.append(time.time())
        return await original_send(self, *args, **kwargs)

    ExtBot.send_message = send_message  # type: ignore[method-assign]

    original_admit = getattr(bot.ratelimit.FanoutLimiter, "admit", None)
    if original_admit is not None:  # the gate at the request (see bot/ratelimit.py)

        async def admit(self: Any, chat_id: int) -> bool:
            held = time.perf_counter()
            admitted: bool = await original_admit(self, chat_id)
            phases["admitted" if admitted else "turned_back"] = (
                phases.get("admitted" if admitted else "turned_back", 0) + 1
            )
            phases["held_max_ms"] = max(phases.get("held_max_ms", 0.0), (time.perf_counter() - held) * 1000)
            return admitted

        bot.ratelimit.FanoutLimiter.admit = admit  # type: ignore[method-assign]
    bot.app.post_init = post_init  # build_application looks it up when it builds the app
    bot.prompt_clock.run_pass = run_pass  # type: ignore[assignment]  # prompt_job looks these up on every pass
    bot.prompt_clock._materialize = materialize
    bot.prompt_clock._deliver = deliver  # type: ignore[assignment]


def main() -> int:
    rec = Recorder(os.environ["LIMBER_PROBE_OUT"])
    rec.write("start", t=_STARTED)
    rec.write("imported", **_memory())
    install(rec)
    return bot.main.main(["run"])


if __name__ == "__main__":
    raise SystemExit(main())
