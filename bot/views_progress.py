"""The words of /progress, /report and /export: the message, the chart's and the PDF's labels, the CSV header.

Everything goes through the catalog in the language being spoken (`bot.i18n`); dates and numbers are
formatted by Babel in that locale. The domain (bot/coaching/progress.py) gives numbers, dates and enums.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal

from bot.coaching.progress import (
    ADHERENCE_WEEKS,
    LONG_WINDOW,
    MAX_TECHNIQUE_LINES,
    MIN_RATED_SESSIONS,
    MIN_TECHNIQUE_SESSIONS,
    SHORT_WINDOW,
    Missing,
    Progress,
    RatingRecord,
    SessionRecord,
    TechniqueStats,
    Trend,
    full_recent_week,
    helping,
    local_day,
    weekly_rate,
)
from bot.coaching.ratings import Verdict
from bot.i18n import N_, _, ngettext
from bot.i18n import current as current_language
from bot.views import describe_signs, times

UTC_ZONE = ZoneInfo("UTC")
# English dates read the British way ("2 March 2025"), as Limber always wrote them.
BABEL_LOCALES = {"en": "en_GB"}
REPORT_HELPED = 3
REPORT_HURTING = 4
REPORT_RED_FLAGS = 4


def locale() -> str:
    language = current_language()
    return BABEL_LOCALES.get(language, language)


def day_text(day: date, *, year: bool = True) -> str:
    """'2 March 2025', '2 de marzo de 2025', '2 марта 2025 г.'."""
    return format_skeleton("yMMMMd" if year else "MMMMd", day, locale=locale())


def short_day(day: date) -> str:
    """'2 Mar', '2 mar', '2 мар.': a chart's date label."""
    return format_skeleton("MMMd", day, locale=locale())


def clock(at: datetime, tz: ZoneInfo) -> str:
    return format_time(at.astimezone(tz), "HH:mm", locale=locale())


def decimal(value: float) -> str:
    """One decimal in the locale: '1.5', '1,5'."""
    return format_decimal(round(value, 1), format="0.0", locale=locale())


def e(text: str) -> str:
    return escape(text, quote=False)


def days(n: int) -> str:
    return ngettext("{n} day", "{n} days", n).format(n=n)


def sessions(n: int) -> str:
    return _("no sessions") if n == 0 else ngettext("{n} session", "{n} sessions", n).format(n=n)


def _points_form(rounded: float) -> int:
    # A number shown with a decimal takes the form a language uses for 2 (Russian "1,5 балла",
    # English "1.5 points"); exactly 1.0 reads as one in English and Spanish.
    return 1 if rounded == 1 else 2


def change_phrase(change: float) -> str:
    """'1.2 points lower' for a change of -1.2 (after minus before)."""
    rounded = round(abs(change), 1)
    if rounded == 0:
        return _("no different")
    n = _points_form(rounded)
    if change < 0:
        text = ngettext("{points} point lower", "{points} points lower", n)
    else:
        text = ngettext("{points} point higher", "{points} points higher", n)
    return text.format(points=decimal(rounded))


def meaningful_rule() -> str:
    return _("a change counts as meaningful at 2 points or 30% or more")


def trend_sentence(t: Trend, today: date) -> str:
    """The trend in plain words with the meaningful-change rule (no HTML)."""
    if full_recent_week(t, today):
        means = _("it averaged {first} then and {last} in the last 7 days")
    else:
        # Young data: the last window starts after the first week, so it is shorter.
        means = _("it averaged {first} then and {last} in the days since {day}")
    means = means.format(first=decimal(t.first_mean), last=decimal(t.last_mean), day=day_text(t.last_start, year=False))
    if t.verdict is Verdict.better:
        text = _("Compared with your first week, your pain is lower: {means}, a meaningful drop ({rule}).")
    elif t.verdict is Verdict.worse:
        text = _(
            "Compared with your first week, your pain is higher: {means}, a meaningful rise ({rule}). "
            "Go gently, try the Relax routine, and check in with a clinician if it keeps rising."
        )
    else:
        text = _(
            "Compared with your first week, your pain is about the same: {means}, within normal ups and downs ({rule})."
        )
    return text.format(means=means, rule=meaningful_rule())


