"""logs_and_plans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:20:23.418465
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column(
            "figures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "period IN ('daily', 'weekly', 'monthly')", name=op.f("ck_work_logs_period")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_work_logs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_work_logs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_logs")),
    )
    op.create_index(
        "ix_work_logs_company_created",
        "work_logs",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_work_logs_user_period",
        "work_logs",
        ["user_id", "period", "period_start"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "visit_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("planned_time", sa.Time(), nullable=True),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_visit_plans_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_visit_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_visit_plans_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_visit_plans_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_plans")),
    )
    op.create_index(
        "ix_visit_plans_company_created",
        "visit_plans",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_visit_plans_user_date",
        "visit_plans",
        ["user_id", "plan_date", "sequence"],
        unique=False,
    )
    op.create_table(
        "work_log_customers",
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_work_log_customers_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_work_log_customers_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["work_logs.id"],
            name=op.f("fk_work_log_customers_log_id_work_logs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("log_id", "customer_id", name=op.f("pk_work_log_customers")),
    )
    op.create_index(
        "ix_work_log_customers_customer", "work_log_customers", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_work_log_customers_customer", table_name="work_log_customers")
    op.drop_table("work_log_customers")
    op.drop_index("ix_visit_plans_user_date", table_name="visit_plans")
    op.drop_index("ix_visit_plans_company_created", table_name="visit_plans")
    op.drop_table("visit_plans")
    op.drop_index(
        "uq_work_logs_user_period",
        table_name="work_logs",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_work_logs_company_created", table_name="work_logs")
    op.drop_table("work_logs")
