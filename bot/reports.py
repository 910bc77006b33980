"""Files made from a person's history: the progress chart (PNG), the one-page summary (PDF), exports (CSV, JSON).

Plain records in, bytes out: no Telegram, no database, no clock. Figures are built with the
object-oriented Figure API and never registered with pyplot, so nothing global is left behind and
rendering is safe from worker threads.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.textpath import TextPath

from bot.coaching.progress import (
    MONTHS,
    Progress,
    RatingRecord,
    SessionRecord,
    change_phrase,
    format_date,
    local_day,
    session_days,
    technique_lines,
    times,
    trend_sentence,
)
from bot.views import describe_signs

# No display anywhere; also keeps any later pyplot import headless.
matplotlib.use("Agg")

UTC_ZONE = ZoneInfo("UTC")
CHART_SIZE = (10.0, 7.0)  # inches at CHART_DPI: 1000 x 700 px
CHART_DPI = 100
A4 = (8.27, 11.69)
BEFORE_COLOUR = "#D55E00"  # colour-blind safe (Okabe-Ito)
AFTER_COLOUR = "#0072B2"
OTHER_COLOUR = "#555555"
SESSION_COLOUR = "#009E73"
MAX_NAME = 32  # characters: the title stays on one line of the page
REPORT_HELPED = 3
REPORT_HURTING = 4
REPORT_RED_FLAGS = 4
# A flag is Limber's reading of what the person wrote; what they answered decides how it reads.
CLEARED = {
    "checked": "they answered that a clinician has checked them",
    "absent": "they answered that they don't have these symptoms (a misreading, not a reported symptom)",
}
CSV_COLUMNS = (
    "record",
    "at_utc",
    "at_local",
    "session_id",
    "routine_id",
    "value",
    "context",
    "step_index",
    "technique_id",
    "outcome",
    "stopped",
    "finished_at_utc",
    "finished_at_local",
)

RedFlag = tuple[datetime, str, str | None]  # (raised at, comma-separated categories, cleared reason)


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).isoformat()


def _local_iso(at: datetime | None, tz: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(tz).isoformat()


# ---------------------------------------------------------------- chart


def _short(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


SERIES = {
    "before": ("Before a session", BEFORE_COLOUR, "o", 0.35),
    "after": ("After a session", AFTER_COLOUR, "^", 0.65),
    "other": ("Other ratings", OTHER_COLOUR, "s", 0.5),
}
AVERAGE_COLOUR = "#222222"
MIN_CHART_DAYS = 7  # a young history is drawn over a week, not squeezed into the right edge of 30 days
CONTEXT_WORDS = {"before": "before a session", "after": "after a session", "prompt": "daily prompt"}


def _kind(context: str) -> str:
    return context if context in ("before", "after") else "other"


@dataclass(frozen=True)
class ChartData:
    """What the chart draws, by local day: each day's mean per series, and the 7-day average."""

    start: date
    today: date
    days: int  # the span drawn, today included
    daily: dict[str, dict[int, float]]  # series -> day index -> that day's mean
    average: dict[int, float]  # day index -> mean of every rating in the 7 days up to it
    session_days: list[int]
    rated_days: int  # local days in the span with any rating
    latest: list[RatingRecord]  # the ratings of the newest day with ratings, by time
    any_ratings: bool  # any ratings at all, in the span or before it


