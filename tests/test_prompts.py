"""Daily prompts end to end through the emulator, with an injected clock: on time, once, in the person's zone."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.coaching.schedule import WEEKDAYS
from storage import prompts as prompt_repo
from storage import repo
from storage.models import PainRating, Preferences, Prompt, User
from testkit.databases import fresh_postgres, postgres_available
from tests.factories import BotProcess, FakeClock, Person, labels

# A Monday morning in Berlin (UTC+1 in November).
START = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, autoadvance=True)


async def prompts_of(bot: BotProcess, user_id: int) -> list[Prompt]:
    async with bot.services.db.transaction() as db:
        return list(await prompt_repo.prompts_for(db, user_id=user_id))


async def prefs_of(bot: BotProcess, user_id: int) -> Preferences:
    async with bot.services.db.transaction() as db:
        return await prompt_repo.preferences_of(db, user_id=user_id)


async def prompt_messages(person: Person) -> list[dict]:
    return [m for m in await person.messages() if "Time for today's stretch" in (m.get("text") or "")]


async def test_setting_up_reminders_by_buttons_and_typing(bot: BotProcess, person: Person) -> None:
    await person.join()
    await person.press("Daily reminder")
    screen = await person.expect("Daily prompts: off")
    await person.press("08:00", screen["message"])
    screen = await person.expect("Daily prompts: on", kind="edit")
    # 05:00 UTC on Monday: 08:00 UTC today is still ahead.
    assert "Next prompt: Mon 02 Nov at 08:00 (UTC)" in screen["message"]["text"]

    await person.press("Time zone", screen["message"])
    await person.expect("Which time zone")
    await person.send("Berlni")
    guess = await person.expect("Did you mean")
    await person.press("Europe/Berlin", guess["message"])
    screen = await person.expect("Time zone: Europe/Berlin", kind="edit")
    # 08:00 in Berlin is 07:00 UTC: still ahead today.
    assert "Next prompt: Mon 02 Nov at 08:00 (Europe/Berlin)" in screen["message"]["text"]

    await person.press("Other time", screen["message"])
    await person.expect("What time should I send")
    await person.send("25:99")
    await person.expect("couldn't read “25:99” as a time")
    await person.send("7pm")
    screen = await person.expect("Daily prompt at 19:00")
    assert "Next prompt: Mon 02 Nov at 19:00 (Europe/Berlin)" in screen["message"]["text"]
    # The answer was taken as a time, not as a pain rating.
    async with bot.services.db.transaction() as db:
        assert (await db.execute(select(PainRating))).first() is None

    await person.press("Weekdays", screen["message"])
    await person.expect("Days: weekdays", kind="edit")
    await person.press("Pick days", (await person.with_buttons()))
    picker = await person.expect("Tap the days", kind="edit")
    for day in ("Mon", "Tue", "Wed", "Thu"):
        await person.press(day, picker["message"])
        picker = await person.expect(kind="edit")
    # Friday, the last day left, cannot be removed.
    await person.press("Fri", picker["message"])
    await person.expect_answer("at least one day")
    assert (await prefs_of(bot, person.user_id)).reminder_days == 0b0010000
    await person.press("Done", picker["message"])
    screen = await person.expect("Days: Fri", kind="edit")
    assert "Next prompt: Fri 06 Nov at 19:00 (Europe/Berlin)" in screen["message"]["text"]


async def test_prompt_arrives_at_the_local_time_once(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="07:30", tz="Europe/Berlin")
    # 07:30 Berlin = 06:30 UTC. Not yet at 06:29.
    await clock.advance(timedelta(hours=1, minutes=29).total_seconds())
    assert (await bot.prompt_pass()).sent == 0
    await clock.advance(60)
    report = await bot.prompt_pass()
    assert report.sent == 1
    prompt = await person.expect("Time for today's stretch")
    assert "Today's routine:" in prompt["message"]["text"] and "min)" in prompt["message"]["text"]
    assert {"▶ Start now", "⏰ In 20 min", "⏰ In 1 hour", "Skip today", "0", "10"} <= set(labels(prompt["message"]))
    # Running again, even much later the same day, sends nothing more.
    await clock.advance(3600)
    assert (await bot.prompt_pass()).sent == 0
    (row,) = await prompts_of(bot, person.user_id)
    assert (row.local_date, row.status, row.kind) == (date(2026, 11, 2), "sent", "daily")
    prefs = await prefs_of(bot, person.user_id)
    assert prefs.next_prompt_date == date(2026, 11, 3)


async def test_rating_start_snooze_and_skip_from_the_prompt(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    await clock.advance(3600)
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.press("4", prompt["message"])
    rated = await person.expect("Pain today: 4/10", kind="edit")
    assert "0" not in labels(rated["message"]) and "▶ Start now" in labels(rated["message"])
    async with bot.services.db.transaction() as db:
        (rating,) = (await db.execute(select(PainRating))).scalars().all()
    assert (rating.value, rating.context) == (4, "prompt")

    await person.press("In 20 min", rated["message"])
    await person.expect("Snoozed", kind="edit")
    await person.press_data(f"1:p:{(await prompts_of(bot, person.user_id))[0].id}:h", prompt["message"]["message_id"])
    await person.expect_answer("already snoozed")
    await clock.advance(19 * 60)
    assert (await bot.prompt_pass()).sent == 0
    await clock.advance(60)
    assert (await bot.prompt_pass()).sent == 1
    again = await person.expect("snoozed reminder")
    await person.press("Start now", again["message"])
    # Rated 20 minutes ago on the first prompt: that is the routine's before-rating, not asked again.
    await person.expect("Pain before: 4/10, from today's prompt")
    rows = await prompts_of(bot, person.user_id)
    assert [(r.kind, r.status, r.response) for r in rows] == [
        ("daily", "sent", "snoozed"),
        ("snooze", "sent", "started"),
    ]

    # Next day: skip.
    await clock.advance(24 * 3600)
    await bot.prompt_pass()
    tomorrow = await person.expect("Time for today's stretch")
    await person.press("Skip today", tomorrow["message"])
    await person.expect("Skipped for today", kind="edit")
    assert (await prompts_of(bot, person.user_id))[-1].response == "skipped"
    # Yesterday's prompt can no longer be snoozed.
    await person.press_data(f"1:p:{rows[0].id}:z", prompt["message"]["message_id"])
    await person.expect_answer()


async def test_days_of_week(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="07:00", tz="Europe/Berlin", days=WEEKDAYS)
    sent_days = []
    for _ in range(14):
        await clock.advance(24 * 3600)
        await bot.prompt_pass()
    for row in await prompts_of(bot, person.user_id):
        sent_days.append(row.local_date.weekday())
    assert sorted(set(sent_days)) == [0, 1, 2, 3, 4] and len(sent_days) == 10


YEAR = 2026
YEAR_ZONES = [
    # (zone, local time): times that fall in a skipped or doubled hour on the DST days.
    ("Europe/Berlin", "02:30"),
    ("Europe/London", "01:30"),
    ("America/New_York", "02:30"),
    ("America/Chicago", "01:30"),
    ("Australia/Sydney", "02:30"),
    ("Australia/Lord_Howe", "02:15"),
    ("Pacific/Chatham", "03:00"),
    ("America/St_Johns", "00:30"),
    ("Asia/Kolkata", "07:00"),
    ("Africa/Casablanca", "02:30"),
]
# Days before and after a transition the bot runs through (the pure schedule test covers every day of the year).
AROUND = 3


def transition_days(zone: str, at: str) -> list[date]:
    """The days of YEAR after which the zone's offset at that wall time changes (its DST days)."""
    tz, wall = ZoneInfo(zone), datetime.strptime(at, "%H:%M").time()
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    return [
        d
        for d in days
        if (datetime.combine(d, wall) + timedelta(days=1)).replace(tzinfo=tz).utcoffset()
        != datetime.combine(d, wall).replace(tzinfo=tz).utcoffset()
    ]


