"""Logging set-up that never lets a secret reach a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
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