def chart_data(
    ratings: Sequence[RatingRecord], sessions: Sequence[SessionRecord], today: date, tz: ZoneInfo, days: int = 30
) -> ChartData:
    """Daily means (several sessions a day make one point, not a spike) over the last `days` local days,
    or fewer when the history is younger (a week at least)."""
    by_day: dict[date, list[RatingRecord]] = {}
    for r in ratings:
        d = local_day(r.at, tz)
        if today - timedelta(days=days - 1) <= d <= today:
            by_day.setdefault(d, []).append(r)
    first = min(by_day, default=today)
    start = min(today - timedelta(days=MIN_CHART_DAYS - 1), max(today - timedelta(days=days - 1), first))
    span = (today - start).days + 1
    daily: dict[str, dict[int, float]] = {key: {} for key in SERIES}
    for d, records in by_day.items():
        for key in SERIES:
            values = [r.value for r in records if _kind(r.context) == key]
            if values and d >= start:
                daily[key][(d - start).days] = sum(values) / len(values)
    average: dict[int, float] = {}
    for i in range(span):
        day = start + timedelta(days=i)
        window = [r.value for d, rs in by_day.items() if day - timedelta(days=6) <= d <= day for r in rs]
        # Only on days with ratings: the line breaks where the others do, never bridging a day without data.
        if len(window) >= 2 and day in by_day:
            average[i] = sum(window) / len(window)
    shaded = sorted((d - start).days for d in session_days(sessions, tz) if start <= d <= today)
    latest_day = max(by_day, default=None)
    latest = sorted(by_day[latest_day], key=lambda r: r.at) if latest_day else []
    return ChartData(start, today, span, daily, average, shaded, len(by_day), latest, bool(ratings))


def _segments(points: dict[int, float]) -> list[list[int]]:
    """Runs of consecutive days: a line joins neighbouring days only, never across a day without data."""
    runs: list[list[int]] = []
    for i in sorted(points):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _draw_first_day(
    fig: Figure, rect: tuple[float, float, float, float], data: ChartData, tz: ZoneInfo, k: float
) -> None:
    """Too little for a chart yet: the newest day's ratings, large, and what the chart will show."""
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    text: dict[str, Any] = {"parse_math": False, "transform": ax.transAxes}
    if not data.latest:
        empty = "No ratings yet" if not data.any_ratings else f"No ratings in the last {data.days} days"
        ax.text(0.5, 0.62, empty, ha="center", va="center", fontsize=30 * k, color="#333333", **text)
        ax.text(
            0.5,
            0.45,
            "Rate your pain from 0 to 10 to see it here",
            ha="center",
            va="center",
            fontsize=17 * k,
            color="#555555",
            **text,
        )
    else:
        day = local_day(data.latest[0].at, tz)
        heading = "Your pain today" if day == data.today else f"Your pain on {format_date(day, year=False)}"
        ax.text(0.5, 0.97, heading, ha="center", va="top", fontsize=24 * k, fontweight="bold", color="#222222", **text)
        shown = data.latest[-6:]
        width = 1 / len(shown)
        for n, r in enumerate(shown):
            x = width * (n + 0.5)
            colour = SERIES[_kind(r.context)][1]
            ax.text(
                x,
                0.68,
                f"{r.value}",
                ha="center",
                va="center",
                fontsize=76 * k,
                fontweight="bold",
                color=colour,
                **text,
            )
            ax.text(x, 0.52, "out of 10", ha="center", va="center", fontsize=13 * k, color="#555555", **text)
            words = CONTEXT_WORDS.get(r.context, "a rating")
            ax.text(
                x,
                0.45,
                f"{r.at.astimezone(tz):%H:%M}\n{words}",
                ha="center",
                va="top",
                fontsize=(15 if len(shown) <= 4 else 13) * k,
                color=colour,
                linespacing=1.3,
                **text,
            )
        if len(data.latest) > len(shown):
            ax.text(
                0.5,
                0.24,
                f"(and {len(data.latest) - len(shown)} earlier that day)",
                ha="center",
                fontsize=13 * k,
                color="#555555",
                **text,
            )
    ax.text(
        0.5,
        0.13,
        "After a week of ratings this shows your pain day by day, with a 7-day average.",
        ha="center",
        va="bottom",
        fontsize=15 * k,
        style="italic",
        color="#333333",
        **text,
    )


