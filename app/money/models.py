"""Products, contracts (合同) with their lines and yearly number counters, payment plans
(instalments), payments (回款) and how each payment is allocated to instalments.

Money is NUMERIC end to end. What a contract has received and what an instalment has been paid
are derived from payments (`payment_allocations`), never set by hand; `contracts.received` and
`contracts.committed` are running totals kept in the same transaction as the payment that moves
them, so that "never collect more than is owed" is one conditional UPDATE.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
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
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

MONEY = Numeric(14, 2)
CONTRACT_STATUSES = ("draft", "pending_approval", "active", "completed", "terminated")
PAYMENT_METHODS = ("bank_transfer", "cash", "cheque", "online", "other")
PAYMENT_STATUSES = ("recorded", "pending_approval", "confirmed", "reversed")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("list_price >= 0", name="list_price"),
        Index(
            "uq_products_company_code",
            "company_id",
            "code",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_products_company_line", "company_id", "product_line"),
        tenant_key("products"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(32))
    list_price: Mapped[Decimal] = mapped_column(MONEY)
    product_line: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class ContractCounter(Base):
    """The last contract number given per company and year (HT-<year>-<n>): an upsert that
    increments it is safe under concurrency; a rolled-back contract leaves a gap."""

    __tablename__ = "contract_counters"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, server_default="0")


class Contract(Base):
    """A contract with a customer. `received` = confirmed payments less reversals;
    `committed` = recorded, pending and confirmed payments less reversals (what may not exceed
    `amount`); outstanding = amount − received."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'pending_approval', 'active', 'completed', 'terminated')",
            name="status",
        ),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("received >= 0 AND received <= committed", name="received"),
        CheckConstraint("committed <= amount", name="committed"),
        Index("uq_contracts_company_number", "company_id", "number", unique=True),
        Index(
            "ix_contracts_owner",
            "company_id",
            "owner_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_contracts_company_created",
            "company_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_contracts_customer", "company_id", "customer_id"),
        Index(
            "ix_contracts_signed",
            "company_id",
            "signed_on",
            postgresql_where=text("deleted_at IS NULL AND status IN ('active', 'completed')"),
        ),
        # The expiry reminder's way in.
        Index(
            "ix_contracts_end",
            "end_date",
            postgresql_where=text("deleted_at IS NULL AND status = 'active'"),
        ),
        Index(
            "ix_contracts_opportunity",
            "company_id",
            "opportunity_id",
            postgresql_where=text("opportunity_id IS NOT NULL"),
        ),
        tenant_key("contracts"),
        tenant_fk("contracts", "customer_id", "customers"),
        tenant_fk("contracts", "opportunity_id", "opportunities"),
        tenant_fk("contracts", "owner_id", "users"),
        tenant_fk("contracts", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    opportunity_id: Mapped[uuid.UUID | None]
    owner_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), server_default="CNY")
    signed_on: Mapped[date | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    received: Mapped[Decimal] = mapped_column(MONEY, server_default="0")
    committed: Mapped[Decimal] = mapped_column(MONEY, server_default="0")
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    terminated_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None]
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class ContractLine(Base):
    """quantity × unit_price × (1 − discount), rounded half-up to the fen, is `amount`."""

    __tablename__ = "contract_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("discount >= 0 AND discount < 1", name="discount"),
        Index("ix_contract_lines_contract", "company_id", "contract_id", "position"),
        Index("ix_contract_lines_product", "company_id", "product_id"),
        tenant_key("contract_lines"),
        tenant_fk("contract_lines", "contract_id", "contracts", ondelete="CASCADE"),
        tenant_fk("contract_lines", "product_id", "products"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    contract_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID | None]
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount: Mapped[Decimal] = mapped_column(Numeric(5, 4), server_default="0")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    position: Mapped[int] = mapped_column(Integer)


class PaymentPlan(Base):
    """An instalment (回款计划) of a contract. Its status (pending, partial, paid, overdue) is
    derived from the confirmed allocations to it and the company-time date."""

    __tablename__ = "payment_plans"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_payment_plans_contract", "company_id", "contract_id", "due_date", "id"),
        # The due / overdue reminders' way in.
        Index("ix_payment_plans_due", "due_date", postgresql_where=text("deleted_at IS NULL")),
        tenant_key("payment_plans"),
        tenant_fk("payment_plans", "contract_id", "contracts", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    contract_id: Mapped[uuid.UUID]
    due_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str | None] = mapped_column(String(500))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class Payment(Base):
    """Money received on a contract. Recorded by the rep, confirmed by an admin (or the payment
    flow's approver); never edited in amount nor deleted: a reversal is a row of its own
    (`reverses_id`, negative `amount`) and marks the original `reversed`."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('recorded', 'pending_approval', 'confirmed', 'reversed')", name="status"
        ),
        CheckConstraint(
            "method IN ('bank_transfer', 'cash', 'cheque', 'online', 'other')", name="method"
        ),
        CheckConstraint(
            "(reverses_id IS NULL AND amount > 0) OR (reverses_id IS NOT NULL AND amount < 0)",
            name="amount_sign",
        ),
        Index("ix_payments_contract", "company_id", "contract_id", "created_at", "id"),
        Index("ix_payments_company_created", "company_id", "created_at", "id"),
        Index("ix_payments_received", "company_id", "received_on"),
        Index("uq_payments_reverses", "company_id", "reverses_id", unique=True),
        Index(
            "ix_payments_plan",
            "company_id",
            "plan_id",
            postgresql_where=text("plan_id IS NOT NULL"),
        ),
        tenant_key("payments"),
        tenant_fk("payments", "contract_id", "contracts"),
        tenant_fk("payments", "plan_id", "payment_plans"),
        tenant_fk("payments", "reverses_id", "payments"),
        tenant_fk("payments", "recorded_by", "users"),
        tenant_fk("payments", "confirmed_by", "users"),
        tenant_fk("payments", "reversed_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    contract_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID | None]  # the instalment asked for (else: oldest open first)
    reverses_id: Mapped[uuid.UUID | None]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    received_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    attachment_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid()), server_default=text("'{}'")
    )
    status: Mapped[str] = mapped_column(String(16), server_default="recorded")
    recorded_by: Mapped[uuid.UUID]
    confirmed_by: Mapped[uuid.UUID | None]
    confirmed_at: Mapped[datetime | None]
    reversed_by: Mapped[uuid.UUID | None]
    reversed_at: Mapped[datetime | None]
    reverse_reason: Mapped[str | None] = mapped_column(String(500))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PaymentAllocation(Base):
    """How much of a payment went to an instalment (a reversal allocates the negative)."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        Index("ix_payment_allocations_plan", "company_id", "plan_id"),
        tenant_fk("payment_allocations", "payment_id", "payments", ondelete="CASCADE"),
        tenant_fk("payment_allocations", "plan_id", "payment_plans", ondelete="CASCADE"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY)

    __mapper_args__ = {"primary_key": [payment_id, plan_id]}