async def simulate_days(
    api_url: str, database_url: str, zone: str, at: str, first: date, last: date
) -> tuple[list[Prompt], int]:
    """One person in `zone`, a clock process, and the passes from `first` to `last`, each run right when a
    prompt falls due."""
    start = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(zone)) + timedelta(
        hours=12
    )
    clock = FakeClock(start.astimezone(UTC), autoadvance=True)
    person = Person(api_url)
    await person.send("/start")  # the chat exists in the emulator; the bot's row is seeded below
    process = BotProcess(api_url, database_url, clock, poll=False, role="clock")
    await process.start()
    try:
        async with process.services.db.transaction() as db:
            await repo.ensure_user(db, user_id=person.user_id, chat_id=person.user_id, first_name="Ana")
        await process.schedule(person.user_id, at=at, tz=zone)
        while True:
            prefs = await prefs_of(process, person.user_id)
            assert prefs.next_prompt_at is not None and prefs.next_prompt_date is not None
            if prefs.next_prompt_date > last:
                break
            await clock.advance((prefs.next_prompt_at - clock.now()).total_seconds() + 1)
            await process.prompt_pass()
        rows = await prompts_of(process, person.user_id)
        delivered = len(await prompt_messages(person))
    finally:
        await process.stop()
        await person.close()
    return rows, delivered


