"""Three people to look at the chart and the PDF with: day one, one week, three months of use.

`python -m tests.personas OUT_DIR` renders each one's /progress chart and /report PDF (and, with
pdftoppm installed, the PDF's page as a PNG) so a person can look at them.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.coaching.progress import DayMark, Progress, RatingRecord, SessionRecord, build_progress
from bot.reports import progress_chart, report_pdf
from tests.seeded import BERLIN, TODAY, at

HIPS = ("pelvic-circles", "hip-hike", "edge-of-bed-hip-flexor", "half-kneeling-hip-flexor", "clamshell")
LOW_BACK = ("seated-pelvic-rock", "pelvic-tilt", "knee-to-chest", "glute-bridge")
TECHNIQUES = {
    "pelvic-circles": "Lying pelvic circles",
    "hip-hike": "Lying hip hike",
    "edge-of-bed-hip-flexor": "Edge-of-bed hip flexor stretch",
    "half-kneeling-hip-flexor": "Half-kneeling hip flexor stretch",
    "clamshell": "Clamshells",
    "seated-pelvic-rock": "Seated pelvic rock",
    "pelvic-tilt": "Lying pelvic tilt",
    "knee-to-chest": "Knee to chest",
    "glute-bridge": "Glute bridge",
}
ROUTINES = {"hips": "Hips", "low-back": "Low back"}


@dataclass
class Persona:
    name: str
    joined: date
    ratings: list[RatingRecord]
    sessions: list[SessionRecord]
    marks: list[DayMark]
    red_flags: list[tuple[datetime, str, str | None]]
    today: date = TODAY

    def progress(self) -> Progress:
        return build_progress(self.ratings, self.sessions, self.marks, self.today, BERLIN, joined=self.joined)


class _Builder:
    def __init__(self) -> None:
        self.ratings: list[RatingRecord] = []
        self.sessions: list[SessionRecord] = []

    def session(
        self, day: date, hour: int, minute: int, routine: str, before: int | None, after: int | None, hurt: str = ""
    ) -> None:
        sid = len(self.sessions) + 1
        started = at(day, hour, minute, BERLIN)
        techniques = HIPS if routine == "hips" else LOW_BACK
        outcomes = tuple((t, "hurt" if t == hurt else "done") for t in techniques)
        self.sessions.append(
            SessionRecord(sid, routine, started, started + timedelta(minutes=9), False, before, after, outcomes)
        )
        if before is not None:
            self.ratings.append(RatingRecord(started, before, "before", sid))
        if after is not None:
            self.ratings.append(RatingRecord(started + timedelta(minutes=10), after, "after", sid))

    def rating(self, day: date, hour: int, minute: int, value: int, context: str = "prompt") -> None:
        self.ratings.append(RatingRecord(at(day, hour, minute, BERLIN), value, context))


def day_one() -> Persona:
    b = _Builder()
    b.rating(TODAY, 7, 30, 6)
    b.session(TODAY, 7, 45, "hips", 6, 4)
    b.session(TODAY, 19, 10, "low-back", 5, 3)
    return Persona("Ana", TODAY, b.ratings, b.sessions, [], [])


def one_week() -> Persona:
    b = _Builder()
    start = TODAY - timedelta(days=6)
    pain = [6, 6, 5, 5, 5, 4, 4]
    for i in range(7):
        day = start + timedelta(days=i)
        if i != 3:
            b.rating(day, 7, 30, pain[i] + (1 if i % 2 else 0))
            b.session(day, 7, 50, "hips", pain[i], max(pain[i] - 2, 0), hurt="clamshell" if i == 2 else "")
        if i in (1, 5):
            b.session(day, 20, 15, "low-back", pain[i] - 1, pain[i] - 2)
    flags: list[tuple[datetime, str, str | None]] = [
        (at(start + timedelta(days=2), 21, 40, BERLIN), "injury", "checked")
    ]
    marks = [DayMark(start + timedelta(days=3), "rest")]
    return Persona("Ben", start, b.ratings, b.sessions, marks, flags)


def three_months() -> Persona:
    rng = random.Random(7)
    b = _Builder()
    start = TODAY - timedelta(days=89)
    marks: list[DayMark] = []
    for i in range(90):
        day = start + timedelta(days=i)
        level = 7 - 4 * i / 89  # from about 7 down to about 3
        if 40 <= i <= 47:  # a week away: no data at all
            continue
        if i in (20, 61):
            marks.append(DayMark(day, "flare"))
            b.rating(day, 8, 0, min(10, round(level + 3)))
            continue
        if rng.random() < 0.75:
            b.rating(day, 7, rng.randint(0, 50), max(0, min(10, round(level + rng.uniform(-1, 1)))))
        if rng.random() < 0.85:
            before = max(0, min(10, round(level + rng.uniform(-1.2, 1.2))))
            routine = "hips" if rng.random() < 0.6 else "low-back"
            drop = rng.choice((2, 2, 3)) if routine == "hips" else rng.choice((0, 1, 1))
            hurt = "clamshell" if routine == "hips" and rng.random() < 0.05 else ""
            after = None if rng.random() < 0.1 else max(0, before - drop)
            b.session(day, 8, rng.randint(0, 59), routine, before, after, hurt=hurt)
            if rng.random() < 0.2:
                b.session(day, 19, rng.randint(0, 59), "low-back", max(0, before - 1), max(0, before - 2))
    flags = [
        (at(start + timedelta(days=12), 22, 5, BERLIN), "bladder_bowel", "absent"),
        (at(start + timedelta(days=63), 9, 20, BERLIN), "injury", "checked"),
        (at(start + timedelta(days=85), 18, 45, BERLIN), "fever,both_legs", None),
    ]
    return Persona("Chidi", start, b.ratings, b.sessions, marks, flags)


PERSONAS = {"day-one": day_one, "one-week": one_week, "three-months": three_months}


def render(persona: Persona) -> tuple[bytes, bytes]:
    progress = persona.progress()
    chart = progress_chart(persona.ratings, persona.sessions, persona.today, BERLIN)
    pdf = report_pdf(
        name=persona.name,
        progress=progress,
        ratings=persona.ratings,
        sessions=persona.sessions,
        technique_titles=TECHNIQUES,
        routine_titles=ROUTINES,
        red_flags=persona.red_flags,
        generated=persona.today,
        tz=BERLIN,
    )
    return chart, pdf


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for key, make in PERSONAS.items():
        chart, pdf = render(make())
        (out / f"{key}-chart.png").write_bytes(chart)
        (out / f"{key}-report.pdf").write_bytes(pdf)
        if shutil.which("pdftoppm"):
            page = out / f"{key}-report"
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(page) + ".pdf", str(page)], check=True)
        print(f"{key}: {out / key}-chart.png, {out / key}-report.pdf", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "personas"))
