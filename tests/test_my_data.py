"""A person's own data end to end: /progress, the adaptive routine, /settings, /report, /export, /delete."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from storage.history import person_tables
from storage.models import DayMark, User
from tests.factories import BotProcess, Person, labels, seed_history

OTHER_HAS = {"users", "preferences", "routine_sessions", "step_outcomes", "pain_ratings", "day_marks"}


async def test_progress_shows_a_chart_and_the_numbers(bot: BotProcess, person: Person) -> None:
    await person.join()
    # 60 days up to today (Monday 2 Nov 2026): a rest day 19 days ago, a plain skip 9 days ago.
    await seed_history(bot, person.user_id, days=60, rest_days=(19,), skipped_days=(9,))
    await person.send("/progress")
    assert (await person.expect(kind="chat_action"))["action"] == "upload_photo"
    photo = await person.expect()
    png = Path(photo["file_path"]).read_bytes()
    assert photo["message"]["photo"] and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert photo["message"]["photo"][-1]["width"] >= 800
    text = (await person.expect("Your progress"))["message"]["text"]
    # Rolling windows across the October-November boundary: the week is never more than the month.
    assert "Sessions: 7 sessions in the last 7 days, 28 in the last 30 days." in text
    # The rest day is forgiven, the plain skip breaks the run: 9 now, 49 before the skip.
    assert "Streak: 9 days in a row (longest 49 days)" in text
    assert "2.0 points lower than before on average (58 rated sessions)" in text
    assert "about the same" in text and "2 points or 30%" in text
    # Every seeded session did the whole routine: no stretch can be told apart from the rest.
    assert "Not enough data yet: I compare your sessions with a stretch against those without it" in text
    # A new rating changes the chart.
    await person.send("9")
    await person.expect("Noted")
    await person.send("/progress")
    again = Path((await person.expect())["file_path"]).read_bytes()
    assert again != png


async def test_progress_counts_on_day_one_and_across_a_month_boundary(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=1)
    await person.send("/progress")
    await person.expect()
    text = (await person.expect("Your progress"))["message"]["text"]
    assert "Sessions: 1 session today, your first day with Limber." in text
    # Nine days later (Wednesday 11 November): the account is 10 days old, October's sessions are gone.
    await bot.clock.advance(9 * 86400)  # type: ignore[attr-defined]
    await seed_history(bot, person.user_id, days=3)
    await person.send("/progress")
    await person.expect()
    text = (await person.expect("Your progress"))["message"]["text"]
    assert "Sessions: 3 sessions in the last 7 days, 4 since you started on 2 November (10 days)." in text


async def test_which_stretches_help_compares_sessions_with_and_without_them(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=6, routine_id="hips", before=6, after=3)
    await seed_history(bot, person.user_id, days=6, routine_id="low-back", before=6, after=5)
    await person.send("/progress")
    await person.expect()
    text = (await person.expect("Your progress"))["message"]["text"]
    assert (
        "• Lying pelvic circles: in sessions with it, pain ended 3.0 points lower than it started on average "
        "(6 rated); without it, 1.0 point lower (6 rated)." in text
    )
    # Low-back stretches went with the smaller drop: not offered as helping.
    assert "Lying pelvic tilt" not in text and "Seated pelvic rock" not in text
    assert "not what causes it" in text


async def test_progress_with_too_little_data_says_what_is_needed(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/progress")
    await person.expect()
    text = (await person.expect("Your progress"))["message"]["text"]
    assert "3 sessions" in text


async def test_a_stretch_marked_hurting_twice_is_left_out_and_said_why(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=6, hurt={1: "clamshell", 3: "clamshell"})
    await person.send("/stretch hips")
    ask = (await person.expect("how is your pain right now"))["message"]["text"]
    assert "Left out Clamshells: marked as hurting twice." in ask
    assert "5 steps" in ask
    await person.press("5")
    step = await person.expect("Step 1 of 5")
    assert "Clamshell" not in step["message"]["text"]


async def test_holds_grow_after_calm_sessions(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=3, before=5, after=4)
    await person.send("/stretch hips")
    ask = (await person.expect("how is your pain right now"))["message"]["text"]
    assert "Holds are 15% longer" in ask


async def test_a_flare_day_offers_the_gentle_routine(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=5, before=3, after=3)
    await person.send("/stretch core")
    await person.expect("how is your pain right now")
    await person.press("7")
    await person.expect("Step 1 of")
    offer = await person.expect("2 or more points above your recent average")
    await person.press("Switch to Relax", offer["message"])
    ask = await person.expect("how is your pain right now")
    assert "Relax" in ask["message"]["text"] or "Gentle" in ask["message"]["text"]


async def test_settings_persist_and_shape_the_routine(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.send("/settings")
    screen = await person.expect("Your settings")
    await person.press("Short", screen["message"])
    screen = await person.expect("Session length: Short", kind="edit")
    await person.press("Gentle", screen["message"])
    screen = await person.expect("Level: Gentle", kind="edit")
    await person.press("Glutes", screen["message"])
    await person.expect("Focus (what daily prompts offer): Glutes", kind="edit")
    await bot.restart()
    await person.send("/settings")
    text = (await person.expect("Your settings"))["message"]["text"]
    assert "Short" in text and "Gentle" in text and "Glutes" in text
    await person.send("/stretch hips")
    ask = (await person.expect("how is your pain right now"))["message"]["text"]
    assert "above your level (gentle)" in ask
    steps = int(ask.split(" steps")[0].split()[-1])
    assert steps <= 4


async def test_report_is_a_one_page_pdf(bot: BotProcess, person: Person) -> None:
    await person.join()
    await seed_history(bot, person.user_id, days=30)
    await person.send("I fell down the stairs")
    await person.expect("contact a doctor today")
    await person.send("/report")
    # "sending a file…" shows at the top of the chat while the page is drawn, before the document arrives.
    assert (await person.expect(kind="chat_action"))["action"] == "upload_document"
    event = await person.expect()
    pdf = Path(event["file_path"]).read_bytes()
    assert event["message"]["document"]["file_name"].endswith(".pdf")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1


def tables_about_a_person() -> list[str]:
    """Straight from the metadata: a new table holding a person's rows is in this list."""
    return [t.name for t in SQLModel.metadata.sorted_tables if t.name == "users" or "user_id" in t.columns]


