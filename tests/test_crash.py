"""Crash safety of the real `limber run` process: SIGKILL loses nothing acknowledged, SIGTERM stops cleanly.

The bot runs as its own process, long polling an emulator process, as it would run against Telegram.
The scenario (testkit/crash.py) is shared with `python -m bench.crash_kill`, which runs it with the
full 50 kills; here `LIMBER_KILLS` (default 8) keeps CI fast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from testkit.chat import Person, labels
from testkit.crash import limber_process, run_crash_scenario, snapshot
from testkit.processes import emulator_process

KILLS = int(os.environ.get("LIMBER_KILLS", "8"))


async def test_sigkill_loses_nothing_acknowledged(tmp_path: Path, database_url: str) -> None:
    report = await run_crash_scenario(tmp_path, kills=KILLS, database_url=database_url)
    summary = "\n".join(f"{k}: {v}" for k, v in report.rows())
    assert report.kills == KILLS, summary
    assert not report.missing, "\n".join(report.missing)
    assert not report.duplicates, "\n".join(report.duplicates)
    assert not report.broken, "\n".join(report.broken)
    assert report.exit_code == 0, summary
    # The scenario really exercised what it checks.
    assert report.acked_outcomes and report.acked_ratings and report.prompt_messages, summary


async def test_sigterm_shuts_down_cleanly(tmp_path: Path, database_url: str) -> None:
    async with emulator_process(tmp_path / "files") as api_url:
        bot = limber_process(api_url, database_url)
        person = Person(api_url, 7001)
        try:
            await bot.start()
            await person.join()
            await person.send("/stretch glutes")
            await person.expect("how is your pain right now")
            await person.press("5")
            step = await person.expect("Step 1 of")
            while "▶ Start timer" not in labels(step["message"]):
                await person.press("Done", step["message"])
                step = await person.expect("Step ")
            current = re.search(r"Step \d+ of \d+", step["message"]["text"])
            assert current is not None
            await person.press("Start timer", step["message"])
            await person.expect_answer("Timer started")
            # In flight when the signal comes: it is either handled before the exit or left for the
            # next run, never lost and never handled twice.
            await person.send("pain 3")
            assert await bot.terminate(timeout=15) == 0
            log = "".join(bot.lines)
            assert "Traceback" not in log and " ERROR " not in log and "Exception ignored" not in log, log
            assert "Application is stopping" in log and "Application.stop() complete" in log, log
            assert "Scheduler has been shut down" in log, log
            if database_url.startswith("sqlite"):
                # The last connection to close checkpoints the WAL and removes it.
                assert not (tmp_path / "limber.db-wal").exists()

            await bot.start()
            assert "1 countdowns resumed" in "".join(bot.lines)
            await person.expect("Noted: pain 3/10", timeout=20)
            await person.send("/stretch")
            offer = await person.expect("You have a routine open")
            assert f"at {current[0].lower()}" in offer["message"]["text"]
            await person.press("Continue", offer["message"])
            resumed = (await person.expect(current[0]))["message"]["text"]
            assert "s left" in resumed or "Time's up" in resumed, resumed
            assert await bot.terminate(timeout=15) == 0
            noted = [m for m in await person.messages() if m["text"].startswith("Noted: pain 3/10")]
        finally:
            if bot.running:
                await bot.kill()
            await person.close()
    assert len(noted) == 1
    db = await snapshot(database_url)
    assert [r.value for r in db.ratings if r.context == "during"] == [3]
