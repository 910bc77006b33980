"""Rendered files: the progress chart as an image, the one-page PDF and its words, CSV and JSON exports."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import shutil
import struct
import subprocess
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from bot import i18n
from bot.coaching.progress import Progress, RatingRecord, SessionRecord, build_progress
from bot.reports import (
    AFTER_COLOUR,
    BEFORE_COLOUR,
    CSV_COLUMNS,
    _report_figure,
    _segments,
    chart_data,
    chart_figure,
    drawn_texts,
    export_csv,
    export_json,
    progress_chart,
    report_figure,
    report_pdf,
)
from bot.views_progress import csv_header, report_blocks, report_lines, report_table
from tests.seeded import BERLIN, TODAY, UTC_ZONE, at, ratings_of, seeded_marks, session, sixty_days

TITLES = {"pelvic-circles": "Lying pelvic circles", "hip-hike": "Lying hip hike", "clamshell": "Clamshells"}
FLAGS = [
    (datetime(2025, 2, 3, 10, tzinfo=UTC), "bladder_bowel,fever", "checked"),
    (datetime(2025, 2, 20, 23, 30, tzinfo=UTC), "injury", None),
]


def history() -> tuple[list[RatingRecord], list[SessionRecord]]:
    sessions = sixty_days()
    return [*ratings_of(sessions), RatingRecord(at(TODAY, 8), 5, "prompt")], sessions


def chart(ratings: list[RatingRecord], sessions: list[SessionRecord]) -> bytes:
    return progress_chart(ratings, sessions, TODAY, UTC_ZONE)


def pixels(png: bytes) -> np.ndarray:
    return (imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round().astype(int)


def distinct_colours(png: bytes) -> int:
    rgb = pixels(png)
    return len(np.unique(rgb[:, :, 0] << 16 | rgb[:, :, 1] << 8 | rgb[:, :, 2]))


@functools.cache
def seeded_chart() -> bytes:
    return chart(*history())


def count_colour(png: bytes, colour: str) -> int:
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(pixels(png) == rgb, axis=2).sum())


# ---------------------------------------------------------------- chart


def test_chart_is_a_png_of_1000_by_700() -> None:
    png = seeded_chart()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1000, 700)
    assert pixels(png).shape == (700, 1000, 3)


def test_chart_shows_the_series_in_their_colours() -> None:
    png = seeded_chart()
    assert distinct_colours(png) > 50
    assert count_colour(png, BEFORE_COLOUR) > 500
    assert count_colour(png, AFTER_COLOUR) > 500


def test_chart_is_reproducible_and_changes_with_the_data() -> None:
    ratings, sessions = history()
    png = chart(ratings, sessions)
    assert chart(ratings, sessions) == png
    assert b"Software" not in png  # no version stamp, so an upgrade alone does not change the bytes
    higher = [RatingRecord(r.at, min(10, r.value + 3), r.context, r.session_id) for r in ratings]
    assert chart(higher, sessions) != png
    assert chart(ratings, sessions[:-5]) != png  # fewer session days shaded


def test_ratings_outside_the_window_do_not_change_the_chart() -> None:
    ratings, sessions = history()
    old = RatingRecord(at(TODAY - timedelta(days=45)), 10, "free")
    assert chart([*ratings, old], sessions) == chart(ratings, sessions)


def test_an_empty_chart_still_renders() -> None:
    png = chart([], [])
    assert struct.unpack(">II", png[16:24]) == (1000, 700)
    assert distinct_colours(png) > 10  # axes and the "No ratings yet" text
    assert count_colour(png, BEFORE_COLOUR) == 0
    assert png != seeded_chart()


def test_chart_days_follow_the_zone() -> None:
    # 23:30 UTC on the last day of the window is already tomorrow in Berlin: off the chart there.
    late = [RatingRecord(datetime(2025, 3, 2, 23, 30, tzinfo=UTC), 5, "before")]
    assert count_colour(progress_chart(late, [], TODAY, UTC_ZONE), BEFORE_COLOUR) > 0
    assert count_colour(progress_chart(late, [], TODAY, BERLIN), BEFORE_COLOUR) == 0


# ---------------------------------------------------------------- one-page report


def seeded_progress() -> Progress:
    ratings, sessions = history()
    return build_progress(ratings, sessions, seeded_marks(), TODAY, UTC_ZONE)


def lines(progress: Progress, red_flags: list[tuple[datetime, str, str | None]] = FLAGS) -> list[str]:
    return report_lines(
        name="Alex",
        progress=progress,
        technique_titles=TITLES,
        red_flags=red_flags,
        generated=TODAY,
        tz=BERLIN,
    )


def pdf(progress: Progress, name: str = "Alex", red_flags: list[tuple[datetime, str, str | None]] = FLAGS) -> bytes:
    return report_pdf(
        name=name,
        progress=progress,
        ratings=history()[0],
        sessions=history()[1],
        technique_titles=TITLES,
        red_flags=red_flags,
        generated=TODAY,
        tz=BERLIN,
    )


def page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", document))


FLAGS_HEADING = "Warning signs flagged by Limber, and what the person answered"


def test_report_lines_say_what_a_clinician_needs() -> None:
    text = lines(seeded_progress())
    assert text[0] == "Limber summary for Alex"
    assert text[1] == "Period: 2 January 2025 to 2 March 2025 (60 days)."
    assert text[-1] == "Not medical advice. Generated by Limber on 2 March 2025."
    joined = "\n".join(text)
    # The prompt rating of 5 today: (39 + 5) / 12 = 3.67 -> 3.7 against 5.1; 1.4 points is 27%: the same.
    assert "your pain is about the same: it averaged 5.1 then and 3.7 in the last 7 days" in joined
    assert "2 points or 30%" in joined
    assert (
        "• 6.2 sessions a week over the last 4 weeks (6 in the last 7 days, 57 in all); current streak 8 days, "
        "longest 49 days." in text
    )
    helped = text.index("Stretches that seemed to help (pain fell more in sessions with them than without)")
    assert text[helped + 1 : helped + 3] == [
        "• Lying hip hike: in sessions with it, pain ended 2.0 points lower than it started on average (27 rated); "
        "without it, 1.0 point lower (24 rated).",
        "Stretches marked as hurting",
    ]
    assert text[text.index("Stretches marked as hurting") + 1] == "• Clamshells: marked as hurting twice"
    flags = text.index(FLAGS_HEADING)
    # Newest first, on Berlin dates: 23:30 UTC on 20 February is the 21st there.
    assert text[flags + 1 : flags + 3] == [
        "• 21 February 2025 at 00:30: flagged by Limber as possibly describing pain after a fall, accident or injury; "
        "no answer yet, coaching paused",
        "• 3 February 2025 at 11:00: flagged by Limber as possibly describing changes in bladder or bowel control; "
        "a fever, or feeling hot and shivery; they answered that a clinician has checked them",
    ]


def test_a_dismissed_false_alarm_reads_as_limbers_misreading() -> None:
    text = lines(seeded_progress(), red_flags=[(datetime(2025, 3, 1, 9, tzinfo=UTC), "fever", "absent")])
    entry = text[text.index(FLAGS_HEADING) + 1]
    assert entry.startswith("• 1 March 2025 at 10:00: flagged by Limber as possibly describing a fever")
    assert "they don't have these symptoms (a misreading, not a reported symptom)" in entry


def test_report_lines_with_no_history() -> None:
    empty = build_progress([], [], [], TODAY, UTC_ZONE)
    text = lines(empty, red_flags=[])
    assert text[1] == "No ratings or sessions recorded up to 2 March 2025."
    assert "• Rate your pain before and after 3 sessions to see your trend (0 so far)." in text
    helped = text.index("Stretches that seemed to help (pain fell more in sessions with them than without)")
    assert text[helped + 1].startswith("• Not enough data yet: I compare your sessions with a stretch")
    assert text[text.index("Stretches marked as hurting") + 1] == "• None."
    assert text[text.index(FLAGS_HEADING) + 1] == "• None recorded."


def test_report_lists_at_most_four_red_flags() -> None:
    many: list[tuple[datetime, str, str | None]] = [
        (datetime(2025, 2, day, 9, tzinfo=UTC), "fever", None) for day in range(1, 8)
    ]
    text = lines(seeded_progress(), red_flags=many)
    flags = text.index(FLAGS_HEADING)
    assert text[flags + 1].startswith("• 7 February 2025")
    assert text[flags + 5] == "• and 3 earlier"


def test_report_pdf_is_one_a4_page() -> None:
    document = pdf(seeded_progress())
    assert document.startswith(b"%PDF-")
    assert document.rstrip().endswith(b"%%EOF")
    assert page_count(document) == 1
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.44 841\.68\s*\]", document)


def test_report_pdf_stays_one_page_with_too_much_to_say() -> None:
    many: list[tuple[datetime, str, str | None]] = [
        (datetime(2025, 2, day, 9, tzinfo=UTC), "bladder_bowel,saddle,both_legs,fever,injury", None)
        for day in range(1, 28)
    ]
    document = pdf(seeded_progress(), name="A" * 200, red_flags=many)
    assert page_count(document) == 1


@pytest.mark.parametrize("name", ["Alex 😀", "Sam $\\frac{1", "", "李"])
def test_report_pdf_takes_any_name(name: str) -> None:
    # Warnings are errors here: a missing glyph or a broken "$...$" would fail the test.
    assert page_count(pdf(seeded_progress(), name=name)) == 1


def test_report_pdf_changes_with_the_name() -> None:
    assert pdf(seeded_progress(), name="Alex") != pdf(seeded_progress(), name="Sam")


# ---------------------------------------------------------------- exports


def export_history() -> tuple[list[RatingRecord], list[SessionRecord]]:
    sessions = [
        session(7, date(2025, 3, 1), before=6, after=4, outcomes=[("pelvic-circles", "done"), ("clamshell", "hurt")]),
        SessionRecord(
            8, "relax", datetime(2025, 3, 2, 9, tzinfo=UTC), None, True, 5, None, (("pelvic-tilt", "skipped"),)
        ),
    ]
    return [*ratings_of(sessions), RatingRecord(datetime(2025, 2, 28, 20, tzinfo=UTC), 3, "free")], sessions


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The export's rows keyed by column id, after checking the header a spreadsheet shows."""
    header, *rows = csv.reader(io.StringIO(data.decode("utf-8")))
    assert header == [csv_header()[key] for key in CSV_COLUMNS]
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows]


