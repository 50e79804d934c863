"""customers_and_pools

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:56:12.934322
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_settings",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("holding_cap", sa.Integer(), server_default="20", nullable=False),
        sa.Column("won_exempt", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "department_caps",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_pool_settings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_pool_settings")),
    )
    op.create_table(
        "pools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "regions",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "industries",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("no_followup_days", sa.Integer(), nullable=True),
        sa.Column("no_deal_days", sa.Integer(), nullable=True),
        sa.Column("warning_days", sa.Integer(), nullable=False),
        sa.Column("reclaim_cooldown_days", sa.Integer(), nullable=False),
        sa.Column("daily_claim_limit", sa.Integer(), nullable=False),
        sa.Column(
            "claim_department_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "no_deal_days IS NULL OR no_deal_days > 0", name=op.f("ck_pools_no_deal_days")
        ),
        sa.CheckConstraint(
            "no_followup_days IS NULL OR no_followup_days > 0",
            name=op.f("ck_pools_no_followup_days"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_pools_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
    )
    op.create_index(
        "uq_pools_company_default",
        "pools",
        ["company_id"],
        unique=True,
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_normalized", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("size", sa.String(length=50), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "location",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            sa.Computed(
                "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326))::geography", persisted=True
            ),
            nullable=True,
        ),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("phone_normalized", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="prospect", nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=50)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "custom_fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("pool_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_deal_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recycle_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recycle_reason", sa.String(length=16), nullable=True),
        sa.Column("pooled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pool_reason", sa.String(length=500), nullable=True),
        sa.Column("pool_entry_kind", sa.String(length=16), nullable=True),
        sa.Column("previous_owner_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("create_request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('prospect', 'active', 'won', 'lost')", name=op.f("ck_customers_status")
        ),
        sa.CheckConstraint(
            "tier IS NULL OR tier IN ('A', 'B', 'C')", name=op.f("ck_customers_tier")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customers_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_customers_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_customers_owner_id_users")
        ),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], name=op.f("fk_customers_pool_id_pools")),
        sa.ForeignKeyConstraint(
            ["previous_owner_id"], ["users.id"], name=op.f("fk_customers_previous_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(
        "ix_customers_company_created",
        "customers",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_customers_custom_fields",
        "customers",
        ["custom_fields"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_customers_location", "customers", ["location"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_customers_owner",
        "customers",
        ["company_id", "owner_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_customers_pool",
        "customers",
        ["company_id", "pool_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND owner_id IS NULL"),
    )
    op.create_index(
        "ix_customers_recycle_at",
        "customers",
        ["recycle_at"],
        unique=False,
        postgresql_where=sa.text("recycle_at IS NOT NULL AND deleted_at IS NULL"),
    )
    op.create_index(
        "uq_customers_company_name",
        "customers",
        ["company_id", "name_normalized"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_customers_company_phone",
        "customers",
        ["company_id", "phone_normalized"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND phone_normalized IS NOT NULL"),
    )
    op.create_table(
        "customer_collaborators",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("fk_customer_collaborators_added_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customer_collaborators_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_collaborators_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_customer_collaborators_user_id_users")
        ),
        sa.PrimaryKeyConstraint("customer_id", "user_id", name=op.f("pk_customer_collaborators")),
    )
    op.create_index(
        "ix_customer_collaborators_user",
        "customer_collaborators",
        ["user_id", "customer_id"],
        unique=False,
    )
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column(
            "phones",
            postgresql.ARRAY(sa.String(length=50)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customer_contacts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_contacts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contacts")),
    )
    op.create_index(
        "ix_customer_contacts_customer",
        "customer_contacts",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "customer_deals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customer_deals_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_deals_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_customer_deals_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_deals")),
    )
    op.create_index(
        "ix_customer_deals_customer",
        "customer_deals",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "ownership_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_user_id", sa.Uuid(), nullable=True),
        sa.Column("to_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("pool_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'claimed', 'released', 'recycled', 'transferred', 'assigned')",
            name=op.f("ck_ownership_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ownership_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ownership_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_ownership_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_ownership_events_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_ownership_events_pool_id_pools")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_ownership_events_to_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership_events")),
    )
    op.create_index(
        "ix_ownership_events_claims",
        "ownership_events",
        ["company_id", "to_user_id", "kind", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_ownership_events_customer",
        "ownership_events",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_ownership_events_losses",
        "ownership_events",
        ["customer_id", "from_user_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ownership_events_losses", table_name="ownership_events")
    op.drop_index("ix_ownership_events_customer", table_name="ownership_events")
    op.drop_index("ix_ownership_events_claims", table_name="ownership_events")
    op.drop_table("ownership_events")
    op.drop_index("ix_customer_deals_customer", table_name="customer_deals")
    op.drop_table("customer_deals")
    op.drop_index("ix_customer_contacts_customer", table_name="customer_contacts")
    op.drop_table("customer_contacts")
    op.drop_index("ix_customer_collaborators_user", table_name="customer_collaborators")
    op.drop_table("customer_collaborators")
    op.drop_index(
        "uq_customers_company_phone",
        table_name="customers",
        postgresql_where=sa.text("deleted_at IS NULL AND phone_normalized IS NOT NULL"),
    )
    op.drop_index(
        "uq_customers_company_name",
        table_name="customers",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_customers_recycle_at",
        table_name="customers",
        postgresql_where=sa.text("recycle_at IS NOT NULL AND deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_customers_pool",
        table_name="customers",
        postgresql_where=sa.text("deleted_at IS NULL AND owner_id IS NULL"),
    )
    op.drop_index(
        "ix_customers_owner", table_name="customers", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index("ix_customers_location", table_name="customers", postgresql_using="gist")
    op.drop_index("ix_customers_custom_fields", table_name="customers", postgresql_using="gin")
    op.drop_index("ix_customers_company_created", table_name="customers")
    op.drop_table("customers")
    op.drop_index(
        "uq_pools_company_default",
        table_name="pools",
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )
    op.drop_table("pools")
    op.drop_table("pool_settings")
