"""The emulator's network latency: every Bot API answer waits a fixed delay plus jitter, in the emulator itself.

The emulator's sleep is injected, so these tests see each delay it asked for without waiting it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import telegram

from emulator import Emulator, EmulatorClient
from emulator.__main__ import main as emulator_main

TOKEN = "123456789:AAHk-test_token_for_limber_0123456789"
USER = 4242


class Timeline:
    """What happened in order: the emulator's sleeps (answered at once) and the test's own marks."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, float]] = []

    async def sleep(self, seconds: float) -> None:
        self.entries.append(("sleep", seconds))

    def mark(self, what: str) -> None:
        self.entries.append((what, 0.0))

    @property
    def delays(self) -> list[float]:
        return [seconds for kind, seconds in self.entries if kind == "sleep"]


@pytest.fixture
def timeline() -> Timeline:
    return Timeline()


@pytest.fixture
async def emulator(tmp_path: Path, timeline: Timeline) -> AsyncIterator[Emulator]:
    emu = Emulator(files_dir=tmp_path / "files", latency_ms=80, jitter_ms=10, latency_seed=7, sleep=timeline.sleep)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[telegram.Bot]:
    url = emulator.url
    async with telegram.Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as tg_bot:
        yield tg_bot


@pytest.fixture
async def user(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    assert emulator.url is not None
    async with EmulatorClient(emulator.url, TOKEN) as client:
        yield client


async def test_every_bot_api_answer_waits_the_delay_plus_jitter(
    bot: telegram.Bot, user: EmulatorClient, timeline: Timeline
) -> None:
    before = len(timeline.delays)  # the Bot's own getMe on entering
    await user.send(USER, "hi there")
    updates = await bot.get_updates(timeout=0)
    await bot.send_message(USER, "hello")
    await bot.send_message(USER, "and again")
    delays = timeline.delays[before:]
    assert len(delays) == 3
    assert all(0.080 <= delay <= 0.090 for delay in delays), delays
    assert len(set(delays)) == 3, "the jitter varies from answer to answer"
    assert [u.message.text for u in updates if u.message] == ["hi there"]
    stats = await user.stats()
    assert stats["latency_ms"] == 80 and stats["jitter_ms"] == 10
    assert stats["delayed_answers"] == len(timeline.delays)
    assert stats["delay_seconds"] == pytest.approx(sum(timeline.delays), abs=1e-5)


async def test_user_api_is_not_delayed(emulator: Emulator, user: EmulatorClient, timeline: Timeline) -> None:
    await user.send(USER, "/start")
    await user.events()
    await user.messages(USER)
    assert timeline.delays == []


async def test_a_long_poll_waits_for_the_update_then_the_round_trip(
    bot: telegram.Bot, user: EmulatorClient, timeline: Timeline
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    # The poll is parked in the emulator until an update comes; the fake sleep answers at once, so
    # nothing but the update can finish it.
    for _ in range(50):
        await asyncio.sleep(0.01)
        if not poll.done() and len(timeline.delays) == 1:  # getMe only
            break
    assert not poll.done()
    timeline.mark("user sends")
    await user.send(USER, "is anyone there?")
    updates = await asyncio.wait_for(poll, 10)
    assert [u.message.text for u in updates if u.message] == ["is anyone there?"]
    kinds = [kind for kind, _ in timeline.entries]
    assert kinds == ["sleep", "user sends", "sleep"], "the poll's answer is delayed after the update arrived"


async def test_latency_changes_at_run_time_and_zero_turns_it_off(
    bot: telegram.Bot, user: EmulatorClient, timeline: Timeline
) -> None:
    await user.send(USER, "/start")
    assert await user.set_latency(200, 0) == {
        "latency_ms": 200.0,
        "jitter_ms": 0.0,
        "delayed_answers": 0,
        "delay_seconds": 0.0,
    }
    await bot.send_message(USER, "slow")
    assert timeline.delays[-1] == pytest.approx(0.2)
    count = len(timeline.delays)
    await user.set_latency(0)
    await bot.send_message(USER, "fast")
    assert len(timeline.delays) == count


async def test_real_sleep_is_the_default(tmp_path: Path) -> None:
    # Without an injected sleep the delay is really waited: a 30 ms latency on one call.
    emu = Emulator(files_dir=tmp_path / "files", latency_ms=30)
    await emu.start()
    try:
        async with telegram.Bot(TOKEN, base_url=f"{emu.url}/bot") as tg_bot:
            await tg_bot.get_me()
        assert emu.bot(TOKEN).latency.applied >= 1
        assert emu.bot(TOKEN).latency.seconds == pytest.approx(0.03 * emu.bot(TOKEN).latency.applied)
    finally:
        await emu.stop()


def test_command_line_refuses_a_negative_latency(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        emulator_main(["--latency-ms", "-5"])
    assert "must not be negative" in capsys.readouterr().err