def test_export_csv_round_trips() -> None:
    ratings, sessions = export_history()
    rows = read_csv(export_csv(ratings=ratings, sessions=sessions))
    assert [r["record"] for r in rows] == ["rating"] * 4 + ["session", "step", "step", "session", "step"]
    free = rows[0]
    assert datetime.fromisoformat(free["at_utc"]) == datetime(2025, 2, 28, 20, tzinfo=UTC)
    assert (free["value"], free["context"], free["session_id"], free["technique_id"]) == ("3", "free", "", "")
    assert [(r["value"], r["context"], r["session_id"]) for r in rows[1:4]] == [
        ("6", "before", "7"),
        ("4", "after", "7"),
        ("5", "before", "8"),
    ]
    first, steps = rows[4], rows[5:7]
    assert (first["session_id"], first["routine_id"], first["stopped"]) == ("7", "hips", "no")
    assert datetime.fromisoformat(first["at_utc"]) == sessions[0].started_at
    assert datetime.fromisoformat(first["finished_at_utc"]) == sessions[0].finished_at
    assert [(s["step_index"], s["technique_id"], s["outcome"], s["session_id"]) for s in steps] == [
        ("0", "pelvic-circles", "done", "7"),
        ("1", "clamshell", "hurt", "7"),
    ]
    assert (steps[0]["at_utc"], steps[0]["value"]) == ("", "")
    stopped = rows[7]
    assert (stopped["stopped"], stopped["finished_at_utc"], stopped["routine_id"]) == ("yes", "", "relax")