def draw_chart(
    fig: Figure,
    rect: tuple[float, float, float, float],
    data: ChartData,
    tz: ZoneInfo,
    *,
    scale: float = 1.0,
) -> None:
    """Draw the pain chart into `rect` of `fig` (the PNG's whole figure, or a part of the PDF's page)."""
    k = scale
    if data.rated_days < 2:
        _draw_first_day(fig, rect, data, tz, k)
        return
    x0, y0, w, h = rect
    # Room below for dates and the legend, above for the title; the right margin keeps the last date whole.
    ax = fig.add_axes((x0 + 0.09 * w, y0 + 0.27 * h, 0.86 * w, 0.62 * h))
    handles: list[Line2D | Patch] = []
    for i in data.session_days:
        # A gap between neighbouring days keeps each day countable.
        ax.axvspan(i + 0.08, i + 0.92, color=SESSION_COLOUR, alpha=0.2, linewidth=0)
    if data.session_days:
        handles.append(Patch(color=SESSION_COLOUR, alpha=0.35, label="Day with a session"))
    for key, (label, colour, marker, offset) in SERIES.items():
        points = data.daily[key]
        if not points:
            continue
        line: Line2D | None = None
        for run in _segments(points):
            (line,) = ax.plot(
                [i + offset for i in run],
                [points[i] for i in run],
                linestyle="-" if key != "other" else "none",
                linewidth=2.2 * k,
                marker=marker,
                markersize=9 * k,
                color=colour,
                markeredgecolor="white",
                markeredgewidth=1.0 * k,
                label=label,
            )
        assert line is not None
        handles.append(line)
    if data.average:
        line = None
        for run in _segments(data.average):
            (line,) = ax.plot(
                [i + 0.5 for i in run],
                [data.average[i] for i in run],
                color=AVERAGE_COLOUR,
                linewidth=3.5 * k,
                alpha=0.75,
                solid_capstyle="round",
                label="7-day average (all ratings)",
            )
        assert line is not None
        handles.append(line)
    days = data.days
    ax.set_xlim(0, days)
    ax.set_ylim(-0.4, 10.4)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("Pain (0-10), a day's mean", fontsize=15 * k)
    step = 1 if days <= 10 else -(-days // 6)
    ticks = list(range(days - 1, -1, -step))[::-1]
    ax.set_xticks([t + 0.5 for t in ticks])
    ax.set_xticklabels([_short(data.start + timedelta(days=t)) for t in ticks])
    ax.tick_params(labelsize=14 * k, length=5 * k, width=1.2 * k)
    ax.grid(axis="y", color="#dddddd", linewidth=1 * k)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"Your pain, {format_date(data.start, year=data.start.year != data.today.year)} to {format_date(data.today)}",
        fontsize=20 * k,
        fontweight="bold",
        pad=12 * k,
    )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.13),
            ncol=3 if len(handles) > 4 else 2,
            fontsize=13 * k,
            frameon=False,
        )


def progress_chart(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    today: date,
    tz: ZoneInfo,
    days: int = 30,
) -> bytes:
    """Pain 0-10 over the last `days` local days as a 1000x700 PNG, large enough to read on a phone."""
    fig = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    draw_chart(fig, (0.0, 0.0, 1.0, 1.0), chart_data(ratings, sessions, today, tz, days), tz)
    buffer = io.BytesIO()
    # No "Software" stamp, so the same history always gives the same bytes.
    fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    fig.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- one-page report


def _describe(categories: str) -> str:
    keys = [c.strip() for c in categories.split(",") if c.strip()]
    return "; ".join(describe_signs(keys)) or "unspecified"


