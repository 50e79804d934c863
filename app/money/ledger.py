"""The money rules, written once: what counts as received, what an instalment has been paid
and its derived status — each as a pure Python function and as the SQL expression that
computes the same thing (reports, reminders and lists use the SQL; tests check both agree).

* A payment is RECEIVED when `confirmed_at IS NOT NULL`: confirmed originals (also after they
  were reversed) and the reversal rows of confirmed originals (a reversal of a confirmed
  payment is written confirmed, with the negative amount). So Σ amount of received payments is
  what came in net of reversals.
* A payment is COMMITTED (counts against what may still be collected) while it is neither a
  reversal row nor reversed: `recorded`, `pending_approval`, `confirmed`. Equivalently, Σ of
  all payments, originals and reversals alike (a reversed original and its reversal cancel).
* An instalment's `paid` = Σ allocation.amount of received payments; its `committed` = Σ of
  all its allocations (reversals allocate the negatives).
* Its status, never stored: paid ≥ amount → `paid`; else due_date < today (company time) →
  `overdue`; else paid > 0 → `partial`; else `pending`.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, DateTime, Uuid, bindparam, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from app.core.clock import now
from app.fieldwork.periods import local_date
from app.money.models import Contract, Payment, PaymentAllocation, PaymentPlan
from app.org.models import Company

InstalmentStatus = Literal["pending", "partial", "paid", "overdue"]
INSTALMENT_STATUSES: tuple[InstalmentStatus, ...] = ("pending", "partial", "paid", "overdue")
ZERO = Decimal("0.00")
FEN = Decimal("0.01")


# -- pure rules -----------------------------------------------------------------------------


def fen(value: Decimal) -> Decimal:
    """Rounded half-up to the fen (two places)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def is_received(confirmed_at: datetime | None) -> bool:
    """Whether a payment row (original or reversal) counts as received."""
    return confirmed_at is not None


def is_committed(status: str, reverses_id: uuid.UUID | None) -> bool:
    """Whether a payment row counts against what may still be collected."""
    return reverses_id is None and status != "reversed"


def instalment_status(
    amount: Decimal, paid: Decimal, due_date: date, today: date
) -> InstalmentStatus:
    """pending | partial | paid | overdue of an instalment (today: the company's date)."""
    if paid >= amount:
        return "paid"
    if due_date < today:
        return "overdue"
    if paid > 0:
        return "partial"
    return "pending"


def days_overdue(due_date: date, today: date) -> int:
    """How many days past its due date an instalment is (0 when not yet due)."""
    return max((today - due_date).days, 0)


def company_today(time_zone: str, at: datetime | None = None) -> date:
    """Today's date in the company's time zone (at `at`, default the app clock)."""
    return local_date(at or now(), time_zone)


@dataclass(frozen=True, slots=True)
class Instalment:
    """What allocation needs of an open instalment: its amount and what is committed to it."""

    id: uuid.UUID
    due_date: date
    amount: Decimal
    committed: Decimal


def allocate(
    amount: Decimal, instalments: list[Instalment], plan_id: uuid.UUID | None
) -> list[tuple[uuid.UUID, Decimal]]:
    """Split a payment over instalments: the named `plan_id` first, then the oldest open ones
    (by due date, id), each by what is not yet committed to it. Whatever no instalment takes
    (a contract without plans, or plans short of the amount) stays unallocated."""
    ordered = sorted(instalments, key=lambda i: (i.due_date, str(i.id)))
    if plan_id is not None:
        ordered.sort(key=lambda i: i.id != plan_id)  # stable: the named one first
    left = amount
    out: list[tuple[uuid.UUID, Decimal]] = []
    for inst in ordered:
        if left <= 0:
            break
        room = inst.amount - inst.committed
        if room <= 0:
            continue
        take = min(room, left)
        out.append((inst.id, take))
        left -= take
    return out


# -- the same rules in SQL ------------------------------------------------------------------


def received_sql() -> ColumnElement[bool]:
    """The payment row counts as received."""
    return Payment.confirmed_at.is_not(None)


def committed_sql() -> ColumnElement[bool]:
    """The payment row counts against what may still be collected."""
    return Payment.reverses_id.is_(None) & (Payment.status != "reversed")


def plan_totals(company_id: Any) -> Subquery:
    """(plan_id, paid, committed) of every instalment of a company with allocations — a grouped
    subquery to LEFT JOIN on (plan_id); `company_id` a value or a column / bindparam."""
    return (
        select(
            PaymentAllocation.plan_id.label("plan_id"),
            func.coalesce(
                func.sum(PaymentAllocation.amount).filter(received_sql()), literal(ZERO)
            ).label("paid"),
            func.sum(PaymentAllocation.amount).label("committed"),
        )
        .join(
            Payment,
            (Payment.company_id == PaymentAllocation.company_id)
            & (Payment.id == PaymentAllocation.payment_id),
        )
        .where(PaymentAllocation.company_id == company_id)
        .group_by(PaymentAllocation.plan_id)
        .subquery("plan_totals")
    )