def test_export_csv_with_nothing() -> None:
    header = "record,time (UTC),local time,session,routine,pain (0-10),when rated,step,stretch,outcome,stopped,"
    assert export_csv(ratings=[], sessions=[]).decode("utf-8") == header + "finished (UTC),finished (local time)\r\n"


def test_export_json_gives_every_table_and_each_instant_in_utc_and_local_time() -> None:
    exported = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
    tables = {
        "users": [
            {"id": 42, "first_name": "Zoë", "created_at": datetime(2025, 1, 1, 8, tzinfo=UTC), "blocked_at": None}
        ],
        "day_marks": [{"id": 1, "user_id": 42, "day": date(2025, 3, 1), "kind": "flare"}],
        "routine_sessions": [{"id": 7, "plan": [{"technique_id": "clamshell", "hold_seconds": 20}]}],
    }
    raw = export_json(tables=tables, tz=BERLIN, exported_at=exported)
    assert "Zoë" in raw.decode("utf-8")  # readable, not \u-escaped
    data = json.loads(raw)
    assert list(data) == ["exported_at", "exported_at_local", "time_zone", "tables"]
    assert (data["exported_at"], data["exported_at_local"], data["time_zone"]) == (
        "2025-03-02T12:00:00+00:00",
        "2025-03-02T13:00:00+01:00",
        "Europe/Berlin",
    )
    assert list(data["tables"]) == ["users", "day_marks", "routine_sessions"]
    assert data["tables"]["users"] == [
        {
            "id": 42,
            "first_name": "Zoë",
            "created_at": "2025-01-01T08:00:00+00:00",
            "created_at_local": "2025-01-01T09:00:00+01:00",
            "blocked_at": None,
        }
    ]
    # A local date is the person's own already; JSON columns stay structured.
    assert data["tables"]["day_marks"][0]["day"] == "2025-03-01"
    assert data["tables"]["routine_sessions"][0]["plan"] == [{"technique_id": "clamshell", "hold_seconds": 20}]


