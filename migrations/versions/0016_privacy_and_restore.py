"""privacy_and_restore: phone masking, reveal audit, executive users, restore and purge (issue 17)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_executive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "phone_reveals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("numbers_masked", postgresql.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_phone_reveals_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "contact_id"],
            ["customer_contacts.company_id", "customer_contacts.id"],
            name="fk_phone_reveals_contact_id_customer_contacts",
            ondelete="SET NULL (contact_id)",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_phone_reveals_customer_id_customers",
            ondelete="SET NULL (customer_id)",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_phone_reveals_user_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_reveals")),
        sa.UniqueConstraint("company_id", "id", name="uq_phone_reveals_company_id_id"),
    )
    op.create_index(
        "ix_phone_reveals_customer",
        "phone_reveals",
        ["company_id", "customer_id", "revealed_at"],
        unique=False,
    )
    op.create_index(
        "ix_phone_reveals_user",
        "phone_reveals",
        ["company_id", "user_id", "revealed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_phone_reveals_user", table_name="phone_reveals")
    op.drop_index("ix_phone_reveals_customer", table_name="phone_reveals")
    op.drop_table("phone_reveals")
    op.drop_column("users", "is_executive")