async def test_export_holds_every_table_with_the_persons_rows(bot: BotProcess, person: Person, api_url: str) -> None:
    await person.join()
    other = await Person(api_url).join()
    try:
        await bot.schedule(person.user_id, at="10:30", tz="Europe/Berlin")
        await seed_history(bot, person.user_id, days=10, rest_days=(3,))
        await seed_history(bot, other.user_id, days=4)
        await person.send("3")
        await person.expect("Noted")
        await bot.clock.advance(3600)  # type: ignore[attr-defined]  # 10:00 UTC: the prompt was due at 10:30 in Berlin
        await bot.prompt_pass()
        await person.expect("Time for today's stretch")
        await person.send("I fell down the stairs")
        await person.expect("contact a doctor today")
        await person.send("/export")
        csv_event = await person.expect()
        json_event = await person.expect()
    finally:
        await other.close()
    assert "times in UTC and in your time zone" in json_event["message"]["caption"]
    data = json.loads(Path(json_event["file_path"]).read_text(encoding="utf-8"))
    assert data["time_zone"] == "Europe/Berlin"
    assert (data["exported_at"], data["exported_at_local"]) == (
        "2026-11-02T10:00:00+00:00",
        "2026-11-02T11:00:00+01:00",
    )
    expected = tables_about_a_person()
    assert {"prompts", "day_marks", "red_flag_events", "preferences"} <= set(expected)
    assert sorted(data["tables"]) == sorted(expected)
    async with bot.services.db.transaction() as db:
        for name in expected:
            table = SQLModel.metadata.tables[name]
            column = table.c.id if name == "users" else table.c.user_id
            stored = (
                await db.execute(select(func.count()).select_from(table).where(column == person.user_id))
            ).scalar()
            rows = data["tables"][name]
            assert stored and len(rows) == stored, name  # every table has rows here, and all of them
            assert all(row.get("user_id", row.get("id")) == person.user_id for row in rows), name
    (prompt,) = data["tables"]["prompts"]
    assert (prompt["due_at"], prompt["due_at_local"]) == ("2026-11-02T09:30:00+00:00", "2026-11-02T10:30:00+01:00")
    assert [m["kind"] for m in data["tables"]["day_marks"]] == ["rest"]
    assert data["tables"]["red_flag_events"][0]["categories"] == "trauma"
    steps = len(bot.services.library.routines["hips"].techniques)
    assert len(data["tables"]["routine_sessions"]) == 9 and len(data["tables"]["step_outcomes"]) == 9 * steps
    assert {r["value"] for r in data["tables"]["pain_ratings"] if r["context"] == "free"} == {3}
    rows = list(csv.DictReader(io.StringIO(Path(csv_event["file_path"]).read_text(encoding="utf-8"))))
    kinds = [r["record"] for r in rows]
    assert kinds.count("session") == 9 and kinds.count("step") == 9 * steps and kinds.count("rating") == 19
    # The header row is for a person opening it in a spreadsheet: words, not column ids.
    free = next(r for r in rows if r["when rated"] == "free")
    assert (free["time (UTC)"], free["local time"]) == ("2026-11-02T09:00:00+00:00", "2026-11-02T10:00:00+01:00")


