"""pipeline_and_leads: pipelines, stages, lost reasons, opportunities and their stage history;
lead pools, leads, lead events, campaigns, conversion settings and imports; follow-ups on a
lead (issue 13)

Every existing company gets the default pre-sale pipeline and lost reasons (the values of
app/pipeline/defaults.py, copied). `leads.converted_opportunity_id` and
`opportunities.lead_id` point at each other: the first foreign key is added after both tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:56:25.486875
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="pre_sale", nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allow_skip", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allow_backward", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("stale_after_days", sa.Integer(), server_default="42", nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('pre_sale', 'after_sale')", name=op.f("ck_pipelines_kind")),
        sa.CheckConstraint(
            "stale_after_days BETWEEN 1 AND 3650", name=op.f("ck_pipelines_stale_after_days")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_pipelines_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("company_id", "id", name="uq_pipelines_company_id_id"),
    )
    op.create_index(
        "uq_pipelines_company_default",
        "pipelines",
        ["company_id"],
        unique=True,
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )
    op.create_index(
        "uq_pipelines_company_name",
        "pipelines",
        ["company_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "pipeline_stages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.Column("cautions", sa.Text(), nullable=True),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column(
            "required_fields",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "required_feedback",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "required_evidence",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('open', 'won', 'lost')", name=op.f("ck_pipeline_stages_kind")),
        sa.CheckConstraint(
            "max_days IS NULL OR max_days BETWEEN 1 AND 3650",
            name=op.f("ck_pipeline_stages_max_days"),
        ),
        sa.CheckConstraint(
            "probability BETWEEN 0 AND 100", name=op.f("ck_pipeline_stages_probability")
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pipeline_id"],
            ["pipelines.company_id", "pipelines.id"],
            name="fk_pipeline_stages_pipeline_id_pipelines",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_pipeline_stages_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_stages")),
        sa.UniqueConstraint("company_id", "id", name="uq_pipeline_stages_company_id_id"),
    )
    op.create_index(
        "ix_pipeline_stages_pipeline",
        "pipeline_stages",
        ["company_id", "pipeline_id", "position"],
        unique=False,
    )

    op.create_table(
        "lost_reasons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lost_reasons_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lost_reasons")),
        sa.UniqueConstraint("company_id", "id", name="uq_lost_reasons_company_id_id"),
    )
    op.create_index(
        "uq_lost_reasons_company_label",
        "lost_reasons",
        ["company_id", "label"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "lead_pools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("mode", sa.String(length=8), server_default="both", nullable=False),
        sa.Column("assignment", sa.String(length=16), server_default="manual", nullable=False),
        sa.Column("daily_claim_limit", sa.Integer(), nullable=True),
        sa.Column("holding_cap", sa.Integer(), nullable=True),
        sa.Column("recycle_after_days", sa.Integer(), nullable=True),
        sa.Column("rr_cursor", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "assignment IN ('manual', 'round_robin', 'least_loaded')",
            name=op.f("ck_lead_pools_assignment"),
        ),
        sa.CheckConstraint("mode IN ('pull', 'push', 'both')", name=op.f("ck_lead_pools_mode")),
        sa.CheckConstraint(
            "daily_claim_limit IS NULL OR daily_claim_limit >= 0",
            name=op.f("ck_lead_pools_daily_limit"),
        ),
        sa.CheckConstraint(
            "holding_cap IS NULL OR holding_cap >= 0", name=op.f("ck_lead_pools_holding_cap")
        ),
        sa.CheckConstraint(
            "recycle_after_days IS NULL OR recycle_after_days >= 1",
            name=op.f("ck_lead_pools_recycle"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "rr_cursor"],
            ["users.company_id", "users.id"],
            name="fk_lead_pools_rr_cursor_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_pools_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_pools")),
        sa.UniqueConstraint("company_id", "id", name="uq_lead_pools_company_id_id"),
    )
    op.create_index(
        "uq_lead_pools_company_name",
        "lead_pools",
        ["company_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "lead_pool_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(department_id IS NULL) <> (user_id IS NULL)",
            name=op.f("ck_lead_pool_members_department_or_user"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "department_id"],
            ["departments.company_id", "departments.id"],
            name="fk_lead_pool_members_department_id_departments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pool_id"],
            ["lead_pools.company_id", "lead_pools.id"],
            name="fk_lead_pool_members_pool_id_lead_pools",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_lead_pool_members_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_pool_members_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_pool_members")),
        sa.UniqueConstraint("company_id", "id", name="uq_lead_pool_members_company_id_id"),
    )
    op.create_index(
        "uq_lead_pool_members_member",
        "lead_pool_members",
        ["pool_id", sa.literal_column("coalesce(department_id, user_id)"), "company_id"],
        unique=True,
    )

    op.create_table(
        "lead_campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("cost", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cost >= 0", name=op.f("ck_lead_campaigns_cost")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_campaigns_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_campaigns")),
        sa.UniqueConstraint("company_id", "id", name="uq_lead_campaigns_company_id_id"),
    )
    op.create_index(
        "uq_lead_campaigns_company_name",
        "lead_campaigns",
        ["company_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "lead_settings",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column(
            "field_mapping",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("convert_requires_status", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_settings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_lead_settings")),
    )

    op.create_table(
        "imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="leads", nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="queued", nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("done_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("imported", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "errors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_imports_status")
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "created_by"],
            ["users.company_id", "users.id"],
            name="fk_imports_created_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pool_id"],
            ["lead_pools.company_id", "lead_pools.id"],
            name="fk_imports_pool_id_lead_pools",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_imports_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("company_id", "id", name="uq_imports_company_id_id"),
    )
    op.create_index(
        "ix_imports_company_created", "imports", ["company_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "uq_imports_active_file",
        "imports",
        ["created_by", "sha256", "company_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_index(
        "ix_imports_pending",
        "imports",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )

    op.create_table(
        "leads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("company_name", sa.String(length=200), nullable=True),
        sa.Column("company_name_normalized", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("phone_normalized", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_normalized", sa.String(length=320), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="other", nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "custom_fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("converted_customer_id", sa.Uuid(), nullable=True),
        sa.Column("converted_contact_id", sa.Uuid(), nullable=True),
        sa.Column("converted_opportunity_id", sa.Uuid(), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("converted_by", sa.Uuid(), nullable=True),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('exhibition', 'campaign', 'conference', 'advertising', 'purchased_list', 'referral', 'website', 'other')",
            name=op.f("ck_leads_source"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'qualified', 'converted', 'disqualified')",
            name=op.f("ck_leads_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "converted_by"],
            ["users.company_id", "users.id"],
            name="fk_leads_converted_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "converted_contact_id"],
            ["customer_contacts.company_id", "customer_contacts.id"],
            name="fk_leads_converted_contact_id_customer_contacts",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "converted_customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_leads_converted_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "created_by"],
            ["users.company_id", "users.id"],
            name="fk_leads_created_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "import_id"],
            ["imports.company_id", "imports.id"],
            name="fk_leads_import_id_imports",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "owner_id"],
            ["users.company_id", "users.id"],
            name="fk_leads_owner_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pool_id"],
            ["lead_pools.company_id", "lead_pools.id"],
            name="fk_leads_pool_id_lead_pools",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_leads_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("company_id", "id", name="uq_leads_company_id_id"),
    )
    op.create_index(
        "ix_leads_company_created",
        "leads",
        ["company_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_leads_company_name",
        "leads",
        ["company_id", "company_name_normalized"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND company_name_normalized IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_email",
        "leads",
        ["company_id", "email_normalized"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND email_normalized IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_owner",
        "leads",
        ["company_id", "owner_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_leads_phone",
        "leads",
        ["company_id", "phone_normalized"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND phone_normalized IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_pool",
        "leads",
        ["company_id", "pool_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND owner_id IS NULL"),
    )
    op.create_index(
        "ix_leads_recycle",
        "leads",
        ["company_id", "pool_id"],
        unique=False,
        postgresql_where=sa.text(
            "owner_id IS NOT NULL AND deleted_at IS NULL AND status NOT IN ('converted', 'disqualified')"
        ),
    )

    op.create_table(
        "opportunities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column(
            "contact_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "competitors",
            postgresql.ARRAY(sa.String(length=200)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("lost_reason", sa.String(length=200), nullable=True),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'won', 'lost')", name=op.f("ck_opportunities_status")
        ),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name=op.f("ck_opportunities_amount")),
        sa.ForeignKeyConstraint(
            ["company_id", "created_by"],
            ["users.company_id", "users.id"],
            name="fk_opportunities_created_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_opportunities_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "lead_id"],
            ["leads.company_id", "leads.id"],
            name="fk_opportunities_lead_id_leads",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "owner_id"],
            ["users.company_id", "users.id"],
            name="fk_opportunities_owner_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pipeline_id"],
            ["pipelines.company_id", "pipelines.id"],
            name="fk_opportunities_pipeline_id_pipelines",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "stage_id"],
            ["pipeline_stages.company_id", "pipeline_stages.id"],
            name="fk_opportunities_stage_id_pipeline_stages",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_opportunities_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("company_id", "id", name="uq_opportunities_company_id_id"),
    )
    op.create_index(
        "ix_opportunities_close",
        "opportunities",
        ["company_id", "expected_close_date"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_opportunities_company_created",
        "opportunities",
        ["company_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_opportunities_customer", "opportunities", ["company_id", "customer_id"], unique=False
    )
    op.create_index(
        "ix_opportunities_owner",
        "opportunities",
        ["company_id", "owner_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_opportunities_stage", "opportunities", ["company_id", "stage_id"], unique=False
    )
    op.create_index(
        "ix_opportunities_stale_due",
        "opportunities",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text(
            "status = 'open' AND stale_notified_at IS NULL AND deleted_at IS NULL"
        ),
    )

    op.create_foreign_key(
        "fk_leads_converted_opportunity_id_opportunities",
        "leads",
        "opportunities",
        ["company_id", "converted_opportunity_id"],
        ["company_id", "id"],
    )

    op.create_table(
        "stage_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage_id", sa.Uuid(), nullable=True),
        sa.Column("to_stage_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage_name", sa.String(length=200), nullable=True),
        sa.Column("to_stage_name", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds_in_previous", sa.BigInteger(), nullable=True),
        sa.Column(
            "feedback",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id", "actor_id"],
            ["users.company_id", "users.id"],
            name="fk_stage_history_actor_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "from_stage_id"],
            ["pipeline_stages.company_id", "pipeline_stages.id"],
            name="fk_stage_history_from_stage_id_pipeline_stages",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "opportunity_id"],
            ["opportunities.company_id", "opportunities.id"],
            name="fk_stage_history_opportunity_id_opportunities",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "to_stage_id"],
            ["pipeline_stages.company_id", "pipeline_stages.id"],
            name="fk_stage_history_to_stage_id_pipeline_stages",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_stage_history_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_history")),
        sa.UniqueConstraint("company_id", "id", name="uq_stage_history_company_id_id"),
    )
    op.create_index(
        "ix_stage_history_opportunity",
        "stage_history",
        ["company_id", "opportunity_id", "at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_stage_history_to_stage",
        "stage_history",
        ["company_id", "to_stage_id", "at"],
        unique=False,
    )

    op.create_table(
        "lead_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'claimed', 'assigned', 'released', 'recycled', 'converted')",
            name=op.f("ck_lead_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "actor_id"],
            ["users.company_id", "users.id"],
            name="fk_lead_events_actor_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "lead_id"],
            ["leads.company_id", "leads.id"],
            name="fk_lead_events_lead_id_leads",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "pool_id"],
            ["lead_pools.company_id", "lead_pools.id"],
            name="fk_lead_events_pool_id_lead_pools",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_lead_events_user_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_events")),
        sa.UniqueConstraint("company_id", "id", name="uq_lead_events_company_id_id"),
    )
    op.create_index(
        "ix_lead_events_lead", "lead_events", ["company_id", "lead_id", "at"], unique=False
    )
    op.create_index(
        "ix_lead_events_user_kind",
        "lead_events",
        ["company_id", "user_id", "kind", "at"],
        unique=False,
    )

    op.add_column("followups", sa.Column("lead_id", sa.Uuid(), nullable=True))
    op.alter_column("followups", "customer_id", existing_type=sa.UUID(), nullable=True)
    op.create_index(
        "ix_followups_lead_created",
        "followups",
        ["company_id", "lead_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("lead_id IS NOT NULL"),
    )
    op.create_foreign_key(
        "fk_followups_lead_id_leads",
        "followups",
        "leads",
        ["company_id", "lead_id"],
        ["company_id", "id"],
    )
    op.create_check_constraint(
        "customer_or_lead", "followups", "customer_id IS NOT NULL OR lead_id IS NOT NULL"
    )
    op.create_index(
        "ix_leads_converted_customer",
        "leads",
        ["company_id", "converted_customer_id"],
        unique=False,
        postgresql_where=sa.text("converted_customer_id IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_converted_opportunity",
        "leads",
        ["company_id", "converted_opportunity_id"],
        unique=False,
        postgresql_where=sa.text("converted_opportunity_id IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_converted_contact",
        "leads",
        ["company_id", "converted_contact_id"],
        unique=False,
        postgresql_where=sa.text("converted_contact_id IS NOT NULL"),
    )
    op.create_index(
        "ix_opportunities_lead",
        "opportunities",
        ["company_id", "lead_id"],
        unique=False,
        postgresql_where=sa.text("lead_id IS NOT NULL"),
    )
    _backfill_pipelines()


def downgrade() -> None:
    op.execute("DELETE FROM followups WHERE customer_id IS NULL")
    op.drop_constraint("customer_or_lead", "followups", type_="check")
    op.drop_constraint("fk_followups_lead_id_leads", "followups", type_="foreignkey")
    op.drop_index("ix_followups_lead_created", table_name="followups")
    op.alter_column("followups", "customer_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("followups", "lead_id")
    op.drop_constraint(
        "fk_leads_converted_opportunity_id_opportunities", "leads", type_="foreignkey"
    )
    for table in (
        "lead_events",
        "stage_history",
        "opportunities",
        "leads",
        "imports",
        "lead_settings",
        "lead_campaigns",
        "lead_pool_members",
        "lead_pools",
        "lost_reasons",
        "pipeline_stages",
        "pipelines",
    ):
        op.drop_table(table)


# The default pipeline and lost reasons of app/pipeline/defaults.py, as they were at this
# revision (a migration never imports the app): every existing company gets them.
_STAGES = (
    (
        "第一次接触",
        10,
        "open",
        "First contact: introduce yourself and the company, find who decides and who uses.",
        "Do not quote yet: the need is not known.",
    ),
    (
        "找准需求",
        30,
        "open",
        "Needs found: what problem, how big, by when, with what budget.",
        "Confirm the need with the person who decides, not only the one who uses.",
    ),
    (
        "提供方案",
        60,
        "open",
        "Proposal: a solution and a price that answer the need found.",
        "Watch the competitors named; keep the discount for the negotiation.",
    ),
    (
        "商务谈判",
        80,
        "open",
        "Negotiation: terms, price, payment schedule, the contract.",
        "Every concession asks for one in return.",
    ),
    ("赢单", 100, "won", "Won: the contract is signed.", "Hand over to delivery."),
    ("输单", 0, "lost", "Lost: record why.", "Ask what would have won it."),
)
_LOST_REASONS = (
    "价格 price",
    "竞争对手 competitor",
    "预算取消 budget cancelled",
    "需求变化 need changed",
    "无法联系 unreachable",
    "其他 other",
)


def _backfill_pipelines() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text("""
        INSERT INTO pipelines (id, company_id, name, kind, is_default, allow_skip,
                               allow_backward, stale_after_days, version, created_at, updated_at)
        SELECT gen_random_uuid(), c.id, '售前流程', 'pre_sale', true, false, false, 42, 1,
               now(), now()
        FROM companies AS c
    """)
    )
    for position, (name, probability, kind, guidance, cautions) in enumerate(_STAGES, start=1):
        conn.execute(
            sa.text("""
                INSERT INTO pipeline_stages (id, company_id, pipeline_id, name, position,
                                             probability, kind, guidance, cautions,
                                             version, created_at, updated_at)
                SELECT gen_random_uuid(), p.company_id, p.id, :name, :position, :probability,
                       :kind, :guidance, :cautions, 1, now(), now()
                FROM pipelines AS p
                WHERE p.is_default
            """),
            {
                "name": name,
                "position": position,
                "probability": probability,
                "kind": kind,
                "guidance": guidance,
                "cautions": cautions,
            },
        )
    for position, label in enumerate(_LOST_REASONS, start=1):
        conn.execute(
            sa.text("""
                INSERT INTO lost_reasons (id, company_id, label, position, created_at)
                SELECT gen_random_uuid(), c.id, :label, :position, now() FROM companies AS c
            """),
            {"label": label, "position": position},
        )