def since_phrase(p: Progress) -> str:
    """'since you started on 24 October (10 days)' or 'today, your first day with Limber'."""
    if p.started is None or p.days_used <= 1:
        return _("today, your first day with Limber")
    day = day_text(p.started, year=p.started.year != p.today.year)
    return _("since you started on {day} ({days})").format(day=day, days=days(p.days_used))


def session_counts(p: Progress) -> str:
    """Sessions over rolling windows; a window longer than the person's time with Limber is not named."""
    if p.days_used <= SHORT_WINDOW:
        return _("{sessions} {since}").format(sessions=sessions(p.total_sessions), since=since_phrase(p))
    if p.days_used <= LONG_WINDOW:
        return _("{sessions} in the last 7 days, {total} {since}").format(
            sessions=sessions(p.sessions_last_7_days), total=p.total_sessions, since=since_phrase(p)
        )
    return _("{sessions} in the last 7 days, {month} in the last 30 days").format(
        sessions=sessions(p.sessions_last_7_days), month=p.sessions_last_30_days
    )


def adherence_line(p: Progress) -> str:
    """Sessions per week over the time the person has used Limber (4 weeks at most), and streaks, for /report."""
    streak = _("current streak {current}, longest {longest}.").format(
        current=days(p.current_streak), longest=days(p.longest_streak)
    )
    rate = weekly_rate(p)
    if rate is None:
        # Under a week, a weekly rate would be a guess: say what happened instead.
        return _("{sessions} {since}; {streak}").format(
            sessions=sessions(p.total_sessions), since=since_phrase(p), streak=streak
        )
    if p.adherence_days == 7 * ADHERENCE_WEEKS:
        span = ngettext("the last {n} week", "the last {n} weeks", ADHERENCE_WEEKS).format(n=ADHERENCE_WEEKS)
    else:
        span = ngettext("the {n} day since you started", "the {n} days since you started", p.adherence_days).format(
            n=p.adherence_days
        )
    return _("{rate} sessions a week over {span} ({week} in the last 7 days, {total} in all); {streak}").format(
        rate=decimal(rate), span=span, week=p.sessions_last_7_days, total=p.total_sessions, streak=streak
    )


def technique_line(t: TechniqueStats, title: str) -> str:
    """One ranked stretch in plain words (no HTML): with it against without it."""
    assert t.average_change is not None and t.without_change is not None
    text = _(
        "{title}: in sessions with it, pain ended {with_it} than it started on average ({rated} rated); "
        "without it, {without} ({without_rated} rated)"
    ).format(
        title=title,
        with_it=change_phrase(t.average_change),
        rated=t.rated_sessions,
        without=change_phrase(t.without_change),
        without_rated=t.without_sessions,
    )
    if t.hurt_count:
        text += _("; marked as hurting {hurt} of {sessions} times").format(hurt=t.hurt_count, sessions=t.sessions)
    return text


def not_enough_technique_data() -> str:
    return ngettext(
        "Not enough data yet: I compare your sessions with a stretch against those without it, and none stands "
        "out so far (each side needs {n} or more session rated before and after).",
        "Not enough data yet: I compare your sessions with a stretch against those without it, and none stands "
        "out so far (each side needs {n} or more sessions rated before and after).",
        MIN_TECHNIQUE_SESSIONS,
    ).format(n=MIN_TECHNIQUE_SESSIONS)


def technique_lines(p: Progress, technique_titles: dict[str, str], limit: int) -> list[str]:
    """The stretches that go with a bigger drop in pain, or "not enough data yet" (sentences, no HTML)."""
    ranked = helping(p.techniques)
    if not ranked:
        return [not_enough_technique_data()]
    lines = [
        _("{line}.").format(line=technique_line(t, technique_titles.get(t.technique_id, t.technique_id)))
        for t in ranked[:limit]
    ]
    if len(ranked) > limit:
        lines.append(_("…and {n} more.").format(n=len(ranked) - limit))
    return lines