async def test_delete_erases_every_row_after_two_taps(bot: BotProcess, person: Person, api_url: str) -> None:
    await person.join()
    other = await Person(api_url).join()
    try:
        for who in (person, other):
            await seed_history(bot, who.user_id, days=5, rest_days=(2,))
            await bot.schedule(who.user_id, at="07:00")
        await person.send("I can't pee")
        await person.expect("get emergency help now")
        await person.send("/delete")
        ask = await person.expect("Delete everything")
        # A forged final tap without the first one erases nothing.
        await person.press_data("1:x:2:deadbeef", ask["message"]["message_id"])
        await person.expect_answer("no longer")
        await person.press("Yes, continue", ask["message"])
        confirm = await person.expect("cannot be undone", kind="edit")
        assert labels(confirm["message"])[0] == "🗑 Erase everything"
        await person.press("Erase everything", confirm["message"])
        await person.expect("has been erased", kind="edit")
        async with bot.services.db.transaction() as db:
            for model in person_tables():
                column: Any = model.id if model is User else model.user_id  # type: ignore[attr-defined]
                mine = (
                    await db.execute(select(func.count()).select_from(model).where(column == person.user_id))
                ).scalar()
                theirs = (
                    await db.execute(select(func.count()).select_from(model).where(column == other.user_id))
                ).scalar()
                assert mine == 0, model.__tablename__
                if model.__tablename__ in OTHER_HAS:
                    assert theirs, f"{model.__tablename__}: the other person's rows must stay"
            assert (await db.execute(select(func.count()).select_from(User))).scalar() == 1
        # Writing again starts afresh.
        await person.send("/start")
        await person.expect("Limber")
    finally:
        await other.close()


async def test_skipping_a_prompt_as_a_rest_day_keeps_the_streak(bot: BotProcess, person: Person) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="09:30")
    await bot.clock.advance(3600)  # type: ignore[attr-defined]
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.press("Skip today", prompt["message"])
    reason = await person.expect("rest day or a flare-up", kind="edit")
    await person.press("Rest day", reason["message"])
    await person.expect("Marked today as a rest day", kind="edit")
    async with bot.services.db.transaction() as db:
        (mark,) = (await db.execute(select(DayMark))).scalars().all()
    assert (mark.kind, mark.day.isoformat()) == ("rest", "2026-11-02")
