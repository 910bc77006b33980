"""Helpers shared by `python -m bench.fanout` and `python -m bench.many_users`.

Machine facts and the result table/JSON, the Bot API emulator and the bot each in a process of
their own (so their clocks and CPU are their own), and the emulator-side chat set-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shlex
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from emulator import EmulatorClient
from emulator.state import max_in_window  # noqa: F401 - counted as the emulator's stats count it
from tests.factories import TOKEN

ROOT = Path(__file__).resolve().parent.parent
# LIMBER_BENCH_RESULTS: another results directory (e.g. a patched copy of the tree writing to this one).
RESULTS = Path(os.environ.get("LIMBER_BENCH_RESULTS", ROOT / "bench" / "results"))
JSON = dict[str, Any]
CLK_TCK = os.sysconf("SC_CLK_TCK")

__all__ = ["TOKEN"]


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
    meminfo = _kv_file(Path("/proc/meminfo"))
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


def _kv_file(path: Path) -> dict[str, int]:
    """/proc/meminfo or /proc/<pid>/status: the first number of each line, by key (kB for sizes)."""
    values: dict[str, int] = {}
    with suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0])
    return values


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


def proc_memory_mb(pid: int) -> JSON:
    """Resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    status = _kv_file(Path(f"/proc/{pid}/status"))
    return {"rss_mb": round(status.get("VmRSS", 0) / 1024, 1), "hwm_mb": round(status.get("VmHWM", 0) / 1024, 1)}


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class EmulatorProcess:
    """`python -m emulator` in a process of its own, as an outside server would be."""

    def __init__(self, files_dir: Path, *, latency_ms: float = 0.0, jitter_ms: float = 0.0) -> None:
        self.files_dir = files_dir
        # A round trip on every Bot API answer, in the emulator's process (emulator/latency.py).
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> str:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--files-dir",
            str(self.files_dir),
            "--latency-ms",
            str(self.latency_ms),
            "--jitter-ms",
            str(self.jitter_ms),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode()
        self.url = line.rsplit(" ", 1)[-1].strip()
        return self.url

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@dataclass
class BotProcess:
    """The bot in a process of its own (`limber run`, or bench._probe: the same plus instrumentation)."""

    module: str  # "bot.main" (with args ["run"]) or "bench._probe"
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    spawned_at: float = 0.0  # time.time() just before the process was created
    ready_at: float = 0.0  # time.time() the "Limber ready" line arrived
    lines: list[str] = field(default_factory=list)
    watchers: list[Callable[[str], None]] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, wait_s: float = 120.0) -> None:
        ready = asyncio.Event()
        self.spawned_at = time.time()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            *self.args,
            cwd=ROOT,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({waiter, self._reader}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not ready.is_set():
            await self.stop()
            raise RuntimeError("the bot did not get ready:\n" + "".join(self.lines[-40:]))

    async def _read(self, ready: asyncio.Event) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        with self.log_path.open("a") as log:
            async for raw in self.proc.stderr:
                line = raw.decode(errors="replace")
                log.write(line)
                log.flush()
                self.lines.append(line)
                del self.lines[:-2000]
                for watch in self.watchers:
                    watch(line)
                if not ready.is_set() and "Limber ready" in line:
                    self.ready_at = time.time()
                    ready.set()

    def memory(self) -> JSON:
        return proc_memory_mb(self.pid)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    async def stop(self, wait_s: float = 30.0) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.returncode is None:
            with suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            rc = await asyncio.wait_for(proc.wait(), wait_s)
        except TimeoutError:
            proc.kill()
            rc = await proc.wait()
        if self._reader is not None:
            await self._reader
        return rc


def bot_env(api_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment `limber run` reads (bot.config), with the prompt clock polling every second."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "PROMPT_POLL_SECONDS": "1",
        # PTB 22.8 warns while building RetryAfter unless told to use timedeltas (see emulator/README.md).
        "PTB_TIMEDELTA": "true",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    env.update(extra)
    return env


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