def report_blocks(
    *,
    name: str,
    progress: Progress,
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    adherence: str,
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
) -> tuple[str, str, list[tuple[str, list[str]]], str]:
    """(title, period, [(heading, lines)], footer): the report's words, capped to fit one page."""
    p = progress

    def title_of(tid: str) -> str:
        return technique_titles.get(tid, tid)

    shown = " ".join(name.split())
    shown = shown if len(shown) <= MAX_NAME else shown[: MAX_NAME - 1].rstrip() + "…"
    title = f"Limber summary for {shown}" if shown else "Limber summary"
    if p.first_day is None:
        period = f"No ratings or sessions recorded up to {format_date(p.today)}."
    else:
        start = p.started or p.first_day
        if start >= p.today:
            period = f"Period: {format_date(p.today)}, the first day with Limber."
        else:
            period = f"Period: {format_date(start)} to {format_date(p.today)} ({(p.today - start).days + 1} days)."

    trend: list[str] = []
    if p.trend is not None:
        trend.append(trend_sentence(p.trend, p.today))
    if p.average_change is not None:
        trend.append(
            f"Pain after a session was {change_phrase(p.average_change)} than before on average "
            f"({p.rated_sessions} rated sessions)."
        )
    if p.missing:
        trend.append(p.missing)

    helped_lines = technique_lines(p, technique_titles, REPORT_HELPED)

    hurting = list(p.hurt_marks.items())
    hurting_lines = [f"{title_of(tid)}: marked as hurting {times(n)}" for tid, n in hurting[:REPORT_HURTING]]
    if len(hurting) > REPORT_HURTING:
        hurting_lines.append(f"and {len(hurting) - REPORT_HURTING} more")
    if not hurting_lines:
        hurting_lines = ["None."]

    flags = sorted(red_flags, key=lambda f: f[0], reverse=True)
    flag_lines = [
        f"{format_date(local_day(at, tz))} at {at.astimezone(tz):%H:%M}: flagged by Limber as possibly describing "
        f"{_describe(categories)}; "
        + (CLEARED.get(reason, f"cleared: {reason}") if reason else "no answer yet, coaching paused")
        for at, categories, reason in flags[:REPORT_RED_FLAGS]
    ]
    if len(flags) > REPORT_RED_FLAGS:
        flag_lines.append(f"and {len(flags) - REPORT_RED_FLAGS} earlier")
    if not flag_lines:
        flag_lines = ["None recorded."]

    blocks = [
        ("Pain trend", trend or ["Not enough ratings for a trend yet."]),
        ("Adherence", [adherence]),
        ("Stretches that seemed to help (pain fell more in sessions with them than without)", helped_lines),
        ("Stretches marked as hurting", hurting_lines),
        ("Warning signs flagged by Limber, and what the person answered", flag_lines),
    ]
    footer = f"Not medical advice. Generated by Limber on {format_date(generated)}."
    return title, period, blocks, footer


def report_lines(
    *,
    name: str,
    progress: Progress,
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    adherence: str,
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
) -> list[str]:
    """Every line of text the PDF shows, in order (headings, then their items with a bullet)."""
    title, period, blocks, footer = report_blocks(
        name=name,
        progress=progress,
        technique_titles=technique_titles,
        red_flags=red_flags,
        adherence=adherence,
        generated=generated,
        tz=tz,
    )
    lines = [title, period]
    for heading, items in blocks:
        lines.append(heading)
        lines.extend(f"• {item}" for item in items)
    lines.append(footer)
    return lines


@functools.cache
def _glyphs() -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    return frozenset(FT2Font(path).get_charmap())


def _drawable(text: str) -> str:
    """Drop characters the font lacks (emoji in a name), which would otherwise draw as boxes and warn."""
    glyphs = _glyphs()
    return "".join(ch for ch in text if ord(ch) in glyphs or ch == " ")


def _fitting_size(text: str, size: float, width_points: float) -> float:
    """The font size, at most `size`, at which the bold text fits the width (a long name in the title)."""
    width = TextPath((0, 0), text, size=size, prop=FontProperties(weight="bold")).get_extents().width
    return size if width <= width_points else size * width_points / width


TableRow = tuple[str, str, str, str]  # when, what, steps, pain
TABLE_COLUMNS = ("When", "What", "Steps", "Pain (0-10)")
TABLE_X = (0.07, 0.25, 0.62, 0.76)  # column starts, as fractions of the page width
RATING_WORDS = {"prompt": "Pain on the daily prompt", "free": "Pain rating", "during": "Pain during a routine"}