def missing_text(p: Progress) -> str | None:
    if p.missing is Missing.rated_sessions:
        return ngettext(
            "Rate your pain before and after {n} session to see your trend ({rated} so far).",
            "Rate your pain before and after {n} sessions to see your trend ({rated} so far).",
            MIN_RATED_SESSIONS,
        ).format(n=MIN_RATED_SESSIONS, rated=p.rated_sessions)
    if p.missing is Missing.trend_ratings:
        return _(
            "To compare with your first week I need at least 2 pain ratings in that week "
            "and 2 in the last 7 days: keep rating your pain."
        )
    return None


CORRELATION_NOTE = N_("This shows what tends to go with less pain for you, not what causes it.")


def progress_text(p: Progress, technique_titles: dict[str, str]) -> str:
    """The /progress message (Telegram HTML)."""
    lines = [_("<b>Your progress</b>")]
    lines.append(_("• Sessions: {counts}.").format(counts=e(session_counts(p))))
    if p.current_streak:
        lines.append(
            _("• Streak: <b>{current}</b> in a row (longest {longest}).").format(
                current=days(p.current_streak), longest=days(p.longest_streak)
            )
        )
    elif p.longest_streak:
        lines.append(
            _("• Streak: a session today starts a new one (longest {longest}).").format(longest=days(p.longest_streak))
        )
    if p.longest_streak:
        lines.append("  " + _("Rest and flare days you mark don't break a streak."))
    if p.average_change is not None:
        lines.append(
            ngettext(
                "• Pain after a session: {change} than before on average ({n} rated session).",
                "• Pain after a session: {change} than before on average ({n} rated sessions).",
                p.rated_sessions,
            ).format(change=e(change_phrase(p.average_change)), n=p.rated_sessions)
        )
    if p.trend is not None:
        lines.append(f"• {e(trend_sentence(p.trend, p.today))}")
    if p.total_sessions:
        lines.append("\n" + _("<b>Which stretches help you</b>"))
        lines.extend(f"• {e(line)}" for line in technique_lines(p, technique_titles, MAX_TECHNIQUE_LINES))
        if helping(p.techniques):
            lines.append(_(CORRELATION_NOTE))
    missing = missing_text(p)
    if missing:
        lines.append(f"\n<i>{e(missing)}</i>")
    elif p.total_sessions:
        lines.append("\n" + _("Keep going gently."))
    return "\n".join(lines)


# ---------------------------------------------------------------- the chart

SERIES_LABELS = {
    "before": N_("Before a session"),
    "after": N_("After a session"),
    "other": N_("Other ratings"),
}
CONTEXT_WORDS = {"before": N_("before a session"), "after": N_("after a session"), "prompt": N_("daily prompt")}
SESSION_DAY = N_("Day with a session")
AVERAGE_LABEL = N_("7-day average (all ratings)")
PAIN_AXIS = N_("Pain (0-10), a day's mean")
NO_RATINGS = N_("No ratings yet")
RATE_TO_SEE = N_("Rate your pain from 0 to 10 to see it here")
OUT_OF_TEN = N_("out of 10")
A_RATING = N_("a rating")
AFTER_A_WEEK = N_("After a week of ratings this shows your pain day by day, with a 7-day average.")


def no_ratings_in(n: int) -> str:
    return ngettext("No ratings in the last {n} day", "No ratings in the last {n} days", n).format(n=n)


def pain_on(day: date, today: date) -> str:
    return _("Your pain today") if day == today else _("Your pain on {day}").format(day=day_text(day, year=False))


def earlier_that_day(n: int) -> str:
    return ngettext("(and {n} earlier that day)", "(and {n} earlier that day)", n).format(n=n)


def chart_title(start: date, today: date) -> str:
    return _("Your pain, {start} to {end}").format(
        start=day_text(start, year=start.year != today.year), end=day_text(today)
    )


def context_words(context: str) -> str:
    return _(CONTEXT_WORDS[context]) if context in CONTEXT_WORDS else _(A_RATING)


# ---------------------------------------------------------------- the one-page report

