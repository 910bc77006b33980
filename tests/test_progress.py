"""Progress from seeded histories: session days, streaks, counts, average change, trend, technique stats, text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import i18n
from bot.coaching.progress import (
    DayMark,
    Missing,
    Progress,
    RatingRecord,
    SessionRecord,
    build_progress,
    helping,
    local_day,
    pain_trend,
    session_change,
    session_days,
    streaks,
    technique_stats,
)
from bot.coaching.ratings import Verdict
from bot.views_progress import (
    adherence_line,
    change_phrase,
    day_text,
    days,
    missing_text,
    progress_text,
    session_counts,
)
from bot.views_progress import sessions as sessions_text
from tests.seeded import (
    BERLIN,
    START,
    TODAY,
    UTC_ZONE,
    at,
    ratings_of,
    seeded_marks,
    session,
    sixty_days,
)

TITLES = {"pelvic-circles": "Lying pelvic circles", "hip-hike": "Lying hip hike", "clamshell": "Clamshells"}


def d(n: int) -> date:
    """Day n of the seeded history (day 0 is 2 January 2025)."""
    return START + timedelta(days=n)


def seeded() -> Progress:
    sessions = sixty_days()
    return build_progress(ratings_of(sessions), sessions, seeded_marks(), TODAY, UTC_ZONE)


# ---------------------------------------------------------------- session days and streaks


def test_session_days_need_a_done_step() -> None:
    sessions = [
        session(1, d(0), outcomes=[("a", "done"), ("b", "skipped")]),
        session(2, d(1), outcomes=[("a", "skipped"), ("b", "hurt")]),
        session(3, d(2), outcomes=[]),
        session(4, d(3), outcomes=[("a", "done")]),
        session(5, d(3), outcomes=[("a", "done")]),
    ]
    assert session_days(sessions, UTC_ZONE) == {d(0), d(3)}


def test_streak_is_not_broken_by_a_rest_day_nor_extended_by_it() -> None:
    days = {d(0), d(1), d(2), d(4), d(5)}
    assert streaks(days, [DayMark(d(3), "rest")], d(5)) == (5, 5)
    assert streaks(days, [DayMark(d(3), "flare")], d(5)) == (5, 5)


def test_streak_is_broken_by_an_unmarked_or_skipped_day() -> None:
    days = {d(0), d(1), d(2), d(4), d(5)}
    assert streaks(days, [], d(5)) == (2, 3)
    assert streaks(days, [DayMark(d(3), "skipped")], d(5)) == (2, 3)


def test_today_without_a_session_does_not_break_the_current_streak_but_yesterday_does() -> None:
    days = {d(0), d(1), d(2)}
    assert streaks(days, [], d(3)) == (3, 3)
    assert streaks(days, [], d(4)) == (0, 3)
    assert streaks(days, [DayMark(d(3), "rest")], d(4)) == (3, 3)


def test_streak_edges() -> None:
    assert streaks(set(), [DayMark(d(0), "rest")], d(1)) == (0, 0)
    # Rest days alone start nothing; a session after them does.
    assert streaks({d(2)}, [DayMark(d(0), "rest"), DayMark(d(1), "rest")], d(2)) == (1, 1)
    # A session dated after today (a clock ahead of the person's) is ignored.
    assert streaks({d(0), d(1), d(5)}, [], d(1)) == (2, 2)
    # Several marked days in a row are all stepped over.
    marks = [DayMark(d(n), "flare") for n in (2, 3, 4)]
    assert streaks({d(0), d(1), d(5)}, marks, d(5)) == (3, 3)


def test_streaks_in_the_seeded_history() -> None:
    # Days 0-39, rest on 40, 41-49: 49 (the rest day not counted); skipped 50 breaks it; 51-58 and no
    # session yet today: 8.
    p = seeded()
    assert (p.current_streak, p.longest_streak) == (8, 49)


# ---------------------------------------------------------------- counts and averages


def test_session_change() -> None:
    assert session_change(session(1, d(0), before=6, after=4)) == -2
    assert session_change(session(1, d(0), before=3, after=5)) == 2
    assert session_change(session(1, d(0), before=3)) is None
    assert session_change(session(1, d(0), after=3)) is None


def test_rolling_counts_across_a_month_boundary_never_show_the_shorter_window_larger() -> None:
    # Today is Sunday 2 March; the last 7 days are 24 February to 2 March (days 53-58 had sessions), the
    # last 30 days 1 February on (days 30-58 without the rest day 40 and the skipped day 50).
    p = seeded()
    assert (p.sessions_last_7_days, p.sessions_last_30_days) == (6, 27)
    assert p.total_sessions == 57
    # 3 February to 2 March: days 32-58 without the rest day 40 and the skipped day 50.
    assert p.sessions_last_28_days == 25
    assert p.days_used == 60
    # Every day from a month before to a month after the boundary: the 7 days never hold more.
    for n in range(25, 40):
        day = START + timedelta(days=n)
        q = build_progress([], sixty_days(), [], day, UTC_ZONE)
        assert q.sessions_last_7_days <= q.sessions_last_30_days <= q.total_sessions, day


def test_counts_on_day_one_and_in_the_first_weeks_say_since_when() -> None:
    first = [session(1, TODAY, hour=8), session(2, TODAY, hour=19)]
    p = build_progress([], first, [], TODAY, UTC_ZONE, joined=TODAY)
    assert (p.days_used, p.adherence_days, p.started) == (1, 1, TODAY)
    assert session_counts(p) == "2 sessions today, your first day with Limber"
    # No weekly rate from one day of use.
    assert adherence_line(p) == ("2 sessions today, your first day with Limber; current streak 1 day, longest 1 day.")
    ten = [session(i, d(i)) for i in range(10)]
    p = build_progress([], ten, [], d(9), UTC_ZONE, joined=d(5))  # history older than the account counts
    assert session_counts(p) == "7 sessions in the last 7 days, 10 since you started on 2 January (10 days)"
    assert adherence_line(p) == (
        "7.0 sessions a week over the 10 days since you started (7 in the last 7 days, 10 in all); "
        "current streak 10 days, longest 10 days."
    )
    nothing = build_progress([], [], [], TODAY, UTC_ZONE, joined=TODAY + timedelta(days=3))
    assert (nothing.days_used, session_counts(nothing)) == (1, "no sessions today, your first day with Limber")


def test_counts_count_sessions_not_days_and_only_with_a_done_step() -> None:
    sessions = [
        session(1, date(2025, 3, 3), hour=8),
        session(2, date(2025, 3, 3), hour=19),
        session(3, date(2025, 3, 4), outcomes=[("a", "skipped")]),
    ]
    p = build_progress([], sessions, [], date(2025, 3, 4), UTC_ZONE)
    assert (p.sessions_last_7_days, p.sessions_last_30_days, p.total_sessions) == (2, 2, 2)


def test_average_change_uses_sessions_rated_before_and_after() -> None:
    # Days 0-29: 6 -> 4 on 27 rated days (5, 15, 25 unrated); days 30-58: 4 -> 3 on 24 rated days.
    p = seeded()
    assert p.rated_sessions == 51
    assert p.average_change == (27 * -2 + 24 * -1) / 51
    assert p.missing is None


def test_missing_data_sentence() -> None:
    sessions = [session(1, d(0), before=5, after=4), session(2, d(1), before=5), session(3, d(2))]
    p = build_progress(ratings_of(sessions), sessions, [], d(2), UTC_ZONE)
    assert p.missing is Missing.rated_sessions
    assert missing_text(p) == "Rate your pain before and after 3 sessions to see your trend (1 so far)."
    assert p.average_change == -1.0
    empty = build_progress([], [], [], d(0), UTC_ZONE)
    assert missing_text(empty) == "Rate your pain before and after 3 sessions to see your trend (0 so far)."
    assert (empty.current_streak, empty.longest_streak, empty.average_change, empty.trend) == (0, 0, None, None)
    assert empty.first_day is None


def test_missing_data_sentence_when_sessions_are_rated_but_the_trend_is_too_young() -> None:
    sessions = [session(i, d(i), before=5, after=4) for i in range(3)]
    p = build_progress(ratings_of(sessions), sessions, [], d(3), UTC_ZONE)
    assert p.trend is None
    assert p.missing is Missing.trend_ratings
    assert "first week" in (missing_text(p) or "")


# ---------------------------------------------------------------- trend


def ratings(first: list[int], last: list[int]) -> list[RatingRecord]:
    """`first` spread over days 0-6, `last` over the 7 days up to day 30."""
    today = d(30)
    out = [RatingRecord(at(d(i % 7), 8 + i // 7), v, "free") for i, v in enumerate(first)]
    return out + [RatingRecord(at(today - timedelta(days=i % 7), 8 + i // 7), v, "free") for i, v in enumerate(last)]


@pytest.mark.parametrize(
    ("first", "last", "verdict", "means"),
    [
        ([6, 5, 7], [3, 3, 3], Verdict.better, (6.0, 3.0)),  # 3 points
        ([8, 8], [6, 6], Verdict.better, (8.0, 6.0)),  # 2 points, only 25%
        ([3, 3], [2, 2], Verdict.better, (3.0, 2.0)),  # 1 point, 33%
        ([2, 2], [3, 3], Verdict.worse, (2.0, 3.0)),  # 1 point, 50%
        ([4, 4], [6, 5], Verdict.worse, (4.0, 5.5)),  # 1.5 points, 37.5%
        ([4, 4], [3, 4, 4, 3], Verdict.same, (4.0, 3.5)),  # 0.5 points, 12.5%
        ([8, 8], [7, 6], Verdict.same, (8.0, 6.5)),  # 1.5 points, 19%
        # 8.2 -> 6.2 is exactly 2 points; in floats 8.2 - 6.2 = 1.9999999999999991.
        ([8, 8, 8, 8, 9], [6, 6, 6, 6, 7], Verdict.better, (8.2, 6.2)),
        # Judged on the means as shown, rounded half up: 8.25 -> 8.3 and 6.3 are 2 points apart
        # (unrounded 1.95 points and 24% would be "same").
        ([8, 8, 8, 9], [6, 6, 6, 6, 6, 6, 6, 7, 7, 7], Verdict.better, (8.3, 6.3)),
    ],
)
def test_trend_verdicts_use_two_points_or_thirty_percent(
    first: list[int], last: list[int], verdict: Verdict, means: tuple[float, float]
) -> None:
    trend = pain_trend(ratings(first, last), d(30), UTC_ZONE)
    assert trend is not None
    assert trend.verdict is verdict
    assert (trend.first_mean, trend.last_mean) == means
    assert (trend.first_count, trend.last_count) == (len(first), len(last))


def test_trend_needs_two_ratings_in_each_window() -> None:
    assert pain_trend(ratings([5, 5], [3]), d(30), UTC_ZONE) is None
    # The lone early rating is passed over, so the first week becomes the last one: nothing after it.
    assert pain_trend(ratings([5], [3, 3]), d(30), UTC_ZONE) is None
    assert pain_trend([], d(30), UTC_ZONE) is None


def test_the_first_week_is_the_first_seven_days_with_two_ratings() -> None:
    # A single rating on day 0, then two on days 10 and 12: the first week starts on day 10.
    history = [
        RatingRecord(at(d(0)), 9, "free"),
        RatingRecord(at(d(10)), 6, "free"),
        RatingRecord(at(d(12)), 6, "free"),
    ]
    history += [RatingRecord(at(d(30)), 4, "free"), RatingRecord(at(d(29)), 4, "free")]
    trend = pain_trend(history, d(30), UTC_ZONE)
    assert trend is not None
    assert (trend.first_start, trend.first_mean, trend.first_count) == (d(10), 6.0, 2)
    assert (trend.last_start, trend.last_mean, trend.verdict) == (d(24), 4.0, Verdict.better)


def test_a_young_history_never_counts_a_rating_in_both_windows() -> None:
    # Ten days of data: the first week is days 0-6 and the last window only days 7-9.
    history = [RatingRecord(at(d(i)), 6 if i < 7 else 3, "free") for i in range(10)]
    trend = pain_trend(history, d(9), UTC_ZONE)
    assert trend is not None
    assert (trend.first_count, trend.last_count, trend.last_start) == (7, 3, d(7))
    assert (trend.first_mean, trend.last_mean, trend.verdict) == (6.0, 3.0, Verdict.better)


def test_seeded_trend() -> None:
    # First week (days 0-6): seven 6s before, six 4s after (day 5 unrated after): 66 / 13 = 5.08 -> 5.1.
    # Last 7 days (days 53-59, none today): six 4s, five 3s (day 55 unrated): 39 / 11 = 3.55 -> 3.5.
    # 1.6 points is under 2, but 31% of 5.1: better.
    p = seeded()
    assert p.trend is not None
    assert (p.trend.first_mean, p.trend.last_mean) == (5.1, 3.5)
    assert (p.trend.first_count, p.trend.last_count) == (13, 11)
    assert (p.trend.first_start, p.trend.last_start) == (d(0), d(53))
    assert p.trend.verdict is Verdict.better


def test_trend_counts_every_kind_of_rating() -> None:
    sessions = sixty_days()
    extra = [RatingRecord(at(TODAY, 8), 9, "prompt"), RatingRecord(at(TODAY, 12), 9, "during")]
    p = build_progress(ratings_of(sessions) + extra, sessions, [], TODAY, UTC_ZONE)
    assert p.trend is not None
    # (39 + 18) / 13 = 4.38 -> 4.4; 0.7 points and 14% from 5.1: about the same.
    assert (p.trend.last_mean, p.trend.last_count, p.trend.verdict) == (4.4, 13, Verdict.same)


# ---------------------------------------------------------------- which stretches help


def test_seeded_technique_stats_compare_sessions_with_and_without_each_stretch() -> None:
    stats = seeded().techniques
    # Pelvic circles are in every session: nothing to compare them with, so they are not ranked.
    # Clamshells (even days) and the sessions without them (odd days) fell alike: -43/28 against -35/23.
    assert [t.technique_id for t in stats] == ["hip-hike"]
    hike = stats[0]
    # With hip hikes (days 0-29, 27 rated): 6 -> 4; without them (days 30-58, 24 rated): 4 -> 3.
    assert (hike.sessions, hike.rated_sessions, hike.without_sessions) == (30, 27, 24)
    assert (hike.average_change, hike.without_change, hike.difference) == (-2.0, -1.0, -1.0)
    assert seeded().hurt_marks == {"clamshell": 2}


def test_a_stretch_needs_three_rated_sessions_on_each_side() -> None:
    def history(with_it: int, without: int) -> list[SessionRecord]:
        good = [session(i, d(i), before=6, after=3, outcomes=[("a", "done"), ("b", "done")]) for i in range(with_it)]
        rest = [session(50 + i, d(50 + i), before=6, after=6, outcomes=[("b", "done")]) for i in range(without)]
        return good + rest

    assert [t.technique_id for t in technique_stats(history(3, 3))] == ["a"]
    assert technique_stats(history(2, 10)) == []
    assert technique_stats(history(10, 2)) == []
    # Unrated sessions count for hurts, not for the comparison.
    unrated = [session(90, d(40), outcomes=[("a", "hurt")])]
    (a,) = technique_stats(history(3, 3) + unrated)
    assert (a.sessions, a.rated_sessions, a.hurt_count, a.hurt_rate) == (4, 3, 1, 0.25)
    assert (a.average_change, a.without_change) == (-3.0, 0.0)


def test_a_difference_within_the_noise_is_not_ranked() -> None:
    def history(with_changes: list[int], without_changes: list[int]) -> list[SessionRecord]:
        out = [session(i, d(i), before=6, after=6 + c, outcomes=[("a", "done")]) for i, c in enumerate(with_changes)]
        return out + [
            session(30 + i, d(30 + i), before=6, after=6 + c, outcomes=[("b", "done")])
            for i, c in enumerate(without_changes)
        ]

    # Means -1.75 and -1.0: 0.75 points apart, but the sessions scatter by 2-3 points.
    assert technique_stats(history([-4, 1, -3, -1], [-3, 1, 0, -2])) == []
    # The same means without the scatter separate.
    ranked = technique_stats(history([-2, -2, -1, -2], [-1, -1, -1, -1]))
    assert [t.technique_id for t in ranked] == ["a", "b"]
    assert [t.difference for t in ranked] == [-0.75, 0.75]
    # Too small a gap is not ranked however steady: a quarter of a point.
    assert technique_stats(history([-1, -1, -1, -2], [-1, -1, -1, -1])) == []


def test_techniques_sort_by_how_much_more_pain_fell_with_them_then_by_hurts() -> None:
    sessions = [session(i, d(i), before=5, after=5, outcomes=[("base", "done")]) for i in range(4)]
    sessions += [session(10 + i, d(10 + i), before=5, after=2, outcomes=[("w", "done")]) for i in range(3)]
    sessions += [
        session(20 + i, d(20 + i), before=5, after=4, outcomes=[("x", "done"), ("y", "done")]) for i in range(3)
    ]
    sessions += [session(30, d(30), before=5, after=4, outcomes=[("x", "hurt")])]
    order = [t.technique_id for t in helping(technique_stats(sessions))]
    # w goes with a 3-point drop against about 0.5 without it; x and y with 1 against about 1.2: neither
    # is ranked as helping, and "base" goes with less of a drop.
    assert order == ["w"]


# ---------------------------------------------------------------- local dates across daylight saving


def test_local_dates_follow_the_zone_across_the_spring_change() -> None:
    # Berlin moves from UTC+1 to UTC+2 at 02:00 on Sunday 30 March 2025.
    assert local_day(datetime(2025, 3, 29, 22, 30, tzinfo=UTC), BERLIN) == date(2025, 3, 29)  # 23:30 CET
    assert local_day(datetime(2025, 3, 29, 23, 30, tzinfo=UTC), BERLIN) == date(2025, 3, 30)  # 00:30 CET
    assert local_day(datetime(2025, 3, 30, 21, 30, tzinfo=UTC), BERLIN) == date(2025, 3, 30)  # 23:30 CEST
    # A fixed UTC+1 would put this on the 30th: it is 00:30 on the 31st in summer time.
    assert local_day(datetime(2025, 3, 30, 22, 30, tzinfo=UTC), BERLIN) == date(2025, 3, 31)
    with pytest.raises(ValueError, match="naive"):
        local_day(datetime(2025, 3, 30, 22, 30), BERLIN)


def test_a_late_session_on_the_night_of_the_change_counts_on_its_local_day() -> None:
    sessions = [
        session(1, date(2025, 3, 29), hour=23, minute=30, tz=BERLIN),
        session(2, date(2025, 3, 30), hour=23, minute=30, tz=BERLIN),
        session(3, date(2025, 3, 31), hour=23, minute=30, tz=BERLIN),
    ]
    assert sessions[1].started_at == datetime(2025, 3, 30, 21, 30, tzinfo=UTC)
    assert session_days(sessions, BERLIN) == {date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31)}
    p = build_progress([], sessions, [], date(2025, 3, 31), BERLIN)
    assert (p.current_streak, p.sessions_last_7_days, p.sessions_last_30_days) == (3, 3, 3)
    # A session at 22:30 UTC every night: 23:30 in winter, 00:30 the next day in summer, so the local
    # 30th has none and the 31st and 1 April have one each.
    nightly = [session(i, date(2025, 3, 27 + i), hour=22, minute=30) for i in range(5)]
    days = {date(2025, 3, 27), date(2025, 3, 28), date(2025, 3, 29), date(2025, 3, 31), date(2025, 4, 1)}
    assert session_days(nightly, BERLIN) == days
    assert streaks(days, [], date(2025, 4, 1)) == (2, 3)


# ---------------------------------------------------------------- the message


def test_progress_text_states_numbers_and_the_rule() -> None:
    text = progress_text(seeded(), TITLES)
    assert "Sessions: 6 sessions in the last 7 days, 27 in the last 30 days." in text
    assert "<b>8 days</b> in a row (longest 49 days)" in text
    assert "1.5 points lower than before on average (51 rated sessions)" in text
    assert "your pain is lower: it averaged 5.1 then and 3.5 in the last 7 days" in text
    assert "2 points or 30%" in text
    assert (
        "• Lying hip hike: in sessions with it, pain ended 2.0 points lower than it started on average (27 rated); "
        "without it, 1.0 point lower (24 rated)." in text
    )
    assert "Clamshells" not in text and "Lying pelvic circles" not in text
    assert "not what causes it" in text
    assert "cure" not in text.lower()


def test_progress_text_escapes_titles_and_shows_what_is_missing() -> None:
    sessions = [session(i, d(i), before=5, after=4, outcomes=[("x", "done")]) for i in range(3)]
    p = build_progress(ratings_of(sessions), sessions, [], d(2), UTC_ZONE)
    text = progress_text(p, {"x": "<Clam & shell>"})
    assert "Not enough data yet: I compare your sessions with a stretch against those without it" in text
    assert "<i>To compare with your first week" in text
    sessions += [session(10 + i, d(10 + i), before=5, after=5, outcomes=[("y", "hurt")]) for i in range(3)]
    text = progress_text(build_progress(ratings_of(sessions), sessions, [], d(12), UTC_ZONE), {"x": "<Clam & shell>"})
    assert "• &lt;Clam &amp; shell&gt;: in sessions with it, pain ended 1.0 point lower" in text
    empty = progress_text(build_progress([], [], [], d(0), UTC_ZONE), {})
    assert "Which stretches help" not in empty
    assert "Sessions: no sessions today, your first day with Limber." in empty
    assert "(0 so far)" in empty
    assert "Streak" not in empty


def test_records_after_today_are_left_out() -> None:
    sessions = [session(i, d(i), before=5, after=3) for i in range(4)]
    p = build_progress(ratings_of(sessions), sessions, [], d(2), UTC_ZONE)
    assert (p.total_sessions, p.rated_sessions, p.current_streak) == (3, 3, 3)
    assert p.first_day == d(0)


# ---------------------------------------------------------------- other languages


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "es",
            [
                "• Sesiones: 6 sesiones en los últimos 7 días, 27 en los últimos 30 días.",
                "• Racha: <b>8 días</b> seguidos (la más larga, 49 días).",
                "en promedio 1,5 puntos más bajo que antes (51 sesiones valoradas)",
                "la media fue de 5,1 entonces y de 3,5 en los últimos 7 días",
            ],
        ),
        (
            "ru",
            [
                "• Занятия: 6 занятий за последние 7 дней, 27 за последние 30 дней.",
                "• Серия: <b>8 дней</b> подряд (самая длинная — 49 дней).",
                "в среднем на 1,5 балла ниже, чем до него (51 занятие с оценкой)",
                "в среднем 5,1 тогда и 3,5 за последние 7 дней",
            ],
        ),
    ],
)
def test_progress_text_in_spanish_and_russian(language: str, expected: list[str]) -> None:
    with i18n.speaking(language):
        text = progress_text(seeded(), TITLES)
    assert all(piece in text for piece in expected), text


def test_russian_counts_take_all_three_forms_and_dates_their_case() -> None:
    with i18n.speaking("ru"):
        assert [days(n) for n in (1, 2, 5, 11, 21, 22)] == [
            "1 день",
            "2 дня",
            "5 дней",
            "11 дней",
            "21 день",
            "22 дня",
        ]
        assert [sessions_text(n) for n in (0, 1, 3, 25)] == [
            "ни одного занятия",
            "1 занятие",
            "3 занятия",
            "25 занятий",
        ]
        assert day_text(date(2025, 3, 2)) == "2 марта 2025\u202fг."
        assert day_text(date(2025, 3, 2), year=False) == "2 марта"
        assert change_phrase(-1.0) == "на 1,0 балла ниже"
        assert change_phrase(0.04) == "не выше и не ниже"
    with i18n.speaking("es"):
        assert day_text(date(2025, 3, 2)) == "2 de marzo de 2025"
        assert [days(n) for n in (1, 2)] == ["1 día", "2 días"]
        assert change_phrase(2.25) == "2,2 puntos más alto"
    assert day_text(date(2025, 3, 2)) == "2 March 2025"


def test_what_is_missing_is_said_in_the_language() -> None:
    sessions = [session(1, d(0), before=5, after=4)]
    p = build_progress(ratings_of(sessions), sessions, [], d(0), UTC_ZONE)
    with i18n.speaking("ru"):
        assert missing_text(p) == "Оцените боль до и после 3 занятий, чтобы увидеть динамику (пока оценено: 1)."
    with i18n.speaking("es"):
        assert missing_text(p) == "Valora tu dolor antes y después de 3 sesiones para ver tu evolución (llevas 1)."
