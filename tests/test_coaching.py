"""The coaching domain's pure functions: ratings, red flags, areas, plans, sessions, timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.coaching.areas import resolve_area
from bot.coaching.holds import (
    Cue,
    CueKind,
    Phase,
    PhaseKind,
    cue_for,
    phase_index,
    seconds_to_phase_end,
    timer_phases,
    timer_view,
)
from bot.coaching.plan import build_plan, estimate_minutes, step_seconds
from bot.coaching.ratings import OutOfRange, Rating, Verdict, is_meaningful, pain_change, parse_pain
from bot.coaching.redflags import detect_red_flags
from bot.coaching.session import Position, Status, StepAction, after_rating, after_step, summarize
from content import load_library

LIB = load_library()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        (" 0 ", 0),
        ("10", 10),
        ("pain 5/10", 5),
        ("Pain: 7", 7),
        ("it's a 7", 7),
        ("it’s a 3", 3),
        ("7 out of 10", 7),
        ("about 4 today", 4),
        ("my pain is 6", 6),
        ("4/10", 4),
        ("8.0", 8),
        ("I'd say 3/10", 3),
    ],
)
def test_parse_pain_reads_ratings(text: str, value: int) -> None:
    assert parse_pain(text) == Rating(value)


@pytest.mark.parametrize("text", ["11", "pain 12/10", "7.5", "-", "pain 100"])
def test_parse_pain_flags_numbers_outside_the_scale(text: str) -> None:
    assert isinstance(parse_pain(text), OutOfRange) or parse_pain(text) is None
    assert parse_pain("11") == OutOfRange("11")
    assert parse_pain("7.5") == OutOfRange("7.5")


@pytest.mark.parametrize("text", ["hello", "I did 3 stretches yesterday", "", "hips", "x" * 5000, "/start"])
def test_parse_pain_ignores_other_text(text: str) -> None:
    assert parse_pain(text) is None


def test_meaningful_change_is_two_points_or_thirty_percent() -> None:
    assert is_meaningful(6, 4)
    assert is_meaningful(3, 2)  # 33%
    assert not is_meaningful(8, 7)  # 12.5% and one point
    assert not is_meaningful(0, 0)
    assert pain_change(6, 4).verdict is Verdict.better
    assert pain_change(4, 6).verdict is Verdict.worse
    assert pain_change(8, 7).verdict is Verdict.same
    assert pain_change(6, 4).delta == -2


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I can't pee since this morning", "urinary"),
        ("lost control of my bladder", "incontinence"),
        ("there's numbness down there", "saddle"),
        ("my groin feels numb", "saddle"),
        ("both legs are getting weak", "both_legs"),
        ("weakness in both legs", "both_legs"),
        ("my legs are both going numb", "both_legs"),
        ("legs feel weak", "both_legs"),
        ("I have a fever and back pain", "fever"),
        ("it started after I fell off a ladder", "trauma"),
        ("I slipped on ice yesterday", "trauma"),
    ],
)
def test_red_flags_are_detected(text: str, category: str) -> None:
    assert category in detect_red_flags(text)


@pytest.mark.parametrize("text", ["my hips are tight", "pain 4", "numb toes on my left foot", "I feel weak today"])
def test_ordinary_text_is_not_a_red_flag(text: str) -> None:
    assert detect_red_flags(text) == []


@pytest.mark.parametrize(
    ("typed", "routine", "exact"),
    [
        ("hips", "hips", True),
        ("hip", "hips", True),
        ("Lower Back", "low-back", True),
        ("lowback", "low-back", True),
        ("back", "low-back", True),
        ("butt", "glutes", True),
        ("hamstring", "hamstrings", True),
        ("core", "core", True),
        ("relax", "relax", True),
        ("quick", "quick", True),
        ("hisp", "hips", False),
        ("glutse", "glutes", False),
    ],
)
def test_areas_resolve_by_alias_or_closest_match(typed: str, routine: str, exact: bool) -> None:
    match = resolve_area(typed, LIB)
    assert match is not None and match.routine_id == routine and match.exact is exact


def test_unknown_area_matches_nothing() -> None:
    assert resolve_area("elbow", LIB) is None
    assert resolve_area("   ", LIB) is None
    assert resolve_area("z" * 10_000, LIB) is None


def test_plan_follows_the_routine_and_estimates_time() -> None:
    plan = build_plan(LIB.routines["quick"], LIB)
    assert [s.technique_id for s in plan] == LIB.routines["quick"].techniques
    assert sum(step_seconds(s) for s in plan) <= 300
    assert estimate_minutes(plan) <= 5


def test_session_moves_through_steps_then_to_the_rating_after() -> None:
    pos = after_rating(Position(Status.rating_before, 0, 3))
    assert pos == Position(Status.in_progress, 0, 3)
    pos = after_step(pos, StepAction.done)
    assert pos == Position(Status.in_progress, 1, 3)
    assert after_step(pos, StepAction.stop).status is Status.rating_after
    pos = after_step(after_step(pos, StepAction.hurt), StepAction.skip)
    assert pos.status is Status.rating_after
    assert after_rating(pos).status is Status.finished


def test_summary_counts_outcomes_time_and_change() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    s = summarize(
        routine_title="Hips",
        step_count=5,
        outcomes=["done", "skipped", "hurt", "done"],
        started_at=t0,
        finished_at=t0 + timedelta(minutes=9, seconds=5),
        stopped=True,
        before=6,
        after=3,
    )
    assert (s.done, s.skipped, s.hurt, s.not_reached, s.seconds) == (2, 1, 1, 1, 545)
    assert s.change is not None and s.change.verdict is Verdict.better


def test_timer_runs_left_rest_right() -> None:
    phases = timer_phases(hold_seconds=30, sides="both", rest_seconds=10)
    assert phases == [
        Phase(PhaseKind.hold, "left", 30),
        Phase(PhaseKind.rest, None, 10),
        Phase(PhaseKind.hold, "right", 30),
    ]
    assert timer_view(phases, 0).remaining == 30
    assert timer_view(phases, 29.5).phase == Phase(PhaseKind.hold, "left", 30)
    view = timer_view(phases, 31)
    assert view.phase is not None and view.phase.kind == "rest" and view.remaining == 9
    assert timer_view(phases, 45).phase == Phase(PhaseKind.hold, "right", 30)
    assert timer_view(phases, 70).finished
    assert seconds_to_phase_end(phases, 25) == 5
    assert timer_phases(hold_seconds=20, sides="none", rest_seconds=0) == [Phase(PhaseKind.hold, None, 20)]


def test_cues_sound_at_the_rest_the_other_side_and_the_end() -> None:
    phases = timer_phases(hold_seconds=30, sides="both", rest_seconds=10)
    assert [phase_index(phases, t) for t in (0, 29.9, 30, 39.9, 40, 69.9, 70, 500)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert cue_for(phases, 0) is None  # the first side starts with the button
    assert cue_for(phases, 1) == Cue(CueKind.rest, Phase(PhaseKind.rest, None, 10))
    assert cue_for(phases, 2) == Cue(CueKind.switch, Phase(PhaseKind.hold, "right", 30))
    assert cue_for(phases, 3) == Cue(CueKind.done, None)
    no_rest = timer_phases(hold_seconds=20, sides="both", rest_seconds=0)
    assert [cue_for(no_rest, i) for i in (1, 2)] == [
        Cue(CueKind.switch, Phase(PhaseKind.hold, "right", 20)),
        Cue(CueKind.done, None),
    ]
    one = timer_phases(hold_seconds=20, sides="none", rest_seconds=0)
    assert cue_for(one, phase_index(one, 20)) == Cue(CueKind.done, None)