def test_export_json_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="set"):
        export_json(tables={"users": [{"x": {1}}]}, tz=UTC_ZONE, exported_at=datetime(2025, 3, 2, tzinfo=UTC))


def test_export_csv_gives_local_times_too() -> None:
    ratings, sessions = export_history()
    rows = read_csv(export_csv(ratings=ratings, sessions=sessions, tz=BERLIN))
    assert (rows[0]["at_utc"], rows[0]["at_local"]) == ("2025-02-28T20:00:00+00:00", "2025-02-28T21:00:00+01:00")
    assert rows[4]["finished_at_local"] == "2025-03-01T10:12:00+01:00"


def test_a_long_name_is_shortened_in_the_title() -> None:
    progress = build_progress([], [], [], TODAY, UTC_ZONE)
    title = report_lines(
        name="  Alexandra\nKonstantinopoulou-Papadopoulou the Third ",
        progress=progress,
        technique_titles={},
        red_flags=[],
        generated=TODAY,
    )[0]
    assert title == "Limber summary for Alexandra Konstantinopoulou-Pap…"


# ---------------------------------------------------------------- what the chart and the page show


def test_several_sessions_on_one_day_are_one_point_a_day() -> None:
    day = TODAY - timedelta(days=3)
    sessions = [
        session(1, day, before=8, after=6, hour=8),
        session(2, day, before=4, after=2, hour=19),
        session(3, TODAY, before=5, after=3),
    ]
    data = chart_data(ratings_of(sessions), sessions, TODAY, UTC_ZONE)
    assert data.days == 7  # a young history is drawn over a week, not in the corner of 30 days
    assert data.daily["before"] == {3: 6.0, 6: 5.0}
    assert data.daily["after"] == {3: 4.0, 6: 3.0}
    assert data.session_days == [3, 6]


