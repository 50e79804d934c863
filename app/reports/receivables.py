"""Receivables ageing (应收账款账龄): what is owed on active contracts, by how many days each
instalment's unpaid part is past its due date, per customer, rep or department. Read-only, one
set-based statement over the contracts the caller may see (`contract_visibility`), within the
report scope of the visit report (a user, a department subtree; reps: their own; managers:
their subtree; admins: the company).

As of a day (default: today in company time): a payment counts when it is received
(`ledger.received_sql`) with `received_on` ≤ as_of — reversals count on the day they were
written — and an instalment is paid by the received payments allocated to it. Received money
that no instalment took (paid before the plan was made) pays the oldest unpaid instalments
first, so a contract's buckets always add up to its outstanding amount:

    outstanding = amount − received = Σ buckets + unscheduled

`unscheduled` is what is owed but covered by no instalment. Everything is exact NUMERIC.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Date, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.customers.models import Customer
from app.money import ledger
from app.money.models import Contract, Payment, PaymentAllocation, PaymentPlan
from app.money.visibility import contract_visibility
from app.org.models import Company, Department, User
from app.reports.visits import report_scope

Group = Literal["customer", "user", "department"]
BUCKETS = ("not_due", "d1_30", "d31_60", "d61_90", "over_90")
FIGURES = (*BUCKETS, "unscheduled", "total")


def bucket(days_overdue: int) -> str:
    """The ageing bucket of an unpaid amount this many days past its due date (pure)."""
    if days_overdue <= 0:
        return "not_due"
    if days_overdue <= 30:
        return "d1_30"
    if days_overdue <= 60:
        return "d31_60"
    if days_overdue <= 90:
        return "d61_90"
    return "over_90"


@dataclass(frozen=True)
class ReceivablesQuery:
    as_of: date | None
    group: Group
    user_id: uuid.UUID | None
    department_id: uuid.UUID | None


def _zero() -> Any:
    return literal(ledger.ZERO)


def _statement(principal: Principal, as_of: date, owners: list[uuid.UUID] | None) -> Any:
    """One row per owing contract: its customer, owner, owner's department and figures."""
    company_id = principal.company_id
    day = literal(as_of, Date)
    counted = ledger.received_sql() & (Payment.received_on <= day)
    received = (
        select(func.coalesce(func.sum(Payment.amount), _zero()))
        .where(
            Payment.company_id == Contract.company_id,
            Payment.contract_id == Contract.id,
            counted,
        )
        .scalar_subquery()
    )
    scope = [Contract.status == "active", contract_visibility(principal)]
    if owners is not None:
        scope.append(Contract.owner_id.in_(owners))
    cs = (
        select(
            Contract.id,
            Contract.customer_id,
            Contract.owner_id,
            Contract.amount,
            received.label("received"),
        )
        .where(*scope)
        .cte("cs")
    )
    paid = (
        select(func.coalesce(func.sum(PaymentAllocation.amount), _zero()))
        .join(
            Payment,
            (Payment.company_id == PaymentAllocation.company_id)
            & (Payment.id == PaymentAllocation.payment_id),
        )
        .where(
            PaymentAllocation.company_id == PaymentPlan.company_id,
            PaymentAllocation.plan_id == PaymentPlan.id,
            counted,
        )
        .scalar_subquery()
    )
    ps = (
        select(
            PaymentPlan.contract_id,
            PaymentPlan.id,
            PaymentPlan.due_date,
            func.greatest(PaymentPlan.amount - paid, _zero()).label("unpaid"),
            paid.label("paid"),
        )
        .join(cs, cs.c.id == PaymentPlan.contract_id)
        .where(PaymentPlan.company_id == company_id, PaymentPlan.deleted_at.is_(None))
        .cte("ps")
    )
    pw = select(
        ps.c.contract_id,
        ps.c.due_date,
        ps.c.unpaid,
        func.sum(ps.c.unpaid)
        .over(partition_by=ps.c.contract_id, order_by=(ps.c.due_date, ps.c.id))
        .label("running"),
        func.sum(ps.c.paid).over(partition_by=ps.c.contract_id).label("plans_paid"),
    ).cte("pw")
    # Received money no instalment took pays the oldest unpaid ones first.
    credit = func.greatest(cs.c.received - pw.c.plans_paid, _zero())
    owed = func.greatest(
        func.least(pw.c.unpaid, pw.c.running - credit), _zero()
    )  # of this instalment, after that credit
    late = ledger.days_overdue_sql(pw.c.due_date, day)
    limits = {
        "not_due": late <= 0,
        "d1_30": and_(late >= 1, late <= 30),
        "d31_60": and_(late >= 31, late <= 60),
        "d61_90": and_(late >= 61, late <= 90),
        "over_90": late > 90,
    }
    pa = (
        select(
            pw.c.contract_id,
            *(
                func.sum(case((condition, owed), else_=_zero())).label(name)
                for name, condition in limits.items()
            ),
            func.sum(owed).label("scheduled"),
        )
        .join(cs, cs.c.id == pw.c.contract_id)
        .group_by(pw.c.contract_id)
        .cte("pa")
    )
    outstanding = cs.c.amount - cs.c.received
    return (
        select(
            cs.c.id,
            cs.c.customer_id,
            cs.c.owner_id,
            User.department_id,
            *(func.coalesce(pa.c[name], _zero()).label(name) for name in BUCKETS),
            func.greatest(outstanding - func.coalesce(pa.c.scheduled, _zero()), _zero()).label(
                "unscheduled"
            ),
            outstanding.label("total"),
        )
        .select_from(cs)
        .outerjoin(pa, pa.c.contract_id == cs.c.id)
        .join(User, (User.company_id == company_id) & (User.id == cs.c.owner_id))
        .where(outstanding > 0)
    )