# A flag is Limber's reading of what the person wrote; what they answered decides how it reads.
CLEARED = {
    "checked": N_("they answered that a clinician has checked them"),
    "absent": N_("they answered that they don't have these symptoms (a misreading, not a reported symptom)"),
}
MAX_NAME = 32  # characters: the title stays on one line of the page
TableRow = tuple[str, str, str, str]  # when, what, steps, pain
TABLE_COLUMNS = (N_("When"), N_("What"), N_("Steps"), N_("Pain (0-10)"))
RATING_WORDS = {
    "prompt": N_("Pain on the daily prompt"),
    "free": N_("Pain rating"),
    "during": N_("Pain during a routine"),
}
REPORT_TITLE = N_("Limber summary")
TABLE_HEADING = N_("Sessions and ratings, newest first")
NO_TABLE = N_("No sessions or ratings recorded yet.")


def _describe(categories: str) -> str:
    keys = [c.strip() for c in categories.split(",") if c.strip()]
    return "; ".join(describe_signs(keys)) or _("unspecified")


def _cleared(reason: str | None) -> str:
    if reason is None:
        return _("no answer yet, coaching paused")
    return _(CLEARED[reason]) if reason in CLEARED else _("cleared: {reason}").format(reason=reason)


def report_blocks(
    *,
    name: str,
    progress: Progress,
    technique_titles: dict[str, str],
    red_flags: Sequence[tuple[datetime, str, str | None]],
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
) -> tuple[str, str, list[tuple[str, list[str]]], str]:
    """(title, period, [(heading, lines)], footer): the report's words, capped to fit one page."""
    p = progress

    def title_of(tid: str) -> str:
        return technique_titles.get(tid, tid)

    shown = " ".join(name.split())
    shown = shown if len(shown) <= MAX_NAME else shown[: MAX_NAME - 1].rstrip() + "…"
    title = _("Limber summary for {name}").format(name=shown) if shown else _(REPORT_TITLE)
    if p.first_day is None:
        period = _("No ratings or sessions recorded up to {day}.").format(day=day_text(p.today))
    else:
        start = p.started or p.first_day
        if start >= p.today:
            period = _("Period: {day}, the first day with Limber.").format(day=day_text(p.today))
        else:
            period = _("Period: {start} to {end} ({days}).").format(
                start=day_text(start), end=day_text(p.today), days=days((p.today - start).days + 1)
            )

    trend: list[str] = []
    if p.trend is not None:
        trend.append(trend_sentence(p.trend, p.today))
    if p.average_change is not None:
        trend.append(
            ngettext(
                "Pain after a session was {change} than before on average ({n} rated session).",
                "Pain after a session was {change} than before on average ({n} rated sessions).",
                p.rated_sessions,
            ).format(change=change_phrase(p.average_change), n=p.rated_sessions)
        )
    missing = missing_text(p)
    if missing:
        trend.append(missing)

    helped_lines = technique_lines(p, technique_titles, REPORT_HELPED)

    hurting = list(p.hurt_marks.items())
    hurting_lines = [
        _("{title}: marked as hurting {times}").format(title=title_of(tid), times=times(n))
        for tid, n in hurting[:REPORT_HURTING]
    ]
    if len(hurting) > REPORT_HURTING:
        hurting_lines.append(_("and {n} more").format(n=len(hurting) - REPORT_HURTING))
    if not hurting_lines:
        hurting_lines = [_("None.")]

    flags = sorted(red_flags, key=lambda f: f[0], reverse=True)
    flag_lines = [
        _("{day} at {time}: flagged by Limber as possibly describing {signs}; {answer}").format(
            day=day_text(local_day(at, tz)), time=clock(at, tz), signs=_describe(categories), answer=_cleared(reason)
        )
        for at, categories, reason in flags[:REPORT_RED_FLAGS]
    ]
    if len(flags) > REPORT_RED_FLAGS:
        flag_lines.append(_("and {n} earlier").format(n=len(flags) - REPORT_RED_FLAGS))
    if not flag_lines:
        flag_lines = [_("None recorded.")]

    blocks = [
        (_("Pain trend"), trend or [_("Not enough ratings for a trend yet.")]),
        (_("Adherence"), [adherence_line(p)]),
        (_("Stretches that seemed to help (pain fell more in sessions with them than without)"), helped_lines),
        (_("Stretches marked as hurting"), hurting_lines),
        (_("Warning signs flagged by Limber, and what the person answered"), flag_lines),
    ]
    footer = _("Not medical advice. Generated by Limber on {day}.").format(day=day_text(generated))
    return title, period, blocks, footer