def test_lines_never_bridge_a_day_without_data_and_the_average_covers_seven_days() -> None:
    days = [0, 1, 2, 5, 6]  # nothing on days 3 and 4
    ratings = [RatingRecord(at(TODAY - timedelta(days=6 - i)), 2 * i % 10, "prompt") for i in days]
    data = chart_data(ratings, [], TODAY, UTC_ZONE)
    assert _segments(data.daily["other"]) == [[0, 1, 2], [5, 6]]
    # No average on days without ratings either; day 5 averages days 0-5 (0, 2, 4, 0).
    assert sorted(data.average) == [1, 2, 5, 6]
    assert data.average[5] == (0 + 2 + 4 + 0) / 4
    sixty = chart_data(*history(), TODAY, UTC_ZONE)
    assert (sixty.days, sixty.start) == (30, TODAY - timedelta(days=29))


def test_day_one_shows_todays_ratings_large() -> None:
    sessions = [session(1, TODAY, before=6, after=4)]
    png = chart(ratings_of(sessions), sessions)
    assert chart_data(ratings_of(sessions), sessions, TODAY, UTC_ZONE).rated_days == 1
    # A 76-point digit in each colour, far more than any marker would paint.
    assert count_colour(png, BEFORE_COLOUR) > 1500 and count_colour(png, AFTER_COLOUR) > 1500
    assert png != chart([], [])


def test_no_date_label_is_clipped_at_the_edges() -> None:
    for png in (seeded_chart(), chart(*one_week_history())):
        rgb = pixels(png)
        assert (rgb[:, -4:] > 240).all() and (rgb[:, :4] > 240).all()


def one_week_history() -> tuple[list[RatingRecord], list[SessionRecord]]:
    sessions = [session(i, TODAY - timedelta(days=i), before=6, after=4) for i in range(7)]
    return ratings_of(sessions), sessions


def test_the_pdf_draws_the_chart_as_vectors_and_fills_the_page_with_the_table() -> None:
    document = pdf(seeded_progress())
    assert b"/Subtype /Image" not in document  # lines and text, not a raster
    ratings, sessions = history()
    table = report_table(ratings, sessions, {"hips": "Hips"}, BERLIN)
    assert table[0] == ("2 Mar 2025 09:00", "Pain on the daily prompt", "", "5")
    assert table[1] == ("1 Mar 2025 10:00", "Hips", "2 of 3 done", "4 → 3 (-1)")  # hip hikes skipped
    progress = seeded_progress()
    title, period, blocks, footer = report_blocks(
        name="Alex",
        progress=progress,
        technique_titles=TITLES,
        red_flags=FLAGS,
        generated=TODAY,
        tz=BERLIN,
    )
    fig = _report_figure(title, period, blocks, footer, chart_data(ratings, sessions, TODAY, BERLIN), table, BERLIN)
    texts = [(t.get_text(), t.get_position()[1]) for t in fig.texts]
    (more,) = [(text, y) for text, y in texts if text.startswith("… and ") and "earlier" in text]
    shown = sum(1 for text, _ in texts if text in {row[0] for row in table})
    assert more[0] == f"… and {len(table) - shown} earlier: everything is in /export"
    assert shown >= 15
    # The page is used to its foot: the last line sits just above the footer.
    assert 0.055 < more[1] < 0.055 + 2 * 0.0128  # within two rows of the bottom margin


# ---------------------------------------------------------------- other languages


def _no_missing_glyphs(render: Callable[[], bytes]) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = render()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message).lower()]
    assert not missing
    return data


@pytest.mark.parametrize(
    ("language", "title", "words"),
    [
        ("ru", "Ваша боль с 1 февраля по 2 марта 2025\u202fг.", {"До занятия", "После занятия", "День с занятием"}),
        ("es", "Tu dolor, del 1 de febrero al 2 de marzo de 2025", {"Antes de una sesión", "Día con sesión"}),
    ],
)
def test_the_chart_speaks_the_persons_language_with_every_letter_drawn(
    language: str, title: str, words: set[str]
) -> None:
    ratings, sessions = history()
    with i18n.speaking(language):
        texts = drawn_texts(chart_figure(ratings, sessions, TODAY, UTC_ZONE))
        png = _no_missing_glyphs(lambda: progress_chart(ratings, sessions, TODAY, UTC_ZONE))
    assert title in texts and words <= set(texts)
    assert "5 февр." in texts if language == "ru" else "5 feb" in texts
    assert png != seeded_chart()  # the English one


