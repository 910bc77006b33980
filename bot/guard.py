"""The rule "no Telegram call while a transaction is open", enforced: the Bot API request layer used in tests.

A request awaited inside `Database.transaction()` would hold PostgreSQL's row locks, or SQLite's
process-wide lock, across a network call. Tests build the Application with this request layer
(`build_application(guard=True)`); a request made inside a transaction is refused and recorded, and
the test fixture fails the test if any was (tests/conftest.py).
"""

from __future__ import annotations

from telegram.request import HTTPXRequest, RequestData

from storage.db import in_transaction

# Bot API methods called inside a transaction since the list was last cleared (by the test fixture).
VIOLATIONS: list[str] = []


class TransactionOpen(RuntimeError):
    """A Bot API request was made while the calling task had a database transaction open."""


class GuardedRequest(HTTPXRequest):
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: object,
        **kwargs: object,
    ) -> tuple[int, bytes]:
        if in_transaction():
            name = url.rsplit("/", 1)[-1]
            VIOLATIONS.append(name)
            raise TransactionOpen(f"Bot API {name} requested inside a database transaction")
        return await super().do_request(url, method, request_data, *args, **kwargs)  # type: ignore[arg-type]
