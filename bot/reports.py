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
from matplotlib.text import Text
from matplotlib.textpath import TextPath

from bot import views_progress as words
from bot.coaching.progress import Progress, RatingRecord, SessionRecord, local_day, session_days
from bot.i18n import _

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
WORD_COLUMNS = frozenset({"record", "context", "outcome", "stopped"})  # values read as words, translated

RedFlag = tuple[datetime, str, str | None]  # (raised at, comma-separated categories, cleared reason)


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).isoformat()


def _local_iso(at: datetime | None, tz: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(tz).isoformat()


# ---------------------------------------------------------------- chart

SERIES = {  # colour, marker, offset within the day; the labels are words.SERIES_LABELS
    "before": (BEFORE_COLOUR, "o", 0.35),
    "after": (AFTER_COLOUR, "^", 0.65),
    "other": (OTHER_COLOUR, "s", 0.5),
}
AVERAGE_COLOUR = "#222222"
MIN_CHART_DAYS = 7  # a young history is drawn over a week, not squeezed into the right edge of 30 days


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
        empty = _(words.NO_RATINGS) if not data.any_ratings else words.no_ratings_in(data.days)
        ax.text(0.5, 0.62, empty, ha="center", va="center", fontsize=30 * k, color="#333333", **text)
        ax.text(
            0.5,
            0.45,
            _(words.RATE_TO_SEE),
            ha="center",
            va="center",
            fontsize=17 * k,
            color="#555555",
            **text,
        )
    else:
        day = local_day(data.latest[0].at, tz)
        heading = words.pain_on(day, data.today)
        ax.text(0.5, 0.97, heading, ha="center", va="top", fontsize=24 * k, fontweight="bold", color="#222222", **text)
        shown = data.latest[-6:]
        width = 1 / len(shown)
        for n, r in enumerate(shown):
            x = width * (n + 0.5)
            colour = SERIES[_kind(r.context)][0]
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
            ax.text(x, 0.52, _(words.OUT_OF_TEN), ha="center", va="center", fontsize=13 * k, color="#555555", **text)
            ax.text(
                x,
                0.45,
                f"{words.clock(r.at, tz)}\n{words.context_words(r.context)}",
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
                words.earlier_that_day(len(data.latest) - len(shown)),
                ha="center",
                fontsize=13 * k,
                color="#555555",
                **text,
            )
    ax.text(
        0.5,
        0.13,
        _(words.AFTER_A_WEEK),
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
        handles.append(Patch(color=SESSION_COLOUR, alpha=0.35, label=_(words.SESSION_DAY)))
    for key, (colour, marker, offset) in SERIES.items():
        label = _(words.SERIES_LABELS[key])
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
                label=_(words.AVERAGE_LABEL),
            )
        assert line is not None
        handles.append(line)
    days = data.days
    ax.set_xlim(0, days)
    ax.set_ylim(-0.4, 10.4)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel(_(words.PAIN_AXIS), fontsize=15 * k)
    step = 1 if days <= 10 else -(-days // 6)
    ticks = list(range(days - 1, -1, -step))[::-1]
    ax.set_xticks([t + 0.5 for t in ticks])
    ax.set_xticklabels([words.short_day(data.start + timedelta(days=t)) for t in ticks])
    ax.tick_params(labelsize=14 * k, length=5 * k, width=1.2 * k)
    ax.grid(axis="y", color="#dddddd", linewidth=1 * k)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        words.chart_title(data.start, data.today),
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


def chart_figure(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    today: date,
    tz: ZoneInfo,
    days: int = 30,
) -> Figure:
    fig = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    draw_chart(fig, (0.0, 0.0, 1.0, 1.0), chart_data(ratings, sessions, today, tz, days), tz)
    return fig


def drawn_texts(fig: Figure) -> list[str]:
    """Every piece of text on a figure: titles, labels, legend, ticks, the page's lines."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def progress_chart(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    today: date,
    tz: ZoneInfo,
    days: int = 30,
) -> bytes:
    """Pain 0-10 over the last `days` local days as a 1000x700 PNG, large enough to read on a phone."""
    fig = chart_figure(ratings, sessions, today, tz, days)
    buffer = io.BytesIO()
    # No "Software" stamp, so the same history always gives the same bytes.
    fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    fig.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- one-page report


# Matplotlib's default font, DejaVu Sans, draws Latin with every accent and Cyrillic: every catalog's
# words are drawn (tests/test_reports.py renders Russian and Spanish with missing-glyph warnings as errors).
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


TABLE_X = (0.07, 0.25, 0.62, 0.76)  # column starts, as fractions of the page width


def _report_figure(
    title: str,
    period: str,
    blocks: list[tuple[str, list[str]]],
    footer: str,
    chart: ChartData,
    table: list[words.TableRow],
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

    lines: list[tuple[str, str]] = []  # (text, "heading" | "heading, continued" | "item")
    for heading, items in blocks:
        # A translated heading can be longer than the English: wrapped, never cut at the page's edge.
        wrapped = textwrap.wrap(heading, width=86)
        lines.extend((w, "heading" if n == 0 else "heading, continued") for n, w in enumerate(wrapped))
        for item in items:
            wrapped = textwrap.wrap(item, width=104, initial_indent="• ", subsequent_indent="   ")
            lines.extend((w, "item") for w in wrapped)
    line_height, heading_gap, y, bottom = 0.0148, 0.007, 0.645, 0.055
    for index, (line, kind) in enumerate(lines):
        top = y - (heading_gap if kind == "heading" else 0)
        below = top - line_height * (1.15 if kind.startswith("heading") else 1.0)
        # Never a second page: stop while there is room to say where the rest is.
        if below - line_height < bottom:
            fig.text(
                0.07,
                top,
                words.more_lines(len(lines) - index),
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
            fontsize=10.5 if kind.startswith("heading") else 9,
            fontweight="bold" if kind.startswith("heading") else "normal",
            va="top",
            **text,
        )
        y = below

    # The table takes the rest of the page, newest first; what does not fit is counted, not dropped silently.
    row_height = 0.0128
    top = y - heading_gap - 0.004
    if table and top - 3 * row_height > bottom:
        fig.text(0.07, top, _(words.TABLE_HEADING), fontsize=10.5, fontweight="bold", va="top", **text)
        top -= line_height * 1.15
        for x, name in zip(TABLE_X, words.TABLE_COLUMNS, strict=True):
            fig.text(x, top, _(name), fontsize=8.5, fontweight="bold", va="top", color="#444444", parse_math=False)
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
                words.more_rows(len(table) - len(shown)),
                fontsize=8.5,
                va="top",
                style="italic",
                **text,
            )
    elif not table:
        fig.text(0.07, top, _(words.NO_TABLE), fontsize=9, va="top", **text)
    fig.text(0.5, 0.028, footer, fontsize=9, ha="center", va="bottom", style="italic", **text)
    return fig


def report_figure(
    *,
    name: str,
    progress: Progress,
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
    routine_titles: dict[str, str] | None = None,
) -> Figure:
    """The report's page as a figure (the PDF's one page)."""
    title, period, blocks, footer = words.report_blocks(
        name=_drawable(name),
        progress=progress,
        technique_titles=technique_titles,
        red_flags=red_flags,
        generated=generated,
        tz=tz,
    )
    chart = chart_data(ratings, sessions, progress.today, tz)
    table = words.report_table(ratings, sessions, routine_titles or {}, tz)
    return _report_figure(title, period, blocks, footer, chart, table, tz)


def report_pdf(
    *,
    name: str,
    progress: Progress,
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
    routine_titles: dict[str, str] | None = None,
) -> bytes:
    """A one-page A4 summary to forward to a physiotherapist or doctor: one figure is one page."""
    fig = report_figure(
        name=name,
        progress=progress,
        ratings=ratings,
        sessions=sessions,
        technique_titles=technique_titles,
        red_flags=red_flags,
        generated=generated,
        tz=tz,
        routine_titles=routine_titles,
    )
    FigureCanvasPdf(fig)
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="pdf", metadata={"Title": _(words.REPORT_TITLE), "Creator": "Limber", "CreationDate": None}
    )
    fig.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- exports


def export_csv(*, ratings: Sequence[RatingRecord], sessions: Sequence[SessionRecord], tz: ZoneInfo = UTC_ZONE) -> bytes:
    """One UTF-8 CSV: rating rows by time, then each session followed by its steps in order.

    Times are given in UTC and in the person's zone (`*_local`, with its offset). The header row and
    the words in it (kinds of record, contexts, outcomes) are in the person's language; ids stay ids.
    """
    buffer = io.StringIO()
    header, said = words.csv_header(), words.csv_words()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="", lineterminator="\r\n")
    writer.writerow(header)

    def put(row: dict[str, Any]) -> None:
        writer.writerow({k: said.get(v, v) if k in WORD_COLUMNS else v for k, v in row.items()})

    for r in sorted(ratings, key=lambda r: r.at):
        put(
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
        put(
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
            put(
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
    Keys and stored values stay the English identifiers the database uses, in every language: JSON is
    read by programs, and one schema for all keeps an export comparable with another.
    """
    data = {
        "exported_at": _iso(exported_at),
        "exported_at_local": _local_iso(exported_at, tz),
        "time_zone": tz.key,
        "tables": {name: [_with_local_times(row, tz) for row in rows] for name, rows in tables.items()},
    }
    return (json.dumps(data, default=_json_default, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