def test_the_first_day_chart_speaks_russian() -> None:
    ratings = [RatingRecord(at(TODAY, 9), 6, "before"), RatingRecord(at(TODAY, 10), 4, "after")]
    with i18n.speaking("ru"):
        texts = drawn_texts(chart_figure(ratings, [], TODAY, UTC_ZONE))
        _no_missing_glyphs(lambda: progress_chart(ratings, [], TODAY, UTC_ZONE))
    assert "Ваша боль сегодня" in texts
    assert "09:00\nдо занятия" in texts and "из 10" in texts


@pytest.mark.parametrize("language", ["ru", "es"])
def test_the_pdf_speaks_the_persons_language_with_every_letter_drawn(language: str) -> None:
    progress = seeded_progress()
    name = {"ru": "Юлия Ёлкина", "es": "Begoña Núñez"}[language]
    args: dict[str, Any] = {
        "name": name,
        "progress": progress,
        "ratings": history()[0],
        "sessions": history()[1],
        "technique_titles": TITLES,
        "routine_titles": {"hips": "Caderas" if language == "es" else "Бёдра"},
        "red_flags": FLAGS,
        "generated": TODAY,
        "tz": BERLIN,
    }
    with i18n.speaking(language):
        texts = "\n".join(drawn_texts(report_figure(**args)))
        document = _no_missing_glyphs(lambda: report_pdf(**args))
    assert page_count(document) == 1
    expected = {
        "ru": ["Сводка Limber: Юлия Ёлкина", "Динамика боли", "Регулярность", "Занятия и оценки, сначала новые"],
        "es": ["Resumen de Limber de Begoña Núñez", "Evolución del dolor", "Constancia", "Caderas"],
    }[language]
    assert all(piece in texts for piece in expected)
    if shutil.which("pdftotext"):
        # The PDF's own text layer, as a clinician's viewer would copy it.
        extracted = subprocess.run(["pdftotext", "-", "-"], input=document, capture_output=True, check=True)
        layer = " ".join(extracted.stdout.decode("utf-8").split())
        assert all(" ".join(piece.split()) in layer for piece in expected)


def test_a_long_translated_heading_wraps_on_the_page() -> None:
    with i18n.speaking("ru"):
        texts = drawn_texts(
            report_figure(
                name="Юлия",
                progress=seeded_progress(),
                ratings=[],
                sessions=[],
                technique_titles=TITLES,
                red_flags=[],
                generated=TODAY,
            )
        )
    heading = "Упражнения, которые, похоже, помогали (боль снижалась сильнее на занятиях с ними, чем без них)"
    assert heading not in texts  # too long for one line of the page
    assert any(t.startswith("Упражнения, которые, похоже, помогали") for t in texts)
    assert "без них)" in texts


def test_the_csv_speaks_spanish_and_russian() -> None:
    ratings, sessions = export_history()
    with i18n.speaking("es"):
        rows = read_csv(export_csv(ratings=ratings, sessions=sessions))
        header = list(csv_header().values())
    assert header[:3] == ["registro", "hora (UTC)", "hora local"]
    assert [r["record"] for r in rows[:5]] == ["valoración"] * 4 + ["sesión"]
    assert (rows[1]["context"], rows[5]["outcome"], rows[4]["stopped"]) == ("antes", "hecho", "no")
    with i18n.speaking("ru"):
        rows = read_csv(export_csv(ratings=ratings, sessions=sessions))
    assert (rows[0]["record"], rows[6]["outcome"], rows[7]["stopped"]) == ("оценка", "больно", "да")
    assert rows[5]["technique_id"] == "pelvic-circles"  # ids stay ids
