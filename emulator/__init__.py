"""A local Telegram Bot API emulator for tests, the playground and benchmarks."""

from emulator.client import EmulatorClient, EmulatorError
from emulator.server import Emulator

__all__ = ["Emulator", "EmulatorClient", "EmulatorError"]
