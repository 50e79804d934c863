"""Approval flows (审批流) and approvals: a record (a contract, a discount, a payment) waits in
an approval while its steps are decided; who may decide each step is resolved when it is
submitted (`approval_approvers`), so a list of "mine to decide" is one indexed lookup."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

FLOW_KINDS = ("contract", "discount", "payment")
APPROVAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")
ACTIONS = ("submit", "approve", "reject", "withdraw", "skip")


class ApprovalFlow(Base):
    """`steps`: `[{"approvers": {"type": "manager", "levels": 1} | {"type": "role", "role":
    "admin"} | {"type": "users", "user_ids": [...]}, "mode": "any" | "all"}]`. A discount flow
    applies to a line discount above `threshold` (a fraction, e.g. 0.15)."""

    __tablename__ = "approval_flows"
    __table_args__ = (
        CheckConstraint("kind IN ('contract', 'discount', 'payment')", name="kind"),
        CheckConstraint(
            "threshold IS NULL OR (threshold >= 0 AND threshold < 1)", name="threshold"
        ),
        # One active flow per kind: the one a submission follows.
        Index(
            "uq_approval_flows_active_kind",
            "company_id",
            "kind",
            unique=True,
            postgresql_where=text("active AND deleted_at IS NULL"),
        ),
        tenant_key("approval_flows"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class Approval(Base):
    """One submission of one record through a flow. `steps` is the flow's steps as resolved at
    submission: `[{"mode", "approver_ids", "skipped": bool, "skip_reason"}]`; `current_step`
    is the index being decided (None once decided)."""

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
        CheckConstraint("record_type IN ('contract', 'payment')", name="record_type"),
        # A record waits in one approval at a time.
        Index(
            "uq_approvals_pending_record",
            "company_id",
            "record_type",
            "record_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_approvals_record", "company_id", "record_type", "record_id", "created_at"),
        Index("ix_approvals_submitter", "company_id", "submitter_id", "created_at", "id"),
        Index(
            "ix_approvals_customer",
            "company_id",
            "customer_id",
            postgresql_where=text("customer_id IS NOT NULL"),
        ),
        tenant_key("approvals"),
        tenant_fk("approvals", "flow_id", "approval_flows"),
        tenant_fk("approvals", "submitter_id", "users"),
        tenant_fk("approvals", "customer_id", "customers"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    flow_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    record_type: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(300))
    # What is being approved (the contract's or the payment's amount), for the approver's list.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    submitter_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    current_step: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class ApprovalApprover(Base):
    """Who may decide a step of an approval, and what they decided."""

    __tablename__ = "approval_approvers"
    __table_args__ = (
        CheckConstraint(
            "decision IS NULL OR decision IN ('approved', 'rejected')", name="decision"
        ),
        Index("ix_approval_approvers_user", "company_id", "user_id", "approval_id"),
        tenant_fk("approval_approvers", "approval_id", "approvals", ondelete="CASCADE"),
        tenant_fk("approval_approvers", "user_id", "users"),
    )

    approval_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [approval_id, step, user_id]}


class ApprovalAction(Base):
    """The approval's history: submit, each approve/reject/skip of a step, withdraw."""

    __tablename__ = "approval_actions"
    __table_args__ = (
        CheckConstraint(
            "action IN ('submit', 'approve', 'reject', 'withdraw', 'skip')", name="action"
        ),
        Index("ix_approval_actions_approval", "company_id", "approval_id", "at"),
        tenant_key("approval_actions"),
        tenant_fk("approval_actions", "approval_id", "approvals", ondelete="CASCADE"),
        tenant_fk("approval_actions", "actor_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    approval_id: Mapped[uuid.UUID]
    step: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]
