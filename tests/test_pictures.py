"""Steps as pictures end to end: a figure or animation per step, caption countdowns, cues that sound, file_ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot import views
from bot.coaching.holds import TimerView, timer_phases, timer_view
from bot.coaching.plan import PlannedStep
from content import load_library
from storage.models import FigureFile
from tests.factories import BotProcess, FakeClock, Person, labels

LIB = load_library()
HIPS = LIB.routines["hips"].techniques
SENDS = ("sendPhoto", "sendAnimation")


@pytest.fixture(scope="session")
def figures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the tests here: each figure is rendered once per run.
    return tmp_path_factory.mktemp("figures")


@pytest.fixture
async def bot(api_url: str, database_url: str, clock: FakeClock, figures_dir: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(api_url, database_url, clock, step_pictures=True, figures_dir=figures_dir)
    await process.start()
    yield process
    await process.stop()


async def begin(person: Person, area: str = "hips") -> dict:
    await person.send(f"/stretch {area}")
    await person.expect("how is your pain right now")
    await person.press("5")
    return await person.expect("Step 1 of")


async def picture_sends(person: Person, *, previews: bool = False) -> list[dict]:
    """The chat's photo and animation sends in order; the routine previews left out unless asked for."""
    calls = [c for m in SENDS for c in await person.client.calls(m) if c["params"]["chat_id"] == person.user_id]
    if not previews:
        calls = [c for c in calls if "👀" not in c["params"].get("caption", "")]
    return sorted(calls, key=lambda c: c["seq"])


def media_of(message: dict) -> str:
    return "animation" if "animation" in message else "photo" if "photo" in message else "text"


async def run_through(person: Person) -> list[dict]:
    """The hips routine, Done at every step; the step messages as they were sent."""
    steps = [await begin(person)]
    for index in range(len(HIPS)):
        if index:
            steps.append(await person.expect(f"Step {index + 1} of {len(HIPS)}"))
        await person.press("✅ Done", steps[-1]["message"])
    await person.expect("last step")
    await person.press("4")
    await person.expect("Summary")
    return [s["message"] for s in steps]


async def test_every_step_is_a_picture_with_its_buttons_and_a_second_run_uploads_nothing(
    api_url: str, bot: BotProcess
) -> None:
    ana, ben = Person(api_url, first_name="Ana"), Person(api_url, first_name="Ben")
    try:
        first = await run_through(ana)
        for message, technique_id in zip(first, HIPS, strict=True):
            technique = LIB.techniques[technique_id]
            assert media_of(message) == ("animation" if LIB.poses[technique_id].animate else "photo")
            assert technique.title in message["caption"] and "text" not in message
            assert {"✅ Done", "⏭ Skip", "😣 This hurts", "⏹ Stop", "ℹ️ Why", "⚠️ Cautions"} <= set(labels(message))
            # The why and the cautions are behind their buttons, not in the caption.
            assert technique.why not in message["caption"] and technique.cautions[0] not in message["caption"]
        uploads = await picture_sends(ana)
        assert len(uploads) == len(HIPS)
        assert all(isinstance(c["params"].get("photo", c["params"].get("animation")), dict) for c in uploads)

        second = await run_through(ben)
        reused = await picture_sends(ben)
        sent_ids = [c["params"].get("photo", c["params"].get("animation")) for c in reused]
        assert all(isinstance(i, str) for i in sent_ids), "the second person's run uploads nothing"
        given = [m["photo"][-1]["file_id"] if "photo" in m else m["animation"]["file_id"] for m in first]
        assert sent_ids == given
        assert [media_of(m) for m in second] == [media_of(m) for m in first]
        async with bot.services.db.transaction() as db:
            rows = (await db.execute(select(FigureFile))).scalars().all()
        # Every step's picture and the routine's preview: one file each, shared by everyone.
        assert len(rows) == len(set(HIPS)) + 1
        previews = await picture_sends(ben, previews=True)
        assert isinstance(previews[0]["params"]["photo"], str)
    finally:
        await ana.close()
        await ben.close()


async def test_a_file_id_telegram_rejects_is_uploaded_again(bot: BotProcess, person: Person) -> None:
    await run_through(person)
    async with bot.services.db.transaction() as db:
        await db.execute(update(FigureFile).values(file_id="AgACnot-a-file-this-bot-has"))
    before = len(await picture_sends(person))
    step = await begin(person)
    assert media_of(step["message"]) != "text"
    attempts = (await picture_sends(person))[before:]
    first_kind = "animation" if LIB.poses[HIPS[0]].animate else "photo"
    # The stored id is refused (400), then the figure is uploaded once more and its new id kept.
    assert [type(c["params"][first_kind]).__name__ for c in attempts] == ["str", "dict"]
    assert [c["ok"] for c in attempts] == [False, True]
    await person.settled()  # the new id is stored after the send, in the same update
    async with bot.services.db.transaction() as db:
        row = (await db.execute(select(FigureFile).where(col(FigureFile.name).startswith(HIPS[0])))).scalars().one()
    message = step["message"]
    assert row.file_id == (message["photo"][-1]["file_id"] if "photo" in message else message["animation"]["file_id"])


