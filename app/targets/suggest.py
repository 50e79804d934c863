"""The target suggestion (目标建议) for a subject, measure and period:

* `base` = the average monthly actual of the subject over the last three **complete**
  calendar months before the period starts (and before the current month: a month still
  running or still ahead is not complete) × 0.7, scaled to the period: × 1 for a month, × 3
  a quarter, × 12 a year; a week or a day takes the average **per day** of those three months
  × its days (× 0.7). Money to the fen, counts to two places, both half-up.
* `increment` = the target set for that subject/measure/period − base (None without one).
* `expected` (money measures only) = the customers the subject holds now (owned by the user /
  by users now in the department subtree / every owned customer of the company; not lost,
  not deleted) × their average order value: Σ amount of their active/completed contracts
  signed in the 12 months up to today ÷ the number of those customers with such a contract
  (None when none has one).
* `gap` = target − expected (None when either is None).
"""

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.customers.models import Customer
from app.fieldwork.periods import local_date
from app.money.models import Contract
from app.org.models import Department, User
from app.org.settings import company_settings
from app.targets import measures, periods
from app.targets.models import MONEY_MEASURES, Target
from app.targets.service import (
    SubjectInfo,
    figure,
    parse_period,
    readable_subject,
    subject_actual,
    subject_users,
)

FACTOR = Decimal("0.7")
CENT = Decimal("0.01")
MONTHS = 3
SCALE = {"month": Decimal(1), "quarter": Decimal(3), "year": Decimal(12)}


def base_months(period: periods.Period, today: date) -> list[periods.Period]:
    """The three complete calendar months before the period (and before today's month)."""
    first = min(period.start.replace(day=1), today.replace(day=1))
    return [periods.parse(periods.add_months(first, -n).strftime("%Y-%m")) for n in (3, 2, 1)]


def base_of(
    period: periods.Period, months: list[periods.Period], actuals: list[Decimal]
) -> tuple[Decimal, Decimal]:
    """(base, scale): the exact formula of the module docstring, rounded half-up to 2 places."""
    total = sum(actuals, Decimal(0))
    if period.kind in SCALE:
        scale = SCALE[period.kind]
        base = total / MONTHS * FACTOR * scale
    else:
        days = sum(m.days for m in months)
        scale = (Decimal(period.days) * MONTHS / days).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        base = total / days * period.days * FACTOR
    return base.quantize(CENT, ROUND_HALF_UP), scale


def _held(company_id: uuid.UUID, info: SubjectInfo) -> Select[Any]:
    """The ids of the customers the subject holds now (not lost, not deleted)."""
    stmt = select(Customer.id).where(
        Customer.company_id == company_id,
        Customer.deleted_at.is_(None),
        Customer.owner_id.is_not(None),
        Customer.status != "lost",
    )
    if info.subject == "user":
        return stmt.where(Customer.owner_id == info.subject_id)
    if info.subject == "department" and info.path:
        owners = (
            select(User.id)
            .join(
                Department,
                (Department.company_id == User.company_id) & (Department.id == User.department_id),
            )
            .where(
                User.company_id == company_id,
                Department.path.startswith(info.path, autoescape=True),
            )
        )
        return stmt.where(Customer.owner_id.in_(owners))
    return stmt


async def expected_inputs(
    session: AsyncSession, company_id: uuid.UUID, info: SubjectInfo, today: date
) -> tuple[int, Decimal | None]:
    """(customers held now, their average order value over the last 12 months)."""
    held = _held(company_id, info).subquery()
    customers = int(await session.scalar(select(func.count()).select_from(held)) or 0)
    try:
        since = today.replace(year=today.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        since = today.replace(year=today.year - 1, day=28) + timedelta(days=1)
    row = (
        await session.execute(
            select(func.sum(Contract.amount), func.count(distinct(Contract.customer_id))).where(
                Contract.company_id == company_id,
                Contract.customer_id.in_(select(held.c.id)),
                Contract.deleted_at.is_(None),
                Contract.status.in_(measures.SIGNED),
                Contract.signed_on >= since,
                Contract.signed_on <= today,
            )
        )
    ).one()
    total, buyers = row
    if not buyers:
        return customers, None
    return customers, (Decimal(total) / buyers).quantize(CENT, ROUND_HALF_UP)


async def suggest(
    session: AsyncSession,
    principal: Principal,
    subject: str,
    subject_id: uuid.UUID | None,
    measure: str,
    period_key: str,
) -> dict[str, Any]:
    """The suggestion's figures and inputs (see the module docstring)."""
    info = await readable_subject(session, principal, subject, subject_id)
    settings = await company_settings(session, principal.company_id)
    period = parse_period(period_key, settings, ("query", "period"))
    zone = settings.time_zone
    today = local_date(now(), zone)
    months = base_months(period, today)
    start, end = months[0].start, months[-1].end
    paths = await measures.department_paths(session, principal.company_id)
    users = await subject_users(
        session, principal.company_id, [(subject, info.subject_id)], paths, start, end, zone
    )
    facts = measures.Actuals(
        await measures.actuals(
            session, principal.company_id, [measure], start, end, zone, user_ids=users, by_day=True
        ),
        paths,
    )
    month_actuals = [
        figure(
            measure, subject_actual(facts, subject, info.subject_id, measure, paths, m.start, m.end)
        )
        for m in months
    ]
    base, scale = base_of(period, months, month_actuals)
    target_value = await session.scalar(
        select(Target.value).where(
            Target.company_id == principal.company_id,
            Target.deleted_at.is_(None),
            Target.subject == subject,
            Target.subject_id.is_(None)
            if info.subject_id is None
            else Target.subject_id == info.subject_id,
            Target.measure == measure,
            Target.period == period.key,
        )
    )
    target = None if target_value is None else figure(measure, target_value)
    customers: int | None = None
    average: Decimal | None = None
    expected: Decimal | None = None
    if measure in MONEY_MEASURES:
        customers, average = await expected_inputs(session, principal.company_id, info, today)
        if average is not None:
            expected = (customers * average).quantize(CENT)
    return {
        "subject": subject,
        "subject_id": info.subject_id,
        "measure": measure,
        "period": period.key,
        "base": base,
        "increment": None if target is None else target - base,
        "expected": expected,
        "gap": None if target is None or expected is None else target - expected,
        "inputs": {
            "months": [
                {"period": m.key, "actual": a} for m, a in zip(months, month_actuals, strict=True)
            ],
            "factor": FACTOR,
            "scale": scale,
            "customers": customers,
            "average_order_value": average,
            "target": target,
        },
    }
