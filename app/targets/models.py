"""Targets (目标) and the department a user belonged to over time.

A target is one value for one (subject, measure, period); a split writes children whose values
add up exactly to the parent (`parent_id`), and editing a child later leaves the parent as it
was — its `unallocated` (value − Σ children) shows the difference. When the period ends the
worker writes the snapshot (`snapshot_actual`, `snapshot_rate`, `snapshot_at`) once; later
edits of records never rewrite it.

`department_memberships` is written by a trigger on `users` (migration 0013): every insert and
every change of `department_id` closes the open row and opens a new one, so reports can count a
record where its maker was when it was made, whoever wrote the user row.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

SUBJECTS = ("company", "department", "user")
MEASURES = (
    "contract_amount",
    "payment_amount",
    "new_customers",
    "won_opportunities",
    "visits",
    "followups",
    "new_leads",
    "converted_leads",
)
MONEY_MEASURES = ("contract_amount", "payment_amount")
PERIOD_KINDS = ("year", "quarter", "month", "week", "day")


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint("subject IN ('company', 'department', 'user')", name="subject"),
        CheckConstraint("(subject = 'company') = (subject_id IS NULL)", name="subject_id"),
        CheckConstraint(
            "measure IN ('contract_amount', 'payment_amount', 'new_customers', "
            "'won_opportunities', 'visits', 'followups', 'new_leads', 'converted_leads')",
            name="measure",
        ),
        CheckConstraint(
            "period_kind IN ('year', 'quarter', 'month', 'week', 'day')", name="period_kind"
        ),
        CheckConstraint("value >= 0", name="value"),
        CheckConstraint("starts_on < ends_on", name="period_range"),
        # One target per (subject, measure, period) among the live ones.
        Index(
            "uq_targets_subject_measure_period",
            "company_id",
            "subject",
            text("coalesce(subject_id, '00000000-0000-0000-0000-000000000000'::uuid)"),
            "measure",
            "period",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_targets_company_period",
            "company_id",
            "starts_on",
            "ends_on",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_targets_parent",
            "company_id",
            "parent_id",
            postgresql_where=text("parent_id IS NOT NULL AND deleted_at IS NULL"),
        ),
        # The period-close job's way in: ended, not yet snapshotted.
        Index(
            "ix_targets_to_close",
            "ends_on",
            postgresql_where=text("snapshot_at IS NULL AND deleted_at IS NULL"),
        ),
        tenant_key("targets"),
        tenant_fk("targets", "parent_id", "targets"),
        tenant_fk("targets", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(16))
    # A department or a user of the company (checked by the service; no FK so that a target
    # outlives a deactivated subject and shows what was asked of it).
    subject_id: Mapped[uuid.UUID | None]
    measure: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))  # '2027', '2027-Q1', '2027-03', '2027-W09', …
    period_kind: Mapped[str] = mapped_column(String(8))
    starts_on: Mapped[date]  # company dates, the period's first day
    ends_on: Mapped[date]  # the day after its last
    value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    parent_id: Mapped[uuid.UUID | None]
    split_by: Mapped[str | None] = mapped_column(String(8))  # how this target's children came
    split_method: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    snapshot_actual: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    snapshot_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    snapshot_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class DepartmentMembership(Base):
    """User `user_id` was in `department_id` (None: outside the tree) from `valid_from` until
    `valid_to` (None: still)."""

    __tablename__ = "department_memberships"
    __table_args__ = (
        Index("ix_department_memberships_user", "company_id", "user_id", "valid_from"),
        Index("ix_department_memberships_department", "company_id", "department_id"),
        tenant_key("department_memberships"),
        tenant_fk("department_memberships", "user_id", "users", ondelete="CASCADE"),
        tenant_fk("department_memberships", "department_id", "departments"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    department_id: Mapped[uuid.UUID | None]
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
