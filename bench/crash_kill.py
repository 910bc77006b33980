"""SIGKILL the real bot again and again while people run routines; check that nothing acknowledged was lost.

    python -m bench.crash_kill --kills 50

Prints a summary and exits 1 when anything acknowledged is missing, a prompt went out twice, or a
session does not resume. The scenario (testkit/crash.py) is the one `tests/test_crash.py` runs in CI with fewer kills.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from testkit.crash import SEED, run_crash_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash_kill", description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs, each followed by a restart (default 50)")
    parser.add_argument("--users", type=int, default=4, help="people running routines at once (default 4)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed for delays and choices")
    parser.add_argument(
        "--database-url", help="default: a fresh SQLite file in the work directory; postgresql://... works too"
    )
    parser.add_argument("--keep", type=Path, help="keep the database and bot.log in this directory")
    args = parser.parse_args(argv)

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="limber-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(
        run_crash_scenario(
            workdir,
            kills=args.kills,
            users=args.users,
            seed=args.seed,
            database_url=args.database_url,
            progress=lambda line: print(line, flush=True),
        )
    )
    width = max(len(label) for label, _ in report.rows())
    print()
    for label, value in report.rows():
        print(f"{label:<{width}}  {value}")
    for problem in [*report.missing, *report.duplicates, *report.broken]:
        print(f"PROBLEM: {problem}")
    if report.ok:
        if args.keep is None:
            shutil.rmtree(workdir)
        print("OK: nothing acknowledged was lost")
        return 0
    print(f"FAILED: database and bot.log kept in {workdir}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
