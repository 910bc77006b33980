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
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
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
from bot.coaching.redflags import CATEGORIES

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
CLEARED = {"checked": "cleared: has been checked", "absent": "cleared: symptoms not present"}
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


def _day_position(at: datetime, start: date, tz: ZoneInfo) -> float:
    """Days since the chart's first local midnight, as a float (0.5 is noon of the first day)."""
    local = at.astimezone(tz)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return (local.date() - start).days + seconds / 86400


def _short(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def progress_chart(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    today: date,
    tz: ZoneInfo,
    days: int = 30,
) -> bytes:
    """Pain 0-10 over the last `days` local days as a 1000x700 PNG, large enough to read on a phone."""
    start = today - timedelta(days=days - 1)
    fig = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.08, 0.24, 0.89, 0.66))
    handles: list[Line2D | Patch] = []

    shaded = sorted(d for d in session_days(sessions, tz) if start <= d <= today)
    for d in shaded:
        # A gap between neighbouring days keeps each day countable.
        ax.axvspan((d - start).days + 0.08, (d - start).days + 0.92, color=SESSION_COLOUR, alpha=0.2, linewidth=0)
    if shaded:
        handles.append(Patch(color=SESSION_COLOUR, alpha=0.35, label="Day with a session"))

    series = {
        "before": ("Before a session", BEFORE_COLOUR, "o", True),
        "after": ("After a session", AFTER_COLOUR, "^", True),
        "other": ("Other ratings", OTHER_COLOUR, "s", False),
    }
    points: dict[str, list[tuple[float, int]]] = {key: [] for key in series}
    for r in ratings:
        x = _day_position(r.at, start, tz)
        if 0 <= x < days:
            points[r.context if r.context in ("before", "after") else "other"].append((x, r.value))
    for key, (label, colour, marker, joined) in series.items():
        if not points[key]:
            continue
        xs, ys = zip(*sorted(points[key]), strict=True)
        (line,) = ax.plot(
            xs,
            ys,
            linestyle="-" if joined else "none",
            linewidth=2.5,
            marker=marker,
            markersize=11,
            color=colour,
            markeredgecolor="white",
            markeredgewidth=1.2,
            label=label,
        )
        handles.append(line)

    if not any(points.values()):
        empty = "No ratings yet" if not ratings else f"No ratings in the last {days} days"
        ax.text(days / 2, 5.6, empty, ha="center", va="center", fontsize=30, color="#333333")
        ax.text(
            days / 2,
            4.0,
            "Rate your pain from 0 to 10 to see it here",
            ha="center",
            va="center",
            fontsize=17,
            color="#555555",
        )

    ax.set_xlim(0, days)
    ax.set_ylim(-0.4, 10.4)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("Pain (0-10)", fontsize=17)
    step = max(1, -(-days // 5))
    ticks = [days - 1 - i * step for i in range(days // step + 1) if days - 1 - i * step >= 0][::-1]
    ax.set_xticks([t + 0.5 for t in ticks])
    ax.set_xticklabels([_short(start + timedelta(days=t)) for t in ticks])
    ax.tick_params(labelsize=15, length=6, width=1.5)
    ax.grid(axis="y", color="#dddddd", linewidth=1)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"Your pain, {format_date(start, year=start.year != today.year)} to {format_date(today)}",
        fontsize=21,
        fontweight="bold",
        pad=14,
    )
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=15, frameon=False, bbox_to_anchor=(0.5, 0.0))
    buffer = io.BytesIO()
    # No "Software" stamp, so the same history always gives the same bytes.
    fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    fig.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- one-page report


def _describe(categories: str) -> str:
    keys = [c.strip() for c in categories.split(",") if c.strip()]
    return "; ".join(CATEGORIES[k][0] if k in CATEGORIES else k for k in keys) or "unspecified"


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
        period = f"Period: {format_date(start)} to {format_date(p.today)}. The chart shows the last 30 days."

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
        f"{format_date(local_day(at, tz))}: {_describe(categories)} ({CLEARED.get(reason, f'cleared: {reason}') if reason else 'not cleared'})"
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
        ("Red-flag answers", flag_lines),
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


def _report_figure(
    title: str, period: str, blocks: list[tuple[str, list[str]]], footer: str, chart_png: bytes
) -> Figure:
    fig = Figure(figsize=A4)
    text: dict[str, Any] = {"parse_math": False, "color": "#222222"}  # a "$" in a name stays a "$"
    fig.text(
        0.07, 0.955, title, fontsize=_fitting_size(title, 18, 0.86 * A4[0] * 72), fontweight="bold", va="top", **text
    )
    fig.text(0.07, 0.925, period, fontsize=10, va="top", **text)

    chart = fig.add_axes((0.07, 0.54, 0.86, 0.37))
    chart.imshow(imread(io.BytesIO(chart_png), format="png"), interpolation="antialiased")
    chart.set_axis_off()

    lines: list[tuple[str, bool]] = []
    for heading, items in blocks:
        lines.append((heading, True))
        for item in items:
            wrapped = textwrap.wrap(item, width=100, initial_indent="• ", subsequent_indent="   ")
            lines.extend((w, False) for w in wrapped)
    line_height, heading_gap, y, bottom = 0.0158, 0.008, 0.53, 0.06
    for index, (line, heading) in enumerate(lines):
        top = y - (heading_gap if heading else 0)
        below = top - line_height * (1.15 if heading else 1.0)
        last = index == len(lines) - 1
        # Never a second page: stop while there is room to say where the rest is.
        if below < bottom or (not last and below - line_height < bottom):
            fig.text(0.07, top, "… (everything is in /export)", fontsize=9.5, va="top", **text)
            break
        fig.text(
            0.07,
            top,
            line,
            fontsize=11 if heading else 9.5,
            fontweight="bold" if heading else "normal",
            va="top",
            **text,
        )
        y = below
    fig.text(0.5, 0.03, footer, fontsize=9, ha="center", va="bottom", style="italic", **text)
    return fig


def report_pdf(
    *,
    name: str,
    progress: Progress,
    chart_png: bytes,
    technique_titles: dict[str, str],
    red_flags: Sequence[RedFlag],
    adherence: str,
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
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
    fig = _report_figure(title, period, blocks, footer, chart_png)
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
