"""Lead pools (线索池), leads (线索), their events, campaigns, the company's conversion
settings, and import jobs."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

LEAD_SOURCES = (
    "exhibition",
    "campaign",
    "conference",
    "advertising",
    "purchased_list",
    "referral",
    "website",
    "other",
)
LEAD_STATUSES = ("new", "contacted", "qualified", "converted", "disqualified")
POOL_MODES = ("pull", "push", "both")
ASSIGNMENTS = ("manual", "round_robin", "least_loaded")
LEAD_EVENT_KINDS = ("created", "claimed", "assigned", "released", "recycled", "converted")
IMPORT_STATUSES = ("queued", "running", "done", "failed")


class LeadPool(Base):
    """A pool of leads by region or industry, with who may pull and how leads are handed out.

    `rr_cursor` is the user the round robin gave the last lead to: the next assignment
    continues after them (across calls, restarts and imports).
    """

    __tablename__ = "lead_pools"
    __table_args__ = (
        CheckConstraint("mode IN ('pull', 'push', 'both')", name="mode"),
        CheckConstraint(
            "assignment IN ('manual', 'round_robin', 'least_loaded')", name="assignment"
        ),
        CheckConstraint("daily_claim_limit IS NULL OR daily_claim_limit >= 0", name="daily_limit"),
        CheckConstraint("holding_cap IS NULL OR holding_cap >= 0", name="holding_cap"),
        CheckConstraint("recycle_after_days IS NULL OR recycle_after_days >= 1", name="recycle"),
        Index(
            "uq_lead_pools_company_name",
            "company_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        tenant_key("lead_pools"),
        tenant_fk("lead_pools", "rr_cursor", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8), server_default="both")
    assignment: Mapped[str] = mapped_column(String(16), server_default="manual")
    daily_claim_limit: Mapped[int | None] = mapped_column(Integer)
    holding_cap: Mapped[int | None] = mapped_column(Integer)  # open leads per rep
    recycle_after_days: Mapped[int | None] = mapped_column(Integer)
    rr_cursor: Mapped[uuid.UUID | None]
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class LeadPoolMember(Base):
    """Who may pull from a pool (and receive its automatic assignments): a department (its
    whole subtree) or a user."""

    __tablename__ = "lead_pool_members"
    __table_args__ = (
        CheckConstraint("(department_id IS NULL) <> (user_id IS NULL)", name="department_or_user"),
        Index(
            "uq_lead_pool_members_member",
            "pool_id",
            text("coalesce(department_id, user_id)"),
            "company_id",
            unique=True,
        ),
        tenant_key("lead_pool_members"),
        tenant_fk("lead_pool_members", "pool_id", "lead_pools", ondelete="CASCADE"),
        tenant_fk("lead_pool_members", "department_id", "departments", ondelete="CASCADE"),
        tenant_fk("lead_pool_members", "user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    pool_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None]


class Lead(Base):
    """A lead: a person and company that may become a customer. `owner_id` null = in its pool.

    The normalised phone, e-mail and company name are the duplicate keys (against leads and
    customers; the customers' normaliser).
    """

    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'contacted', 'qualified', 'converted', 'disqualified')",
            name="status",
        ),
        CheckConstraint(
            "source IN ('exhibition', 'campaign', 'conference', 'advertising', "
            "'purchased_list', 'referral', 'website', 'other')",
            name="source",
        ),
        Index(
            "ix_leads_owner",
            "company_id",
            "owner_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_leads_pool",
            "company_id",
            "pool_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL AND owner_id IS NULL"),
        ),
        Index(
            "ix_leads_company_created",
            "company_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # The measures' converted leads by converted_at (`app.targets.measures`, index-only).
        Index(
            "ix_leads_company_converted",
            "company_id",
            "converted_at",
            postgresql_include=["converted_by"],
            postgresql_where=text("deleted_at IS NULL AND converted_by IS NOT NULL"),
        ),
        Index(
            "ix_leads_phone",
            "company_id",
            "phone_normalized",
            postgresql_where=text("deleted_at IS NULL AND phone_normalized IS NOT NULL"),
        ),
        Index(
            "ix_leads_email",
            "company_id",
            "email_normalized",
            postgresql_where=text("deleted_at IS NULL AND email_normalized IS NOT NULL"),
        ),
        Index(
            "ix_leads_company_name",
            "company_id",
            "company_name_normalized",
            postgresql_where=text("deleted_at IS NULL AND company_name_normalized IS NOT NULL"),
        ),
        # The recycle job's way in: owned, open leads.
        Index(
            "ix_leads_recycle",
            "company_id",
            "pool_id",
            postgresql_where=text(
                "owner_id IS NOT NULL AND deleted_at IS NULL "
                "AND status NOT IN ('converted', 'disqualified')"
            ),
        ),
        # The referencing side of foreign keys to big tables (a delete there would scan leads).
        Index(
            "ix_leads_converted_customer",
            "company_id",
            "converted_customer_id",
            postgresql_where=text("converted_customer_id IS NOT NULL"),
        ),
        Index(
            "ix_leads_converted_opportunity",
            "company_id",
            "converted_opportunity_id",
            postgresql_where=text("converted_opportunity_id IS NOT NULL"),
        ),
        Index(
            "ix_leads_converted_contact",
            "company_id",
            "converted_contact_id",
            postgresql_where=text("converted_contact_id IS NOT NULL"),
        ),
        tenant_key("leads"),
        tenant_fk("leads", "pool_id", "lead_pools"),
        tenant_fk("leads", "owner_id", "users"),
        tenant_fk("leads", "created_by", "users"),
        tenant_fk("leads", "converted_customer_id", "customers"),
        tenant_fk("leads", "converted_contact_id", "customer_contacts"),
        tenant_fk("leads", "converted_opportunity_id", "opportunities", use_alter=True),
        tenant_fk("leads", "import_id", "imports"),
        tenant_fk("leads", "converted_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    pool_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))  # the person
    title: Mapped[str | None] = mapped_column(String(200))
    company_name: Mapped[str | None] = mapped_column(String(200))
    company_name_normalized: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    phone_normalized: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(16), server_default="other")
    campaign: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16), server_default="new")
    claimed_at: Mapped[datetime | None]  # when the current owner got it (claim or assignment)
    last_followup_at: Mapped[datetime | None]
    first_followup_at: Mapped[datetime | None]
    followup_count: Mapped[int] = mapped_column(Integer, server_default="0")
    converted_customer_id: Mapped[uuid.UUID | None]
    converted_contact_id: Mapped[uuid.UUID | None]
    converted_opportunity_id: Mapped[uuid.UUID | None]
    converted_at: Mapped[datetime | None]
    converted_by: Mapped[uuid.UUID | None]
    import_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None]
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class LeadEvent(Base):
    """A lead's history: created, claimed, assigned, released, recycled, converted. Claims
    counted per user and company day give the pool's daily claim limit."""

    __tablename__ = "lead_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('created', 'claimed', 'assigned', 'released', 'recycled', 'converted')",
            name="kind",
        ),
        Index("ix_lead_events_lead", "company_id", "lead_id", "at"),
        Index("ix_lead_events_user_kind", "company_id", "user_id", "kind", "at"),
        tenant_key("lead_events"),
        tenant_fk("lead_events", "lead_id", "leads", ondelete="CASCADE"),
        tenant_fk("lead_events", "pool_id", "lead_pools"),
        tenant_fk("lead_events", "user_id", "users"),
        tenant_fk("lead_events", "actor_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID]
    pool_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID | None]  # the owner after the event (None: back in the pool)
    actor_id: Mapped[uuid.UUID | None]  # None: the system (recycle job, import)
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]


