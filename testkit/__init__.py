"""Helpers shared by the tests and the benchmarks: the emulator and the bot in-process or as processes of
their own, people who talk to the bot, an injectable clock, throw-away databases and the crash scenario.

tests/ and bench/ both import from here; bench/ never imports tests/.
"""
