"""Flows: one module per feature. A flow loads, decides with the coaching domain (bot.coaching), writes
through keyword-only repository functions (storage/) in one transaction, and returns a result value;
the handler (bot.handlers) renders the view from it and sends it (bot.ui) once the transaction closed.

A refusal is raised as `Refused` inside the transaction, so the transaction rolls back whatever it
had already flushed; the flow catches it outside and returns it.
"""

from __future__ import annotations


class Refused(Exception):
    """The flow refused: nothing it wrote is kept. `reason` is a catalog text (a views constant).

    Not a frozen dataclass: contextlib sets `__traceback__` on an exception leaving a context manager.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
