"""The emulator and `limber run` each in a process of its own, as an outside server and a deployed bot are.

Used by the crash and worker tests and by the benchmarks (bench/), which measure the processes' clocks,
memory and CPU separately.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from testkit.chat import TOKEN

ROOT = Path(__file__).resolve().parent.parent
JSON = dict[str, Any]
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Lines of the current run kept in memory (the whole log goes to `log_path`, or to `log` without one).
KEPT_LINES = 2000


def kv_file(path: Path) -> dict[str, int]:
    """/proc/meminfo or /proc/<pid>/status: the first number of each line, by key (kB for sizes)."""
    values: dict[str, int] = {}
    with suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0])
    return values


def proc_memory_mb(pid: int) -> JSON:
    """Resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    status = kv_file(Path(f"/proc/{pid}/status"))
    return {"rss_mb": round(status.get("VmRSS", 0) / 1024, 1), "hwm_mb": round(status.get("VmHWM", 0) / 1024, 1)}


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class EmulatorProcess:
    """`python -m emulator` in a process of its own, so it timestamps requests as an outside server would."""

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


@asynccontextmanager
async def emulator_process(files_dir: Path) -> AsyncIterator[str]:
    """An `EmulatorProcess` for the length of the block; yields its URL."""
    emulator = EmulatorProcess(files_dir)
    try:
        yield await emulator.start()
    finally:
        await emulator.stop()


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


class LimberProcess:
    """`limber run` (or bench._probe, the same plus instrumentation) in a process of its own, stopped by
    signals as in production; ready once it logs "Limber ready"."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        module: str = "bot.main",
        args: Sequence[str] = ("run",),
        log_path: Path | None = None,
    ) -> None:
        self.env = env
        self.module = module
        self.args = list(args)
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []  # stderr of the current run (the last KEPT_LINES)
        self.log: list[str] = []  # stderr of every run, when there is no log file
        self.watchers: list[Callable[[str], None]] = []  # called with every stderr line
        self.starts = 0
        self.kills = 0
        self.spawned_at = 0.0  # time.time() just before the current run was created
        self.ready_at = 0.0  # time.time() the current run logged "Limber ready"
        self._ready_since: float | None = None  # monotonic time the current run became ready; None while down
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None

    async def start(self, timeout: float = 120.0) -> None:
        self.lines = []
        self.starts += 1
        self._write(f"--- run {self.starts} ---\n")
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
        ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read(self.proc, ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({waiter, self._reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not ready.is_set():
            await self._signal(signal.SIGKILL)
            raise RuntimeError(f"{self.module} did not get ready:\n" + "".join(self.lines[-40:]))
        self._ready_since = time.monotonic()

    def _write(self, line: str) -> None:
        if self.log_path is None:
            self.log.append(line)
            return
        with self.log_path.open("a") as log:
            log.write(line)

    async def _read(self, proc: asyncio.subprocess.Process, ready: asyncio.Event) -> None:
        assert proc.stderr is not None
        log = self.log_path.open("a") if self.log_path is not None else None
        try:
            async for raw in proc.stderr:
                line = raw.decode(errors="replace")
                self.lines.append(line)
                del self.lines[:-KEPT_LINES]
                if log is None:
                    self.log.append(line)
                else:
                    log.write(line)
                    log.flush()
                for watch in self.watchers:
                    watch(line)
                if not ready.is_set() and "Limber ready" in line:
                    self.ready_at = time.time()
                    ready.set()
        finally:
            if log is not None:
                log.close()

    def up_for(self) -> float:
        return 0.0 if self._ready_since is None else time.monotonic() - self._ready_since

    def moved_on(self, kills_before: int, settle: float) -> bool:
        """Whether an answer to something done when `kills_before` kills had happened can still come:
        False once the bot has died since and the restarted one had `settle` seconds for its backlog (or died too)."""
        if self.kills == kills_before:
            return False
        return self.kills > kills_before + 1 or self.up_for() > settle

    def memory(self) -> JSON:
        return proc_memory_mb(self.pid)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, as when the OOM killer or a power cut takes the process."""
        await self._signal(signal.SIGKILL)
        self.kills += 1

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, as a deploy or `docker stop` sends it; the exit code. Killed (and TimeoutError) if it hangs."""
        return await self._signal(signal.SIGTERM, timeout)

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM if running, killed if it does not stop in time; the exit code (None if it was not running)."""
        proc = self.proc
        if proc is None:
            return None
        with suppress(TimeoutError):
            await self._signal(signal.SIGTERM, timeout)
        return proc.returncode

    async def _signal(self, sig: signal.Signals, timeout: float = 15.0) -> int:
        proc, self.proc, self._ready_since = self.proc, None, None
        assert proc is not None
        if proc.returncode is None:  # a process that already exited must not be signalled (or reaped) again
            with suppress(ProcessLookupError):
                proc.send_signal(sig)
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout)
        finally:
            if proc.returncode is None:  # it did not stop in time: do not leave it behind
                proc.kill()
                await proc.wait()
            if self._reader is not None:
                await self._reader
        return rc