async def test_dst_days_in_ten_zones_one_prompt_per_day(api_url: str, tmp_path: Path) -> None:
    """The prompt clock through each zone's DST days (a skipped or doubled hour at the chosen time), a week
    around each, and a week of a zone without DST: one prompt a day, sent, at the time the schedule says."""
    windows = [
        (zone, at, transition)
        for zone, at in YEAR_ZONES
        for transition in transition_days(zone, at) or [date(YEAR, 1, 1) + timedelta(days=AROUND)]
    ]
    assert len(windows) == 2 * len(YEAR_ZONES) - 1  # two DST days in every zone but Kolkata
    results = await asyncio.gather(
        *(
            simulate_days(
                api_url,
                f"sqlite:///{tmp_path / f'window{i}.db'}",
                zone,
                at,
                day - timedelta(days=AROUND),
                day + timedelta(days=AROUND),
            )
            for i, (zone, at, day) in enumerate(windows)
        )
    )
    for (zone, at, transition), (rows, delivered) in zip(windows, results, strict=True):
        days = [r.local_date for r in rows]
        first = transition - timedelta(days=AROUND)
        assert days == [first + timedelta(days=i) for i in range(2 * AROUND + 1)], f"{zone} around {transition}"
        assert all(r.status == "sent" for r in rows), zone
        assert delivered == len(rows), zone
        tz = ZoneInfo(zone)
        wall = datetime.strptime(at, "%H:%M").time()
        for row in rows:
            local = row.due_at.astimezone(tz)
            assert local.date() == row.local_date
            # The chosen time, or on the spring-forward day the first valid minute after it.
            shift = datetime.combine(row.local_date, local.time()) - datetime.combine(row.local_date, wall)
            assert local.time() == wall or timedelta(0) < shift <= timedelta(hours=1), (zone, row.local_date)


@pytest.mark.parametrize(("down_hours", "expect_sent"), [(1.5, True), (3, False)])
async def test_restart_catch_up_inside_and_outside_the_grace(
    bot: BotProcess, person: Person, clock: FakeClock, down_hours: float, expect_sent: bool
) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    await bot.stop()  # down over the due time
    await clock.advance((1 + down_hours) * 3600)
    await bot.start()
    report = await bot.prompt_pass()
    await bot.restart()
    again = await bot.prompt_pass()
    assert (report.sent, report.missed) == ((1, 0) if expect_sent else (0, 1))
    assert again.sent == again.missed == 0
    (row,) = await prompts_of(bot, person.user_id)
    assert row.status == ("sent" if expect_sent else "missed")
    assert len(await prompt_messages(person)) == (1 if expect_sent else 0)
    prefs = await prefs_of(bot, person.user_id)
    assert prefs.next_prompt_date == date(2026, 11, 3)


async def test_blocked_person_stops_receiving_until_they_return(
    bot: BotProcess, person: Person, clock: FakeClock
) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    # Telegram answers the send with 403: the person blocked the bot.
    await person.client.fail_next("sendMessage", error_code=403, chat_id=person.user_id)
    await clock.advance(3600)
    report = await bot.prompt_pass()
    assert report.blocked == 1 and report.sent == 0
    async with bot.services.db.transaction() as db:
        user = await db.get(User, person.user_id, populate_existing=True)
        assert user is not None and user.blocked_at is not None
    assert (await prefs_of(bot, person.user_id)).next_prompt_at is None
    for _ in range(3):
        await clock.advance(24 * 3600)
        assert (await bot.prompt_pass()).sent == 0
    # Coming back (writing again unblocks the chat in Telegram) restarts the prompts.
    await person.send("/start")
    await person.expect("Limber")
    prefs = await prefs_of(bot, person.user_id)
    assert prefs.next_prompt_at is not None
    await clock.advance(24 * 3600)
    assert (await bot.prompt_pass()).sent == 1


