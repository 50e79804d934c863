"""Pipelines (销售流程), their stages with exit requirements, lost reasons, opportunities (商机)
and their stage history."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

PIPELINE_KINDS = ("pre_sale", "after_sale")
STAGE_KINDS = ("open", "won", "lost")
OPPORTUNITY_STATUSES = ("open", "won", "lost")
EVIDENCE_KINDS = ("checkin_at_customer", "followup", "file")
FEEDBACK_TYPES = ("text", "number", "date", "choice", "file")
MONEY = Numeric(14, 2)


class Pipeline(Base):
    """A sales process a company can copy: ordered stages and the rules for moving."""

    __tablename__ = "pipelines"
    __table_args__ = (
        CheckConstraint("kind IN ('pre_sale', 'after_sale')", name="kind"),
        CheckConstraint("stale_after_days BETWEEN 1 AND 3650", name="stale_after_days"),
        Index(
            "uq_pipelines_company_name",
            "company_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # One default pipeline per company: where an opportunity goes when none is named.
        Index(
            "uq_pipelines_company_default",
            "company_id",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
        tenant_key("pipelines"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), server_default="pre_sale")
    is_default: Mapped[bool] = mapped_column(server_default=text("false"))
    allow_skip: Mapped[bool] = mapped_column(server_default=text("false"))
    allow_backward: Mapped[bool] = mapped_column(server_default=text("false"))
    stale_after_days: Mapped[int] = mapped_column(Integer, server_default="42")
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class Stage(Base):
    """One stage of a pipeline: what to do, what to watch, and what must be true to leave it.

    `required_feedback` is a list of `{"key", "label", "type", "options"}` questions;
    `required_evidence` names kinds of `EVIDENCE_KINDS`, each "since entering the stage".
    A stage opportunities have used is retired (`retired_at`), never deleted: history keeps
    the names as they were (`stage_history.from_stage_name` / `to_stage_name`).
    """

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        CheckConstraint("kind IN ('open', 'won', 'lost')", name="kind"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability"),
        CheckConstraint("max_days IS NULL OR max_days BETWEEN 1 AND 3650", name="max_days"),
        Index("ix_pipeline_stages_pipeline", "company_id", "pipeline_id", "position"),
        tenant_key("pipeline_stages"),
        tenant_fk("pipeline_stages", "pipeline_id", "pipelines", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    pipeline_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int] = mapped_column(Integer)  # percent, 0–100
    kind: Mapped[str] = mapped_column(String(8), server_default="open")
    guidance: Mapped[str | None] = mapped_column(Text)
    cautions: Mapped[str | None] = mapped_column(Text)
    max_days: Mapped[int | None] = mapped_column(Integer)
    required_fields: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), server_default=text("'{}'")
    )
    required_feedback: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    required_evidence: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default=text("'{}'")
    )
    retired_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LostReason(Base):
    """The company's list of reasons an opportunity is lost (admin-editable)."""

    __tablename__ = "lost_reasons"
    __table_args__ = (
        Index(
            "uq_lost_reasons_company_label",
            "company_id",
            "label",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        tenant_key("lost_reasons"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None]


class Opportunity(Base):
    """A thing a rep is selling to a customer, moving through a pipeline's stages.

    Stage, status and the won/lost fields change only through `advance`. `stale` is not
    stored: an open opportunity older than its pipeline's `stale_after_days` is stale.
    """

    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        Index(
            "ix_opportunities_owner",
            "company_id",
            "owner_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_opportunities_company_created",
            "company_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_opportunities_customer", "company_id", "customer_id"),
        Index("ix_opportunities_stage", "company_id", "stage_id"),
        # Forecast: by month of expected close, within the company.
        Index(
            "ix_opportunities_close",
            "company_id",
            "expected_close_date",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # The stale reminder's way in: open ones not yet reminded.
        Index(
            "ix_opportunities_stale_due",
            "created_at",
            postgresql_where=text(
                "status = 'open' AND stale_notified_at IS NULL AND deleted_at IS NULL"
            ),
        ),
        Index(
            "ix_opportunities_lead",
            "company_id",
            "lead_id",
            postgresql_where=text("lead_id IS NOT NULL"),
        ),
        # The measures' won opportunities by closed_at (`app.targets.measures`, index-only).
        Index(
            "ix_opportunities_won",
            "company_id",
            "closed_at",
            postgresql_include=["owner_id"],
            postgresql_where=text("status = 'won' AND deleted_at IS NULL"),
        ),
        # The coverage report (`app.coverage.report`), index-only per holder: their open
        # opportunities' customers in id order, their won ones by closed_at.
        Index(
            "ix_opportunities_owner_open",
            "company_id",
            "owner_id",
            "customer_id",
            postgresql_where=text("status = 'open' AND deleted_at IS NULL"),
        ),
        Index(
            "ix_opportunities_owner_won",
            "company_id",
            "owner_id",
            "closed_at",
            postgresql_include=["customer_id"],
            postgresql_where=text("status = 'won' AND deleted_at IS NULL"),
        ),
        # The dashboard's open ones closing this month (`app.dashboard`, index-only).
        Index(
            "ix_opportunities_owner_closing",
            "company_id",
            "owner_id",
            "expected_close_date",
            postgresql_include=["amount", "stage_id"],
            postgresql_where=text("status = 'open' AND deleted_at IS NULL"),
        ),
        tenant_key("opportunities"),
        tenant_fk("opportunities", "customer_id", "customers"),
        tenant_fk("opportunities", "pipeline_id", "pipelines"),
        tenant_fk("opportunities", "stage_id", "pipeline_stages"),
        tenant_fk("opportunities", "owner_id", "users"),
        tenant_fk("opportunities", "created_by", "users"),
        tenant_fk("opportunities", "lead_id", "leads"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    stage_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    expected_close_date: Mapped[date | None]
    # Contacts of the customer; checked by the service (an array has no foreign key).
    contact_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()), server_default=text("'{}'"))
    competitors: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default=text("'{}'"))
    source: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[uuid.UUID | None]
    owner_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(8), server_default="open")
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    stage_entered_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # When the owner was told it went stale: once per opportunity.
    stale_notified_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class StageChange(Base):
    """One move of an opportunity between stages (creation is a move from nowhere), with the
    names as they were, the time spent in the stage it left and the feedback given."""

    __tablename__ = "stage_history"
    __table_args__ = (
        Index("ix_stage_history_opportunity", "company_id", "opportunity_id", "at", "id"),
        # Funnel: who entered a stage when.
        Index("ix_stage_history_to_stage", "company_id", "to_stage_id", "at"),
        # The work report's opportunities advanced, by `at`, index-only (`app.reports.work`).
        Index(
            "ix_stage_history_company_at",
            "company_id",
            "at",
            postgresql_include=["actor_id", "opportunity_id", "from_stage_id", "to_stage_id"],
        ),
        tenant_key("stage_history"),
        tenant_fk("stage_history", "opportunity_id", "opportunities", ondelete="CASCADE"),
        tenant_fk("stage_history", "from_stage_id", "pipeline_stages"),
        tenant_fk("stage_history", "to_stage_id", "pipeline_stages"),
        tenant_fk("stage_history", "actor_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    opportunity_id: Mapped[uuid.UUID]
    from_stage_id: Mapped[uuid.UUID | None]
    to_stage_id: Mapped[uuid.UUID]
    from_stage_name: Mapped[str | None] = mapped_column(String(200))
    to_stage_name: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime]
    seconds_in_previous: Mapped[int | None] = mapped_column(BigInteger)
    feedback: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    note: Mapped[str | None] = mapped_column(Text)
