"""attendance: attendance records, work sites and the monthly sheet (issue 17)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_sites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "radius_m > 0 AND radius_m <= 100000", name=op.f("ck_attendance_sites_radius")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_attendance_sites_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_sites")),
        sa.UniqueConstraint("company_id", "id", name="uq_attendance_sites_company_id_id"),
    )
    op.create_index(
        "ix_attendance_sites_company",
        "attendance_sites",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "attendance_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("submitted_crs", sa.String(length=8), nullable=False),
        sa.Column("client_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("mock_location", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("site_distance_m", sa.Float(), nullable=True),
        sa.Column(
            "flags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('in', 'out')", name=op.f("ck_attendance_records_kind")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_attendance_records_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_attendance_records_user_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "site_id"],
            ["attendance_sites.company_id", "attendance_sites.id"],
            name="fk_attendance_records_site_id_attendance_sites",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_records")),
        sa.UniqueConstraint("company_id", "id", name="uq_attendance_records_company_id_id"),
    )
    op.create_index(
        "ix_attendance_records_user_recorded",
        "attendance_records",
        ["company_id", "user_id", "client_recorded_at"],
        unique=False,
    )
    op.create_index(
        "ix_attendance_records_company_day",
        "attendance_records",
        ["company_id", "work_date", "user_id"],
        unique=False,
    )
    op.create_index(
        "ix_attendance_records_user_day",
        "attendance_records",
        ["company_id", "user_id", "work_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_attendance_records_user_day", table_name="attendance_records")
    op.drop_index("ix_attendance_records_company_day", table_name="attendance_records")
    op.drop_index("ix_attendance_records_user_recorded", table_name="attendance_records")
    op.drop_table("attendance_records")
    op.drop_index("ix_attendance_sites_company", table_name="attendance_sites")
    op.drop_table("attendance_sites")
