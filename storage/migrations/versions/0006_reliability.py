"""reliability: a typed pain rating is keyed by the message it came from

A re-run of the same update (a stale claim taken over, Telegram re-posting to another worker, a
database retry after the commit) finds the rating its message already stored instead of adding a
second one. Ratings from buttons and prompts stay NULL here: session state and the prompt row
guard those. NULLs are distinct in a unique index on both backends.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pain_ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.create_index("ux_pain_ratings_source", ["user_id", "source"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("pain_ratings", schema=None) as batch_op:
        batch_op.drop_index("ux_pain_ratings_source")
        batch_op.drop_column("source")
