"""recycle_check: the recycle job's index on when to look, not on recycle_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:40:00

A follow-up or check-in moves `recycle_at` on every call; while `recycle_at` was indexed, that
UPDATE of a wide row with eleven indexes was never HOT. The job now finds its work through
`recycle_check_at` (when to look next: the advance warning, or recycle_at itself), written
only where recycle_at can move earlier; a follow-up only ever moves it later, so it leaves
`recycle_check_at` alone and touches no indexed column. The fill factor leaves room on each
page for the new row version (a HOT update needs it on the same page).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("recycle_check_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("""
        UPDATE customers AS c
        SET recycle_check_at = CASE
            WHEN p.warning_days > 0 AND c.recycle_warning_for IS DISTINCT FROM c.recycle_at
                THEN c.recycle_at - make_interval(hours => p.warning_days * 24)
            ELSE c.recycle_at END
        FROM pools AS p
        WHERE p.id = c.pool_id AND c.recycle_at IS NOT NULL
    """)
    op.drop_index("ix_customers_recycle_at", table_name="customers")
    op.create_index(
        "ix_customers_recycle_check",
        "customers",
        ["recycle_check_at"],
        unique=False,
        postgresql_where=sa.text("recycle_check_at IS NOT NULL AND deleted_at IS NULL"),
    )
    op.execute("ALTER TABLE customers SET (fillfactor = 80)")


def downgrade() -> None:
    op.execute("ALTER TABLE customers RESET (fillfactor)")
    op.drop_index("ix_customers_recycle_check", table_name="customers")
    op.create_index(
        "ix_customers_recycle_at",
        "customers",
        ["recycle_at"],
        unique=False,
        postgresql_where=sa.text("recycle_at IS NOT NULL AND deleted_at IS NULL"),
    )
    op.drop_column("customers", "recycle_check_at")
