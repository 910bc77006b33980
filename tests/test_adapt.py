"""The adaptive routine: each rule on its own (hurting stretches, offer back, holds, flares), then combined."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.coaching.adapt import (
    Adapted,
    AdaptedStep,
    HoldAdjustment,
    adapt,
    flare_suggested,
    gentlest,
    hold_adjustment,
    hold_factor,
    hurting_techniques,
    offer_back,
    planned_steps,
    recent_values,
    scaled_hold,
)
from bot.coaching.progress import RatingRecord, SessionRecord
from bot.views import adapt_note
from content import load_library
from content.schema import Technique
from tests.seeded import BERLIN, UTC_ZONE, at, session

LIB = load_library()


def said(adapted: Adapted) -> list[str]:
    return [adapt_note(note, LIB) for note in adapted.notes]


HIPS = LIB.routines["hips"].techniques
TODAY = date(2025, 3, 2)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def hurt(sid: int, days_ago: int, tid: str = "clamshell") -> SessionRecord:
    return session(sid, ago(days_ago), before=4, after=4, outcomes=[(tid, "hurt"), ("pelvic-circles", "done")])


def rated(sid: int, before: int, after: int, *, routine: str = "hips", done: bool = True) -> SessionRecord:
    """The routine's session number `sid`, one a day, ending yesterday for the highest id."""
    outcome = "done" if done else "skipped"
    return session(sid, ago(100 - sid), before=before, after=after, routine=routine, outcomes=[("x", outcome)])


def calm(n: int, first: int = 1) -> list[SessionRecord]:
    return [rated(first + i, 4, 3) for i in range(n)]


# ---------------------------------------------------------------- stretches that hurt


def test_a_technique_marked_hurting_twice_is_left_out() -> None:
    assert hurting_techniques([hurt(1, 5), hurt(2, 2)], today=TODAY, tz=UTC_ZONE) == {"clamshell": 2}
    assert hurting_techniques([hurt(1, 5), hurt(2, 2), hurt(3, 1)], today=TODAY, tz=UTC_ZONE) == {"clamshell": 3}


def test_once_is_not_enough_and_a_session_counts_once() -> None:
    assert hurting_techniques([hurt(1, 5)], today=TODAY, tz=UTC_ZONE) == {}
    twice_in_one = session(1, ago(1), outcomes=[("clamshell", "hurt"), ("clamshell", "hurt")])
    assert hurting_techniques([twice_in_one], today=TODAY, tz=UTC_ZONE) == {}
    assert hurting_techniques([hurt(1, 5), hurt(2, 2)], threshold=3, today=TODAY, tz=UTC_ZONE) == {}


def test_hurts_far_apart_do_not_add_up() -> None:
    sessions = [hurt(1, 45), hurt(2, 5)]
    assert hurting_techniques(sessions, today=TODAY, tz=UTC_ZONE) == {}  # 40 days apart, window 30
    assert hurting_techniques(sessions, window_days=41, today=TODAY, tz=UTC_ZONE) == {"clamshell": 2}


def test_left_out_for_three_weeks_after_the_last_hurt() -> None:
    assert hurting_techniques([hurt(1, 25), hurt(2, 20)], today=TODAY, tz=UTC_ZONE) == {"clamshell": 2}
    assert hurting_techniques([hurt(1, 26), hurt(2, 21)], today=TODAY, tz=UTC_ZONE) == {}


def test_offered_back_after_three_weeks_until_done_again() -> None:
    sessions = [hurt(1, 30), hurt(2, 21)]
    assert offer_back(sessions, today=TODAY, tz=UTC_ZONE) == {"clamshell": 21}
    assert offer_back(sessions, today=ago(1), tz=UTC_ZONE) == {}  # still left out then
    done_again = session(3, ago(0), outcomes=[("clamshell", "done")])
    assert offer_back([*sessions, done_again], today=TODAY, tz=UTC_ZONE) == {}
    # Done somewhere else while it was left out does not count as having it back.
    done_before = session(3, ago(10), outcomes=[("clamshell", "done")])
    assert offer_back([hurt(1, 30), hurt(2, 25), done_before], today=TODAY, tz=UTC_ZONE) == {"clamshell": 25}


def test_a_single_old_hurt_is_never_offered_back() -> None:
    assert offer_back([hurt(1, 30)], today=TODAY, tz=UTC_ZONE) == {}