async def receivables(
    session: AsyncSession, principal: Principal, query: ReceivablesQuery
) -> dict[str, Any]:
    """Per group (by total owed, largest first): contracts owing, the five ageing buckets,
    unscheduled and total; and the totals over all groups."""
    zone = (await session.get_one(Company, principal.company_id)).time_zone
    as_of = query.as_of or ledger.company_today(zone)
    owners: list[uuid.UUID] | None = None
    if query.user_id or query.department_id or not principal.is_admin:
        users, _ = await report_scope(session, principal, query.user_id, query.department_id)
        owners = [user.id for user in users]
    rows = (await session.execute(_statement(principal, as_of, owners))).all()
    key_of = {"customer": 1, "user": 2, "department": 3}[query.group]
    groups: dict[uuid.UUID | None, dict[str, Any]] = {}
    totals: dict[str, Any] = {name: ledger.ZERO for name in FIGURES} | {"contracts": 0}
    for row in rows:
        key = row[key_of]
        entry = groups.setdefault(
            key, {"id": key, "contracts": 0} | {name: ledger.ZERO for name in FIGURES}
        )
        entry["contracts"] += 1
        totals["contracts"] += 1
        for name in FIGURES:
            value = Decimal(getattr(row, name))
            entry[name] += value
            totals[name] += value
    names = await _names(session, principal.company_id, query.group, [k for k in groups if k])
    items = []
    for key, entry in groups.items():
        entry["name"] = names.get(key) if key else None
        items.append(entry)
    items.sort(key=lambda e: (-e["total"], e["name"] or "", str(e["id"])))
    return {"as_of": as_of, "group": query.group, "items": items, "totals": totals}


async def _names(
    session: AsyncSession, company_id: uuid.UUID, group: Group, ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    model: Any = {"customer": Customer, "user": User, "department": Department}[group]
    rows = await session.execute(
        select(model.id, model.name).where(model.company_id == company_id, model.id.in_(ids))
    )
    return {row[0]: row[1] for row in rows}