def report_table(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    routine_titles: dict[str, str],
    tz: ZoneInfo,
) -> list[TableRow]:
    """Sessions (with their pain before and after) and other ratings, newest first, for the clinician."""
    rows: list[tuple[datetime, TableRow]] = []
    for s in sessions:
        done = sum(1 for _, o in s.outcomes if o == "done")
        hurt = sum(1 for _, o in s.outcomes if o == "hurt")
        steps = f"{done} of {len(s.outcomes)} done" + (f", {hurt} hurt" if hurt else "") if s.outcomes else "none"
        before = "–" if s.before is None else str(s.before)
        after = "–" if s.after is None else str(s.after)
        pain = f"{before} → {after}"
        if s.before is not None and s.after is not None:
            pain += f" ({s.after - s.before:+d})" if s.after != s.before else " (same)"
        what = routine_titles.get(s.routine_id, s.routine_id) + (" (stopped)" if s.stopped else "")
        rows.append((s.started_at, (_when(s.started_at, tz), what, steps, pain)))
    for r in ratings:
        if r.session_id is None or r.context not in ("before", "after"):
            rows.append((r.at, (_when(r.at, tz), RATING_WORDS.get(r.context, "Pain rating"), "", str(r.value))))
    return [row for _, row in sorted(rows, key=lambda x: x[0], reverse=True)]


def _when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.day} {MONTHS[local.month - 1][:3]} {local.year} {local:%H:%M}"


def _report_figure(
    title: str,
    period: str,
    blocks: list[tuple[str, list[str]]],
    footer: str,
    chart: ChartData,
    table: list[TableRow],
    tz: ZoneInfo,
) -> Figure:
    fig = Figure(figsize=A4)
    text: dict[str, Any] = {"parse_math": False, "color": "#222222"}  # a "$" in a name stays a "$"
    fig.text(
        0.07, 0.96, title, fontsize=_fitting_size(title, 18, 0.86 * A4[0] * 72), fontweight="bold", va="top", **text
    )
    fig.text(0.07, 0.932, period, fontsize=10, va="top", **text)
    # Drawn on the page itself: vector lines and text, sharp at any zoom and in print.
    draw_chart(fig, (0.05, 0.625, 0.90, 0.295), chart, tz, scale=0.6)

    lines: list[tuple[str, str]] = []  # (text, "heading" | "item")
    for heading, items in blocks:
        lines.append((heading, "heading"))
        for item in items:
            wrapped = textwrap.wrap(item, width=104, initial_indent="• ", subsequent_indent="   ")
            lines.extend((w, "item") for w in wrapped)
    line_height, heading_gap, y, bottom = 0.0148, 0.007, 0.645, 0.055
    for index, (line, kind) in enumerate(lines):
        top = y - (heading_gap if kind == "heading" else 0)
        below = top - line_height * (1.15 if kind == "heading" else 1.0)
        # Never a second page: stop while there is room to say where the rest is.
        if below - line_height < bottom:
            fig.text(
                0.07,
                top,
                f"… and {len(lines) - index} more lines: everything is in /export",
                fontsize=9,
                va="top",
                **text,
            )
            y = bottom
            break
        fig.text(
            0.07,
            top,
            line,
            fontsize=10.5 if kind == "heading" else 9,
            fontweight="bold" if kind == "heading" else "normal",
            va="top",
            **text,
        )
        y = below

    # The table takes the rest of the page, newest first; what does not fit is counted, not dropped silently.
    row_height = 0.0128
    top = y - heading_gap - 0.004
    if table and top - 3 * row_height > bottom:
        fig.text(0.07, top, "Sessions and ratings, newest first", fontsize=10.5, fontweight="bold", va="top", **text)
        top -= line_height * 1.15
        for x, name in zip(TABLE_X, TABLE_COLUMNS, strict=True):
            fig.text(x, top, name, fontsize=8.5, fontweight="bold", va="top", color="#444444", parse_math=False)
        top -= row_height
        fig.add_artist(Line2D([0.07, 0.93], [top + 0.002, top + 0.002], color="#999999", linewidth=0.6))
        room = int((top - bottom) / row_height)
        shown = table if len(table) <= room else table[: max(room - 1, 0)]
        for n, row in enumerate(shown):
            if n % 2 == 0:
                fig.add_artist(
                    Rectangle((0.065, top - row_height + 0.0022), 0.87, row_height, color="#f1f1f1", linewidth=0)
                )
            for x, cell in zip(TABLE_X, row, strict=True):
                fig.text(x, top - 0.001, cell, fontsize=8.5, va="top", **text)
            top -= row_height
        if len(shown) < len(table):
            fig.text(
                0.07,
                top - 0.001,
                f"… and {len(table) - len(shown)} earlier: everything is in /export",
                fontsize=8.5,
                va="top",
                style="italic",
                **text,
            )
    elif not table:
        fig.text(0.07, top, "No sessions or ratings recorded yet.", fontsize=9, va="top", **text)
    fig.text(0.5, 0.028, footer, fontsize=9, ha="center", va="bottom", style="italic", **text)
    return fig