async def test_my_chat_member_kicked_stops_prompts(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    await person.client.block(person.user_id)  # queues a my_chat_member "kicked" update for the bot
    async with asyncio.timeout(10):
        while (await prefs_of(bot, person.user_id)).next_prompt_at is not None:
            await asyncio.sleep(0.02)
    await clock.advance(3600)
    assert (await bot.prompt_pass()).sent == 0


async def test_pause_and_resume(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    await person.send("/pause")
    await person.expect("paused")
    await clock.advance(3600)
    assert (await bot.prompt_pass()).sent == 0
    await person.send("/resume")
    resumed = await person.expect("on again")
    assert "Tue 03 Nov at 06:00" in resumed["message"]["text"]
    await clock.advance(24 * 3600)
    assert (await bot.prompt_pass()).sent == 1


async def test_the_scheduler_job_runs_the_pass(api_url: str, database_url: str, clock: FakeClock) -> None:
    """The APScheduler job (PTB JobQueue) really fires and delivers; timing stays on the injected clock."""
    process = BotProcess(api_url, database_url, clock, prompt_poll_seconds=1)
    await process.start()
    person = Person(api_url)
    try:
        await person.join()
        await process.schedule(person.user_id, at="06:00", tz="UTC")
        job = process.app.job_queue.get_jobs_by_name("prompts")[0]  # type: ignore[union-attr]
        assert job.job.misfire_grace_time is None and job.job.coalesce and job.job.max_instances == 1
        await clock.advance(3600)
        await person.expect("Time for today's stretch")
    finally:
        await person.close()
        await process.stop()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    reason = await postgres_available()
    if reason:
        pytest.skip(reason)
    async with fresh_postgres() as url:
        yield url


async def test_two_schedulers_on_one_postgres_never_double_send(
    api_url: str, postgres_url: str, clock: FakeClock
) -> None:
    web = BotProcess(api_url, postgres_url, clock, role="updates")
    clock_a = BotProcess(api_url, postgres_url, clock, poll=False, role="clock", fanout_workers=4)
    clock_b = BotProcess(api_url, postgres_url, clock, poll=False, role="clock", fanout_workers=4)
    await web.start()
    await clock_a.start()
    await clock_b.start()
    people = [Person(api_url) for _ in range(40)]
    try:
        for person in people:
            await person.join()
            await web.schedule(person.user_id, at="06:00", tz="UTC")
        await clock.advance(3600)
        reports = await asyncio.gather(clock_a.prompt_pass(), clock_b.prompt_pass(), clock_a.prompt_pass())
        assert sum(r.sent for r in reports) == 40
        for person in people:
            assert len(await prompt_messages(person)) == 1
        async with web.services.db.transaction() as db:
            rows = (await db.execute(select(Prompt))).scalars().all()
        assert len(rows) == 40 and {r.status for r in rows} == {"sent"}
    finally:
        for person in people:
            await person.close()
        for process in (clock_b, clock_a, web):
            await process.stop()


async def test_start_now_is_refused_while_coaching_is_paused(bot: BotProcess, person: Person, clock: FakeClock) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="06:00", tz="UTC")
    await clock.advance(3600)
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.send("my legs are both going numb")
    await person.expect("get emergency help now")
    await person.press("Start now", prompt["message"])
    await person.expect("Coaching is paused")
    async with bot.services.db.transaction() as db:
        assert await repo.open_session(db, user_id=person.user_id) is None


async def left_by(bot: BotProcess, user_id: int, *, worker: str, status: str) -> None:
    """Today's prompt, as a clock left it when it died: claimed, or with its request under way."""
    now = bot.clock.now()
    async with bot.services.db.transaction() as db:
        assert await prompt_repo.add_prompt(
            db, user_id=user_id, local_date=now.date(), kind="daily", due_at=now, status="pending"
        )
        (row,) = await prompt_repo.prompts_for(db, user_id=user_id)
        row.status, row.claimed_by, row.claimed_at = status, worker, now


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(("status", "becomes", "messages"), [("claimed", "sent", 1), ("sending", "unknown", 0)])
async def test_a_dead_clocks_claims_are_taken_over_within_a_minute(
    bot: BotProcess, person: Person, clock: FakeClock, status: str, becomes: str, messages: int
) -> None:
    await person.join()
    await bot.schedule(person.user_id, at="23:00")  # prompts on; today's own time is still far off
    await left_by(bot, person.user_id, worker="elsewhere:4242:dead00", status=status)
    # A clock that claimed a moment ago may still be at work: its claim is left alone.
    await clock.advance(10)
    await bot.prompt_pass()
    assert [p.status for p in await prompts_of(bot, person.user_id)] == [status]
    await clock.advance(50)
    await bot.prompt_pass()
    (row,) = await prompts_of(bot, person.user_id)
    assert row.status == becomes
    assert len(await prompt_messages(person)) == messages
    await clock.advance(3600)
    await bot.prompt_pass()
    assert len(await prompt_messages(person)) == messages  # an "unknown" one is never sent again


async def test_a_restarted_clock_takes_back_its_own_claims_at_once(
    api_url: str, database_url: str, clock: FakeClock
) -> None:
    me, other = Person(api_url), Person(api_url)
    process = BotProcess(api_url, database_url, clock, admin_ids=[me.user_id])
    await process.start()
    try:
        for person in (me, other):
            await person.join()
            await process.schedule(person.user_id, at="23:00")
        earlier_run = f"{socket.gethostname()}:{dead_pid()}:abc123"
        await left_by(process, me.user_id, worker=earlier_run, status="claimed")
        await left_by(process, other.user_id, worker=earlier_run, status="sending")
        await process.restart()
        await process.prompt_pass()  # no time has passed
        assert [p.status for p in await prompts_of(process, me.user_id)] == ["sent"]
        assert [p.status for p in await prompts_of(process, other.user_id)] == ["unknown"]
        assert len(await prompt_messages(me)) == 1 and not await prompt_messages(other)
        await me.send("/usage")
        usage = await me.expect("Usage")
        assert "Prompts sent in the last 24 h: 1 (1 unknown" in usage["message"]["text"]
    finally:
        await process.stop()
        await me.close()
        await other.close()


@pytest.mark.parametrize("how", ["typed", "set directly"])
async def test_a_zone_change_right_after_a_prompt_brings_no_second_one(
    bot: BotProcess, person: Person, clock: FakeClock, how: str
) -> None:
    """Kiritimati (UTC+14) to Pago Pago (UTC-11) goes a day back: 19:30 there comes an hour later."""
    await person.join()
    # 05:00 UTC is 19:00 on Mon 02 Nov in Kiritimati: the prompt is due at 19:30 there (05:30 UTC).
    await bot.schedule(person.user_id, at="19:30", tz="Pacific/Kiritimati")
    await clock.advance(31 * 60)
    assert (await bot.prompt_pass()).sent == 1
    if how == "typed":
        await person.send("/reminders")
        screen = await person.expect("Daily prompts: on")
        await person.press("Time zone", screen["message"])
        await person.expect("Which time zone")
        await person.send("Pacific/Pago_Pago")
        screen = await person.expect("Time zone: Pacific/Pago_Pago")
        # Sun 01 Nov 19:30 there is an hour away, too soon; Mon 02 Nov had its prompt (in Kiritimati).
        assert "Next prompt: Tue 03 Nov at 19:30 (Pacific/Pago_Pago)" in screen["message"]["text"]
    else:  # as an older version (or an operator) would have left it
        await bot.schedule(person.user_id, at="19:30", tz="Pacific/Pago_Pago")
    await clock.advance(2 * 3600)
    await bot.prompt_pass()
    assert len(await prompt_messages(person)) == 1
    # Mon 02 Nov had its prompt, if in another zone: the next one is Tue 03 Nov in Pago Pago.
    await clock.advance(23 * 3600)
    await bot.prompt_pass()
    assert len(await prompt_messages(person)) == 1
    await clock.advance(24 * 3600)
    assert (await bot.prompt_pass()).sent == 1
    assert [p.local_date for p in await prompts_of(bot, person.user_id)] == [date(2026, 11, 2), date(2026, 11, 3)]
