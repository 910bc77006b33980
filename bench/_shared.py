"""Helpers shared by `python -m bench.fanout` and `python -m bench.many_users`.

Machine facts and the result table/JSON, and the emulator-side chat set-up. The Bot API emulator and
the bot each in a process of their own (so their clocks and CPU are their own) come from testkit.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from emulator import EmulatorClient
from emulator.state import max_in_window  # noqa: F401 - counted as the emulator's stats count it
from testkit.chat import TOKEN
from testkit.processes import (
    EmulatorProcess,
    LimberProcess,
    bot_env,
    kv_file,
    proc_cpu_seconds,
    proc_memory_mb,
)

ROOT = Path(__file__).resolve().parent.parent
# LIMBER_BENCH_RESULTS: another results directory (e.g. a patched copy of the tree writing to this one).
RESULTS = Path(os.environ.get("LIMBER_BENCH_RESULTS", ROOT / "bench" / "results"))
JSON = dict[str, Any]
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The processes live in testkit (shared with the tests); the benchmarks import them from here.
__all__ = ["TOKEN", "EmulatorProcess", "LimberProcess", "bot_env", "proc_cpu_seconds", "proc_memory_mb"]


# --- facts, tables, results ---------------------------------------------------------------------


def machine_facts(module: str, argv: Sequence[str]) -> JSON:
    """CPU model and count, RAM, Python, date and the exact command line."""
    models: list[str] = []
    with suppress(OSError):
        models = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
    meminfo = kv_file(Path("/proc/meminfo"))
    return {
        "cpu_model": models[0] if models else platform.processor(),
        "cpu_count": len(models) or os.cpu_count(),
        "ram_mb": round(meminfo.get("MemTotal", 0) / 1024),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", module, *argv]),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


@dataclass
class Row:
    metric: str
    value: str
    target: str = ""
    verdict: str = ""  # PASS, MISS or "" (reported, no target)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(title: str, rows: Sequence[Row]) -> str:
    """The table as printed (also returned, for the JSON)."""
    header = Row("metric", "value", "target", "")
    widths = [max(len(getattr(r, name)) for r in [header, *rows]) for name in ("metric", "value", "target")]
    lines = [title, "=" * len(title)]
    for index, row in enumerate([header, *rows]):
        cells = [row.metric.ljust(widths[0]), row.value.rjust(widths[1]), row.target.ljust(widths[2]), row.verdict]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in [*widths, 4]))
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def write_result(name: str, data: JSON, headline: JSON) -> Path:
    """bench/results/<name>.json. Earlier runs' headline figures are kept in "history" (newest last), so
    before/after a fix stays on record; `data["note"]` (--note) labels the run there. "notes" (findings
    written by hand) are carried over too."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    history: list[JSON] = []
    with suppress(OSError, ValueError):
        previous = json.loads(path.read_text())
        history = list(previous.get("history", []))
        if "notes" in previous:
            data = {**data, "notes": previous["notes"]}
    machine = data.get("machine", {})
    history.append(
        {"date": machine.get("date"), "command": machine.get("command"), "note": data.get("note"), **headline}
    )
    path.write_text(json.dumps({**data, "history": history}, indent=2, default=str) + "\n")
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: Sequence[float], digits: int = 2) -> JSON:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "max": round(max(values), digits),
    }


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------------


# --- the emulator's side ------------------------------------------------------------------------


async def open_chats(api_url: str, user_ids: Sequence[int], *, concurrency: int = 32) -> float:
    """Each person writes "hi" once, so their private chat exists (as it would for anyone who started the
    bot long ago); then the queued updates are confirmed through getUpdates, as a previous run of the bot
    would have. Returns the seconds it took."""
    started = time.monotonic()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for user_id in user_ids:
        queue.put_nowait(user_id)
    async with EmulatorClient(api_url, TOKEN) as client:

        async def worker() -> None:
            while not queue.empty():
                user_id = queue.get_nowait()
                await client.send(user_id, "hi", first_name=f"P{user_id % 100000}")

        await client.state()  # opens the HTTP session before the workers share it
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    await drain_updates(api_url)
    return time.monotonic() - started


async def drain_updates(api_url: str) -> None:
    """Confirm every queued update (getUpdates offset=-1, then past the last one)."""
    url = f"{api_url}/bot{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"offset": -1, "timeout": 0}) as response:
            body = await response.json()
        if body.get("result"):
            last = int(body["result"][-1]["update_id"])
            async with session.post(url, json={"offset": last + 1, "timeout": 0}) as response:
                await response.json()


async def api_calls(api_url: str, method: str) -> list[JSON]:
    async with EmulatorClient(api_url, TOKEN) as client:
        return await client.calls(method)