def test_hurt_dates_are_local() -> None:
    # 23:30 UTC on 9 February (21 days before 2 March: due back) is already 10 February in Berlin (20 days:
    # still left out).
    sessions = [hurt(1, 40), session(2, date(2025, 2, 9), hour=23, minute=30, outcomes=[("clamshell", "hurt")])]
    assert hurting_techniques(sessions, today=TODAY, tz=UTC_ZONE) == {}
    assert hurting_techniques(sessions, today=TODAY, tz=BERLIN) == {"clamshell": 2}


# ---------------------------------------------------------------- holds


def test_holds_grow_after_every_three_calm_sessions() -> None:
    assert hold_adjustment([]) == HoldAdjustment(1.0, None)
    assert hold_factor(calm(2)) == 1.0
    assert hold_adjustment(calm(3)) == HoldAdjustment(1.15, "grew")
    assert hold_factor(calm(5)) == 1.15
    assert hold_factor(calm(6)) == 1.3
    equal = [rated(i, 5, 5) for i in range(1, 4)]
    assert hold_factor(equal) == 1.15  # no rise is enough


def test_any_rise_restarts_the_count_but_only_a_meaningful_one_shrinks() -> None:
    small_rise = rated(3, 8, 9)  # 1 point, 12.5%
    assert hold_factor([*calm(2), small_rise, rated(4, 4, 3), rated(5, 4, 3)]) == 1.0
    assert hold_factor([*calm(2), small_rise, *calm(3, first=4)]) == 1.15


def test_holds_shrink_after_a_meaningful_rise_but_not_below_seventy_percent() -> None:
    assert hold_adjustment([rated(1, 4, 6)]) == HoldAdjustment(0.85, "shrank")
    assert hold_factor([rated(1, 4, 6), rated(2, 2, 3)]) == 0.7  # 1 point but 50%
    assert hold_factor([rated(i, 3, 6) for i in range(1, 5)]) == 0.7
    assert hold_adjustment([*calm(3), rated(4, 3, 6)]) == HoldAdjustment(1.0, "shrank")


def rated_reversed(sessions: list[SessionRecord]) -> list[SessionRecord]:
    """The same pain pattern with the dates in the opposite order."""
    return [
        session(s.id, ago(s.id), before=s.before, after=s.after, routine=s.routine_id, outcomes=s.outcomes)
        for s in sessions
    ]


def test_holds_replay_in_time_order() -> None:
    rises = [rated(i, 3, 6) for i in range(1, 4)]
    later = calm(3, first=4)
    # Three rises hit the floor (0.7) and three calm sessions lift it to 0.85 ...
    assert hold_factor([*later, *rises]) == 0.85
    # ... while three calm sessions first and three rises after end at the floor.
    assert hold_factor([*rated_reversed(later), *rated_reversed(rises)]) == 0.7


def test_sessions_without_both_ratings_or_a_done_step_say_nothing() -> None:
    unrated = session(3, ago(97), before=4, outcomes=[("x", "done")])
    assert hold_factor([*calm(2), unrated, rated(4, 4, 3)]) == 1.15  # not a break either
    assert hold_factor([*calm(2), rated(3, 4, 3, done=False)]) == 1.0
    assert hold_factor([rated(1, 3, 8, done=False)]) == 1.0


def test_the_cap_bounds_the_factor_so_a_shrink_is_felt() -> None:
    assert hold_factor(calm(9), max_factor=1.2) == 1.2
    assert hold_factor(calm(9), max_factor=23 / 20) == 1.15
    assert hold_factor([*calm(9), rated(10, 3, 6)], max_factor=1.2) == 1.05


@pytest.mark.parametrize(
    ("hold", "factor", "cap", "seconds"),
    [
        (20, 1.15, 40, 25),  # 23 s
        (30, 1.15, 60, 35),  # 34.5 s, half up
        (45, 1.15, 120, 50),  # 51.75 s
        (10, 0.85, 20, 10),  # 8.5 s
        (10, 0.7, 20, 5),  # 7 s
        (5, 0.7, 5, 5),  # never below 5 s
        (30, 2.5, 60, 60),  # never above the cap
        (45, 1.3, 48, 45),  # a cap off the 5 s grid: the 5 s step below it
        (8, 1.0, 8, 8),  # unchanged holds keep the content's value
    ],
)
def test_scaled_hold(hold: int, factor: float, cap: int, seconds: int) -> None:
    assert scaled_hold(hold, factor, cap) == seconds


