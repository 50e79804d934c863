"""fieldwork

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:06:37.144962
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_latitude", sa.Float(), nullable=True),
        sa.Column("taken_longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('photo', 'voice')", name=op.f("ck_files_kind")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_files_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_files_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    op.create_index("uq_files_company_sha256", "files", ["company_id", "sha256"], unique=True)
    op.create_table(
        "attachments",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_attachments_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_attachments_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", "record_type", "record_id", name=op.f("pk_attachments")),
    )
    op.create_index(
        "ix_attachments_record", "attachments", ["record_type", "record_id"], unique=False
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            sa.Computed(
                "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326))::geography", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("position_key", sa.String(length=32), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("submitted_crs", sa.String(length=8), nullable=False),
        sa.Column("client_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("mock_location", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column(
            "flags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "counts_as_followup", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_checkins_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_checkins_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
    )
    op.create_index(
        "ix_checkins_company_created", "checkins", ["company_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_checkins_customer_created", "checkins", ["customer_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_checkins_flagged",
        "checkins",
        ["company_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("jsonb_array_length(flags) > 0"),
    )
    op.create_index(
        "ix_checkins_location", "checkins", ["location"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_checkins_position", "checkins", ["company_id", "position_key"], unique=False
    )
    op.create_index(
        "ix_checkins_user_recorded", "checkins", ["user_id", "client_recorded_at"], unique=False
    )
    op.create_table(
        "followups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("next_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkin_id", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('call', 'visit', 'message', 'meeting', 'other')",
            name=op.f("ck_followups_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_followups_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_followups_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_followups_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_followups_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
    )
    op.create_index(
        "ix_followups_company_created",
        "followups",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_followups_customer_created",
        "followups",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_followups_user_created", "followups", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_followups_user_created", table_name="followups")
    op.drop_index("ix_followups_customer_created", table_name="followups")
    op.drop_index("ix_followups_company_created", table_name="followups")
    op.drop_table("followups")
    op.drop_index("ix_checkins_user_recorded", table_name="checkins")
    op.drop_index("ix_checkins_position", table_name="checkins")
    op.drop_index("ix_checkins_location", table_name="checkins", postgresql_using="gist")
    op.drop_index(
        "ix_checkins_flagged",
        table_name="checkins",
        postgresql_where=sa.text("jsonb_array_length(flags) > 0"),
    )
    op.drop_index("ix_checkins_customer_created", table_name="checkins")
    op.drop_index("ix_checkins_company_created", table_name="checkins")
    op.drop_table("checkins")
    op.drop_index("ix_attachments_record", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("uq_files_company_sha256", table_name="files")
    op.drop_table("files")