def report_lines(
    *,
    name: str,
    progress: Progress,
    technique_titles: dict[str, str],
    red_flags: Sequence[tuple[datetime, str, str | None]],
    generated: date,
    tz: ZoneInfo = UTC_ZONE,
) -> list[str]:
    """Every line of text the PDF shows above the table, in order (headings, then their items with a bullet)."""
    title, period, blocks, footer = report_blocks(
        name=name, progress=progress, technique_titles=technique_titles, red_flags=red_flags, generated=generated, tz=tz
    )
    lines = [title, period]
    for heading, items in blocks:
        lines.append(heading)
        lines.extend(f"• {item}" for item in items)
    lines.append(footer)
    return lines


def when(at: datetime, tz: ZoneInfo) -> str:
    """'2 Mar 2025 14:05' in the locale."""
    return f"{format_skeleton('yMMMd', at.astimezone(tz), locale=locale())} {clock(at, tz)}"


def report_table(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    routine_titles: dict[str, str],
    tz: ZoneInfo,
) -> list[TableRow]:
    """Sessions (with their pain before and after) and other ratings, newest first, for the clinician."""
    rows: list[tuple[datetime, TableRow]] = []
    for s in sessions:
        done = sum(1 for _o, o in s.outcomes if o == "done")
        hurt = sum(1 for _o, o in s.outcomes if o == "hurt")
        if not s.outcomes:
            steps = _("none")
        else:
            steps = _("{done} of {count} done").format(done=done, count=len(s.outcomes))
            if hurt:
                steps += _(", {n} hurt").format(n=hurt)
        before = "–" if s.before is None else str(s.before)
        after = "–" if s.after is None else str(s.after)
        pain = f"{before} → {after}"
        if s.before is not None and s.after is not None:
            pain += f" ({s.after - s.before:+d})" if s.after != s.before else " " + _("(same)")
        what = routine_titles.get(s.routine_id, s.routine_id)
        if s.stopped:
            what = _("{routine} (stopped)").format(routine=what)
        rows.append((s.started_at, (when(s.started_at, tz), what, steps, pain)))
    for r in ratings:
        if r.session_id is None or r.context not in ("before", "after"):
            words = _(RATING_WORDS.get(r.context, RATING_WORDS["free"]))
            rows.append((r.at, (when(r.at, tz), words, "", str(r.value))))
    return [row for _at, row in sorted(rows, key=lambda x: x[0], reverse=True)]


def more_lines(n: int) -> str:
    return ngettext(
        "… and {n} more line: everything is in /export", "… and {n} more lines: everything is in /export", n
    ).format(n=n)


def more_rows(n: int) -> str:
    return ngettext(
        "… and {n} earlier: everything is in /export", "… and {n} earlier: everything is in /export", n
    ).format(n=n)


# ---------------------------------------------------------------- the CSV export

# A spreadsheet's header row and its words are read by a person: they are translated. The JSON export
# keeps stable English keys: it is a machine format, one schema for every language.
CSV_HEADER = {
    "record": N_("record"),
    "at_utc": N_("time (UTC)"),
    "at_local": N_("local time"),
    "session_id": N_("session"),
    "routine_id": N_("routine"),
    "value": N_("pain (0-10)"),
    "context": N_("when rated"),
    "step_index": N_("step"),
    "technique_id": N_("stretch"),
    "outcome": N_("outcome"),
    "stopped": N_("stopped"),
    "finished_at_utc": N_("finished (UTC)"),
    "finished_at_local": N_("finished (local time)"),
}
CSV_WORDS = {
    "rating": N_("rating"),
    "session": N_("session"),
    "step": N_("step"),
    "before": N_("before"),
    "after": N_("after"),
    "during": N_("during"),
    "free": N_("free"),
    "prompt": N_("daily prompt"),
    "done": N_("done"),
    "skipped": N_("skipped"),
    "hurt": N_("hurt"),
    "true": N_("yes"),
    "false": N_("no"),
}


def csv_header() -> dict[str, str]:
    return {key: _(label) for key, label in CSV_HEADER.items()}


def csv_words() -> dict[str, str]:
    return {key: _(label) for key, label in CSV_WORDS.items()}