# ---------------------------------------------------------------- flares


@pytest.mark.parametrize(
    ("today", "recent", "flare"),
    [
        (None, [1, 1, 1], False),
        (9, [3, 3], False),  # too few recent ratings
        (5, [3, 3, 3], True),
        (4, [3, 3, 3], False),
        (6, [3, 3, 4], True),  # 3.33 + 2 = 5.33
        (5, [3, 3, 4], False),
        (10, [8, 9, 9], False),  # 8.67 + 2 = 10.67
        (2, [0, 0, 0, 0], True),
    ],
)
def test_flare_suggested(today: int | None, recent: list[int], flare: bool) -> None:
    assert flare_suggested(today, recent) is flare


def test_recent_values_are_the_seven_days_before_today() -> None:
    ratings = [
        RatingRecord(at(ago(0)), 9, "before"),
        RatingRecord(at(ago(1)), 3, "free"),
        RatingRecord(at(ago(7)), 4, "after"),
        RatingRecord(at(ago(8)), 5, "free"),
    ]
    assert recent_values(ratings, TODAY, UTC_ZONE) == [3, 4]


# ---------------------------------------------------------------- combined


def techniques() -> dict[str, Technique]:
    return dict(LIB.techniques)


def test_adapt_leaves_out_a_hurting_stretch_and_lengthens_holds() -> None:
    everything = [(tid, "done") for tid in HIPS]
    with_hurt = [(tid, "hurt" if tid == "clamshell" else "done") for tid in HIPS]
    sessions = [
        session(1, ago(6), before=5, after=4, outcomes=everything),
        session(2, ago(5), before=5, after=5, outcomes=with_hurt),
        session(3, ago(3), before=4, after=3, outcomes=with_hurt),
    ]
    adapted = adapt("hips", HIPS, techniques(), sessions, today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    assert adapted.steps == [
        AdaptedStep("pelvic-circles", None, 8),
        AdaptedStep("hip-hike", None, 10),
        AdaptedStep("edge-of-bed-hip-flexor", 50, None),  # 45 s + 15%
        AdaptedStep("half-kneeling-hip-flexor", 35, None),  # 30 s + 15%
        AdaptedStep("side-lying-leg-lift", None, 10),
    ]
    assert said(adapted) == [
        "Left out Clamshells: marked as hurting twice.",
        "Holds are 15% longer: three sessions in a row without more pain.",
    ]
    assert adapted.left_out == ["clamshell"]
    assert adapted.suggest_flare is False


def test_adapt_offers_a_stretch_back_and_suggests_a_flare_routine() -> None:
    sessions = [hurt(1, 30), hurt(2, 24)]
    recent = [RatingRecord(at(ago(i)), v, "free") for i, v in ((1, 4), (2, 4), (3, 5))]
    adapted = adapt("hips", HIPS, techniques(), sessions, today_pain=7, recent_ratings=recent, today=TODAY, tz=UTC_ZONE)
    assert [s.technique_id for s in adapted.steps] == list(HIPS)
    assert said(adapted) == ["Clamshells is back: it's been 3 weeks since it hurt; go gently."]
    assert adapted.offered_back == ["clamshell"]
    assert adapted.suggest_flare is True  # 7 >= 4.33 + 2
    calmer = adapt("hips", HIPS, techniques(), sessions, today_pain=6, recent_ratings=recent, today=TODAY, tz=UTC_ZONE)
    assert calmer.suggest_flare is False


def test_adapt_shortens_holds_after_a_rise_and_ignores_other_routines() -> None:
    sessions = [
        *[rated(i, 4, 3, routine="glutes") for i in range(1, 7)],
        session(20, ago(1), before=3, after=6, outcomes=[("edge-of-bed-hip-flexor", "done")]),
    ]
    adapted = adapt("hips", HIPS, techniques(), sessions, today_pain=3, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    holds = {s.technique_id: s.hold_seconds for s in adapted.steps}
    assert holds == {
        "pelvic-circles": None,
        "hip-hike": None,
        "edge-of-bed-hip-flexor": 40,  # 38.25 s
        "half-kneeling-hip-flexor": 25,  # 25.5 s
        "clamshell": None,
        "side-lying-leg-lift": None,
    }
    assert said(adapted) == ["Holds are shorter after your pain rose last time."]


def test_each_technique_is_capped_so_a_later_shrink_still_shortens_it() -> None:
    # Core: knee plank 15 s (up to 45 s) and lean-back hold 5 s (up to 10 s). Thirty calm sessions
    # reach 250%; lean-back stops at 200%. Two rises later: knee plank 220% (33 s).
    core = LIB.routines["core"].techniques
    sessions = [rated(i, 4, 3, routine="core") for i in range(1, 31)]
    grown = adapt("core", core, techniques(), sessions, today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    holds = {s.technique_id: s.hold_seconds for s in grown.steps if s.hold_seconds}
    assert holds == {"knee-plank": 40, "lean-back-hold": 10}  # 37.5 s and the cap
    assert said(grown) == [
        "Holds are up to 150% longer than at first: they grow a little after every three sessions in a row "
        "without more pain."
    ]
    sessions += [rated(31, 3, 6, routine="core"), rated(32, 3, 6, routine="core")]
    shrunk = adapt("core", core, techniques(), sessions, today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    holds = {s.technique_id: s.hold_seconds for s in shrunk.steps if s.hold_seconds}
    assert holds == {"knee-plank": 35, "lean-back-hold": 10}
    # Glutes: the tennis ball's 40 s stops at 150% (60 s); two rises take it to 120% (48 s, so 50 s).
    glutes = LIB.routines["glutes"].techniques
    sessions = [rated(i, 4, 3, routine="glutes") for i in range(1, 31)]
    sessions += [rated(31, 3, 6, routine="glutes"), rated(32, 3, 6, routine="glutes")]
    shrunk = adapt(
        "glutes", glutes, techniques(), sessions, today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE
    )
    assert {s.technique_id: s.hold_seconds for s in shrunk.steps}["tennis-ball-glute-release"] == 50


def test_the_plan_is_never_empty() -> None:
    sessions = [hurt(i * 10 + n, n, tid) for i, tid in enumerate(HIPS) for n in (1, 2)]
    sessions.append(hurt(99, 3, "pelvic-circles"))
    adapted = adapt("hips", HIPS, techniques(), sessions, today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    # Pelvic circles and hip hikes are both gentle; hip hikes hurt fewer times.
    assert adapted.steps == [AdaptedStep("hip-hike", None, 10)]
    assert said(adapted) == [
        "Left out Lying pelvic circles: marked as hurting 3 times.",
        "Left out Edge-of-bed hip flexor stretch: marked as hurting twice.",
        "Left out Half-kneeling hip flexor stretch: marked as hurting twice.",
        "Left out Clamshells: marked as hurting twice.",
        "Left out Side-lying leg lift: marked as hurting twice.",
        "Kept Lying hip hike, the gentlest stretch here, so the routine isn't empty: it was marked as hurting "
        "too, so go gently and stop if it hurts.",
    ]
    assert adapted.left_out == [
        "pelvic-circles",
        "edge-of-bed-hip-flexor",
        "half-kneeling-hip-flexor",
        "clamshell",
        "side-lying-leg-lift",
    ]
    with pytest.raises(ValueError, match="at least one"):
        adapt("hips", [], techniques(), [], today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)


def test_gentlest_prefers_level_then_fewer_hurts_then_routine_order() -> None:
    lib = techniques()
    assert gentlest(["clamshell", "hip-hike"], lib, {}) == "hip-hike"
    assert gentlest(["pelvic-circles", "hip-hike"], lib, {}) == "pelvic-circles"
    assert gentlest(["pelvic-circles", "hip-hike"], lib, {"pelvic-circles": 3, "hip-hike": 2}) == "hip-hike"


def test_planned_steps_carry_the_adapted_dose() -> None:
    adapted = adapt("hips", HIPS, techniques(), calm(3), today_pain=None, recent_ratings=[], today=TODAY, tz=UTC_ZONE)
    steps = {s.technique_id: s for s in planned_steps(adapted, techniques())}
    flexor = steps["edge-of-bed-hip-flexor"]
    assert (flexor.title, flexor.hold_seconds, flexor.sides, flexor.rest_seconds) == (
        "Edge-of-bed hip flexor stretch",
        50,
        LIB.techniques["edge-of-bed-hip-flexor"].sides.value,
        LIB.techniques["edge-of-bed-hip-flexor"].rest_between_sides_seconds,
    )
    assert steps["clamshell"].reps == 12
