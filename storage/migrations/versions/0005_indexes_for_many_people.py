"""indexes for many people: pain ratings by session, running countdowns

Without them a session's summary (its before/after ratings), deleting a session (ON DELETE CASCADE
finds its ratings) and looking for running countdowns each read a whole table: ~150-200 ms with
100,000 people and 30 days of history, on the event loop's thread with SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pain_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pain_ratings_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("routine_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routine_sessions_running_timers",
            ["timer_started_at"],
            unique=False,
            sqlite_where=sa.text("timer_started_at IS NOT NULL"),
            postgresql_where=sa.text("timer_started_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("routine_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_routine_sessions_running_timers")
    with op.batch_alter_table("pain_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pain_ratings_session_id"))