def plan_paid_sql(plan_id: Any, company_id: Any) -> ColumnElement[Decimal]:
    """Correlated scalar: what the instalment `plan_id` has been paid (0 when nothing)."""
    return (
        select(func.coalesce(func.sum(PaymentAllocation.amount), literal(ZERO)))
        .join(
            Payment,
            (Payment.company_id == PaymentAllocation.company_id)
            & (Payment.id == PaymentAllocation.payment_id),
        )
        .where(
            PaymentAllocation.company_id == company_id,
            PaymentAllocation.plan_id == plan_id,
            received_sql(),
        )
        .correlate_except(PaymentAllocation, Payment)
        .scalar_subquery()
    )


def plan_committed_sql(plan_id: Any, company_id: Any) -> ColumnElement[Decimal]:
    """Correlated scalar: what is committed to the instalment `plan_id` (0 when nothing)."""
    return (
        select(func.coalesce(func.sum(PaymentAllocation.amount), literal(ZERO)))
        .where(
            PaymentAllocation.company_id == company_id,
            PaymentAllocation.plan_id == plan_id,
        )
        .correlate_except(PaymentAllocation)
        .scalar_subquery()
    )


def company_today_sql(time_zone: Any, at: Any) -> ColumnElement[date]:
    """Today's date in a company's zone: `time_zone` a column (e.g. `Company.time_zone`) or a
    value, `at` a timestamptz value or bindparam."""
    return func.date(func.timezone(time_zone, at))


def instalment_status_sql(amount: Any, paid: Any, due_date: Any, today: Any) -> ColumnElement[str]:
    """The SQL form of `instalment_status` (any column expressions or values)."""
    return case(
        (paid >= amount, literal("paid")),
        (due_date < today, literal("overdue")),
        (paid > 0, literal("partial")),
        else_=literal("pending"),
    )


def days_overdue_sql(due_date: Any, today: Any) -> ColumnElement[int]:
    """The SQL form of `days_overdue` (date − date is an integer in PostgreSQL)."""
    return func.greatest(today - due_date, 0)


# -- a customer's money at a glance ---------------------------------------------------------

SIGNED = ("active", "completed")
_COMPANY = bindparam("company_id", type_=Uuid())
_AT = bindparam("at", type_=DateTime(timezone=True))
_TODAY = company_today_sql(
    select(Company.time_zone).where(Company.id == _COMPANY).scalar_subquery(), _AT
)
_OVERDUE = (
    select(
        func.coalesce(
            func.sum(
                func.greatest(
                    PaymentPlan.amount - plan_paid_sql(PaymentPlan.id, PaymentPlan.company_id),
                    literal(ZERO),
                )
            ),
            literal(ZERO),
        )
    )
    .where(
        PaymentPlan.company_id == Contract.company_id,
        PaymentPlan.contract_id == Contract.id,
        PaymentPlan.deleted_at.is_(None),
        PaymentPlan.due_date < _TODAY,
    )
    .correlate(Contract)
    .scalar_subquery()
)
# Built once: one aggregate over the customer's signed contracts (ix_contracts_customer).
CUSTOMER_MONEY = select(
    func.count().label("contracts"),
    func.coalesce(func.sum(Contract.amount), literal(ZERO)).label("contracted"),
    func.coalesce(func.sum(Contract.received), literal(ZERO)).label("received"),
    func.coalesce(func.sum(_OVERDUE), literal(ZERO)).label("overdue"),
).where(
    Contract.company_id == _COMPANY,
    Contract.customer_id == bindparam("customer_id", type_=Uuid()),
    Contract.deleted_at.is_(None),
    Contract.status.in_(SIGNED),
)


async def customer_money(
    session: AsyncSession, company_id: uuid.UUID, customer_id: uuid.UUID
) -> dict[str, Any]:
    """A customer's signed (active and completed) contracts: how many, their amount, what was
    received, what is outstanding (amount − received) and what of it is overdue (instalments
    past due in company time, unpaid part). The caller has checked the customer is visible:
    its contracts are seen exactly like it."""
    row = (
        await session.execute(
            CUSTOMER_MONEY, {"company_id": company_id, "customer_id": customer_id, "at": now()}
        )
    ).one()
    return {
        "contracts": row.contracts,
        "contracted": row.contracted,
        "received": row.received,
        "outstanding": row.contracted - row.received,
        "overdue": row.overdue,
    }