def report_pdf(
    *,
    name: str,
    progress: Progress,
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    adherence: str,
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
    routine_titles: dict[str, str] | None = None,
) -> bytes:
    """A one-page A4 summary to forward to a physiotherapist or doctor: one figure is one page."""
    title, period, blocks, footer = report_blocks(
        name=_drawable(name),
        progress=progress,
        technique_titles=technique_titles,
        red_flags=red_flags,
        adherence=adherence,
        generated=generated,
        tz=tz,
    )
    chart = chart_data(ratings, sessions, progress.today, tz)
    table = report_table(ratings, sessions, routine_titles or {}, tz)
    fig = _report_figure(title, period, blocks, footer, chart, table, tz)
    FigureCanvasPdf(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf", metadata={"Title": "Limber summary", "Creator": "Limber", "CreationDate": None})
    fig.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- exports


def export_csv(*, ratings: Sequence[RatingRecord], sessions: Sequence[SessionRecord], tz: ZoneInfo = UTC_ZONE) -> bytes:
    """One UTF-8 CSV: rating rows by time, then each session followed by its steps in order.

    Times are given in UTC and in the person's zone (`*_local`, with its offset).
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for r in sorted(ratings, key=lambda r: r.at):
        writer.writerow(
            {
                "record": "rating",
                "at_utc": _iso(r.at),
                "at_local": _local_iso(r.at, tz),
                "session_id": "" if r.session_id is None else r.session_id,
                "value": r.value,
                "context": r.context,
            }
        )
    for s in sorted(sessions, key=lambda s: (s.started_at, s.id)):
        writer.writerow(
            {
                "record": "session",
                "at_utc": _iso(s.started_at),
                "at_local": _local_iso(s.started_at, tz),
                "session_id": s.id,
                "routine_id": s.routine_id,
                "stopped": "true" if s.stopped else "false",
                "finished_at_utc": _iso(s.finished_at),
                "finished_at_local": _local_iso(s.finished_at, tz),
            }
        )
        for index, (tid, outcome) in enumerate(s.outcomes):
            writer.writerow(
                {
                    "record": "step",
                    "session_id": s.id,
                    "routine_id": s.routine_id,
                    "step_index": index,
                    "technique_id": tid,
                    "outcome": outcome,
                }
            )
    return buffer.getvalue().encode("utf-8")


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


def _with_local_times(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """A row with every instant twice: `x` in UTC and `x_local` in the person's zone (dates stay as they are)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            out[key] = _iso(value)
            out[f"{key}_local"] = _local_iso(value, tz)
        else:
            out[key] = value
    return out


def export_json(*, tables: dict[str, list[dict[str, Any]]], tz: ZoneInfo, exported_at: datetime) -> bytes:
    """Every stored row about the person, table by table, as pretty UTF-8 JSON.

    Instants are ISO 8601 twice, in UTC and in the person's zone (`*_local`); local dates are plain.
    """
    data = {
        "exported_at": _iso(exported_at),
        "exported_at_local": _local_iso(exported_at, tz),
        "time_zone": tz.key,
        "tables": {name: [_with_local_times(row, tz) for row in rows] for name, rows in tables.items()},
    }
    return (json.dumps(data, default=_json_default, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
