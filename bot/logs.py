"""Logging set-up that never lets a secret reach a log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO


class RedactFilter(logging.Filter):
    """Replaces every known secret in a record's final message with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(s in text for s in self.secrets):
                for secret in self.secrets:
                    text = text.replace(secret, "[redacted]")
                record.exc_text, record.exc_info = text, None
        return True


class LogBudget:
    """At most `limit` lines per `window` seconds for one kind of fault, however often it happens.

    Whoever can cause a fault at will (a forged press, a flood of half-open connections) must not be
    able to fill the disk with its tracebacks: past the budget the lines are only counted, and the
    next line allowed says how many were left out.
    """

    def __init__(self, limit: int = 10, window: float = 60.0, now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._now = limit, window, now
        self._start = -window
        self._used = 0
        self.suppressed = 0

    def allow(self) -> bool:
        now = self._now()
        if now - self._start >= self.window:
            self._start, self._used = now, 0
        if self._used < self.limit:
            self._used += 1
            return True
        self.suppressed += 1
        return False

    def take_suppressed(self) -> int:
        """How many lines were left out since this was last asked (asked when a line is written)."""
        count, self.suppressed = self.suppressed, 0
        return count


def setup_logging(
    level: str, secrets: Iterable[str], stream: TextIO | None = None, *, path: Path | None = None
) -> None:
    """Log lines with secrets redacted, to `stream` (stderr by default) or appended to the file at `path`."""
    handler: logging.Handler = logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