class Campaign(Base):
    """A marketing campaign leads name by `campaign`; its cost (entered by an admin) gives the
    lead report's cost per conversion."""

    __tablename__ = "lead_campaigns"
    __table_args__ = (
        Index(
            "uq_lead_campaigns_company_name",
            "company_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("cost >= 0", name="cost"),
        tenant_key("lead_campaigns"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(16))
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class LeadSettings(Base):
    """The company's conversion rules: which lead field fills which customer field (or custom
    field), and the status a lead must have to convert (None: any but disqualified)."""

    __tablename__ = "lead_settings"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    field_mapping: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    convert_requires_status: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = updated_at_column()


class ImportJob(Base):
    """A CSV import run by the worker: the file, its progress and its per-row errors
    (`[{"line", "field", "code", "detail"}]`). The file is dropped once the job is done."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_imports_company_created", "company_id", "created_at", "id"),
        # The same file posted again by the same user while it is queued or running is that
        # import, not a second one (a concurrent double post too).
        Index(
            "uq_imports_active_file",
            "created_by",
            "sha256",
            "company_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # The worker's pick-up of queued (and stranded running) imports, across companies.
        Index(
            "ix_imports_pending",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        tenant_key("imports"),
        tenant_fk("imports", "created_by", "users"),
        tenant_fk("imports", "pool_id", "lead_pools"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), server_default="leads")
    created_by: Mapped[uuid.UUID]
    pool_id: Mapped[uuid.UUID | None]
    file_name: Mapped[str | None] = mapped_column(String(255))
    encoding: Mapped[str | None] = mapped_column(String(16))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), server_default="queued")
    total_rows: Mapped[int | None] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    imported: Mapped[int] = mapped_column(Integer, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, server_default="0")
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
