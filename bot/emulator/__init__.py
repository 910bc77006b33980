"""A local Telegram Bot API emulator for tests, the playground and benchmarks."""

from bot.emulator.client import EmulatorClient, EmulatorError
from bot.emulator.server import Emulator

__all__ = ["Emulator", "EmulatorClient", "EmulatorError"]