async def test_the_countdown_edits_the_caption_and_cues_sound_then_go(
    bot: BotProcess, person: Person, clock: FakeClock
) -> None:
    # edge-of-bed-hip-flexor: 45 s a side with 10 s rest between.
    target = HIPS.index("edge-of-bed-hip-flexor")
    step = await begin(person)
    for index in range(target):
        await person.press("✅ Done", step["message"])
        step = await person.expect(f"Step {index + 2} of")
    timed = step["message"]["message_id"]
    await person.press("▶ Start timer", step["message"])
    await person.expect("Left side: 45 s left", kind="edit")
    cues: list[dict] = []
    deleted: list[int] = []
    for _ in range(45 // 5):
        await clock.wait_for_sleepers()
        await clock.advance(5)
        await person.expect(kind="edit")
    cues.append(await person.expect("Switch sides"))
    for _ in range(2):
        await clock.wait_for_sleepers()
        await clock.advance(5)
    # The cue before goes first, then the new one sounds.
    deleted.append((await person.expect(kind="delete"))["message_id"])
    cues.append(await person.expect("Right side now"))
    for _ in range(45 // 5):
        await clock.wait_for_sleepers()
        await clock.advance(5)
    deleted.append((await person.expect(kind="delete"))["message_id"])
    cues.append(await person.expect("Time's up"))
    assert deleted == [cues[0]["message"]["message_id"], cues[1]["message"]["message_id"]]
    # Cues are new messages, so they notify; they carry no buttons, the countdown keeps them.
    sent = {c["params"]["text"]: c["params"] for c in await person.client.calls("sendMessage")}
    for cue in cues:
        params = next(p for text, p in sent.items() if cue["message"]["text"].split()[1] in text)
        assert not params.get("disable_notification")
        assert not cue["message"].get("reply_markup")
    captions = [c for c in await person.client.calls("editMessageCaption") if c["params"]["message_id"] == timed]
    assert len(captions) >= 20
    assert not [c for c in await person.client.calls("editMessageText") if c["params"]["message_id"] == timed]
    done = await person.with_buttons()
    assert done["message_id"] == timed and "Time's up" in done["caption"]
    await person.press("✅ Done", done)
    gone = await person.expect(kind="delete")
    await person.expect(f"Step {target + 2} of")
    assert gone["message_id"] == cues[2]["message"]["message_id"]
    assert [
        m["message_id"]
        for m in await person.messages()
        if m["message_id"] in {c["message"]["message_id"] for c in cues}
    ] == []


async def test_why_and_cautions_are_a_button_away(person: Person, bot: BotProcess) -> None:
    step = await begin(person)
    technique = LIB.techniques[HIPS[0]]
    await person.press("ℹ️ Why", step["message"])
    assert technique.why in (await person.expect("Why"))["message"]["text"]
    await person.press("⚠️ Cautions", step["message"])
    text = (await person.expect("Cautions"))["message"]["text"]
    assert all(c in text for c in technique.cautions)
    # The step is still the live message: its buttons still count.
    await person.press("✅ Done", step["message"])
    await person.expect("Step 2 of")


async def test_text_only_in_settings_gives_text_steps(person: Person, bot: BotProcess) -> None:
    await person.send("/settings")
    screen = await person.expect("Your settings")
    assert "with pictures" in screen["message"]["text"]
    await person.press("📝 Text only", screen["message"])
    assert "text only" in (await person.expect("Saved", kind="edit"))["message"]["text"]
    step = await begin(person)
    technique = LIB.techniques[HIPS[0]]
    assert media_of(step["message"]) == "text"
    # Text steps carry everything, as before pictures.
    assert technique.why in step["message"]["text"] and "ℹ️ Why" not in labels(step["message"])
    assert await picture_sends(person) == []
    await person.send("/settings")
    await person.press("🖼 With pictures", (await person.expect("Your settings"))["message"])
    await person.expect("Saved", kind="edit")
    # The text step sent before the change is still closed in place, as text.
    await person.press("✅ Done", step["message"])
    closed = await person.expect("✅ Done", kind="edit")
    assert closed["message"]["message_id"] == step["message"]["message_id"] and "text" in closed["message"]
    assert media_of((await person.expect("Step 2 of"))["message"]) != "text"


def _longest_timer() -> TimerView:
    return timer_view(timer_phases(hold_seconds=120, sides="both", rest_seconds=60), 1)


@pytest.mark.parametrize("technique_id", sorted(LIB.techniques))
def test_every_caption_fits_telegrams_limit(technique_id: str) -> None:
    technique = LIB.techniques[technique_id]
    planned = PlannedStep(
        technique_id=technique_id,
        title=technique.title,
        hold_seconds=technique.max_hold_seconds or technique.hold_seconds,
        reps=technique.reps,
        sides=technique.sides.value,
        rest_seconds=technique.rest_between_sides_seconds,
    )
    view = views.step(
        session_id=10**9,
        index=11,
        planned=planned,
        step_count=12,
        technique=technique,
        timer=_longest_timer(),
        note=views.HURT_NOTE,
        pictured=True,
    )
    assert views.plain_length(view.text) <= views.CAPTION_LIMIT


async def expect_preview(person: Person, title: str) -> dict:
    preview = (await person.expect("👀"))["message"]
    assert "photo" in preview and title in preview["caption"]
    return preview


async def test_a_preview_comes_before_the_routine_from_stretch_the_menu_and_the_prompt(
    bot: BotProcess, person: Person, clock: FakeClock
) -> None:
    hips = LIB.routines["hips"]
    await person.send("/stretch hips")
    preview = await expect_preview(person, hips.title)
    caption = preview["caption"]
    # Every step in order with its time, the equipment, and the positions in the order they come.
    for n, technique_id in enumerate(hips.techniques, 1):
        assert f"{n}. {LIB.techniques[technique_id].title} · " in caption
    assert "45 s each side" in caption and "8 reps" in caption
    assert "You need: bed, cushion, mat" in caption
    assert "Positions: lying on your back → kneeling → lying on your side" in caption
    assert preview.get("reply_markup") is None
    rating = await person.expect("how is your pain right now")
    assert "Positions:" not in rating["message"]["text"], "shown in the picture, not again in the text"
    await person.send("/cancel")
    await person.expect("cancelled")

    await person.send("/stretch")
    menu = await person.expect("Choose a routine")
    glutes = LIB.routines["glutes"]
    await person.press(next(label for label in labels(menu["message"]) if label.startswith(glutes.title)))
    await expect_preview(person, glutes.title)
    await person.expect("how is your pain right now")
    await person.send("/cancel")
    await person.expect("cancelled")

    await bot.schedule(person.user_id, at="10:00", tz="UTC")
    await clock.advance(3600)
    await bot.prompt_pass()
    prompt = await person.expect("Time for today's stretch")
    await person.press("▶ Start now", prompt["message"])
    await expect_preview(person, "")
    await person.expect("how is your pain right now")


async def test_the_preview_is_the_persons_own_plan(bot: BotProcess, person: Person) -> None:
    await person.send("/settings")
    screen = await person.expect("Your settings")
    await person.press("Short", screen["message"])
    await person.expect("Saved", kind="edit")
    await person.send("/stretch hips")
    caption = (await expect_preview(person, LIB.routines["hips"].title))["caption"]
    rating = (await person.expect("how is your pain right now"))["message"]["text"]
    shown = [line for line in caption.splitlines() if line[:2] in {f"{n}." for n in range(1, 13)}]
    # A short session: the preview lists the steps it will run, as many as the rating message counts.
    assert len(shown) == 4 and "4 steps" in rating and "4 steps" in caption


async def test_text_only_shows_the_preview_in_the_text(bot: BotProcess, person: Person) -> None:
    await person.send("/settings")
    await person.press("📝 Text only", (await person.expect("Your settings"))["message"])
    await person.expect("Saved", kind="edit")
    await person.send("/stretch hips")
    rating = (await person.expect("how is your pain right now"))["message"]["text"]
    assert "1. Lying pelvic circles · 8 reps" in rating and "Positions: lying on your back" in rating
    assert await picture_sends(person, previews=True) == []


async def test_a_picture_that_cannot_be_drawn_leaves_the_step_as_text(
    api_url: str, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the figures folder should be")
    process = BotProcess(api_url, database_url, clock, step_pictures=True, figures_dir=blocked)
    await process.start()
    person = Person(api_url)
    try:
        await person.send("/stretch hips")
        rating = await person.expect("how is your pain right now")
        assert "Positions:" in rating["message"]["text"]
        await person.press("5", rating["message"])
        step = await person.expect("Step 1 of")
        assert media_of(step["message"]) == "text" and "ℹ️ Why" not in labels(step["message"])
        assert await picture_sends(person, previews=True) == []
    finally:
        await person.close()
        await process.stop()
