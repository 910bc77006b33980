"""Limber: a Telegram bot that coaches people with low back and hip pain through stretches."""

import os

# PTB 22 warns unless time spans (RetryAfter.retry_after) come as timedelta, its future default.
os.environ.setdefault("PTB_TIMEDELTA", "true")
