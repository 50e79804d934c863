"""The coverage report: is the policy met, and can the people in scope meet it?

For a period (a key of `app.targets.periods`, company dates) and the customers **held** by the
users in scope (owned by them now, not deleted; visibility as every report: reps themselves,
managers their subtree, admins the company):

* per tier (A, B, C, `untiered`): customers; the visits the period requires per customer — the
  rule's frequency scaled to the period, an exact fraction (C at 1 a quarter needs ⅓ visit a
  month; a week or day period of a month-based rule takes its share of the days of the calendar
  month it starts in; a week-based rule in any period: visits × days ÷ 7); the visits that count
  (`measures.counts_as_visit`: check-ins at the customer not flagged far or mocked, whoever
  made them); customers covered (visits ≥ required, compared exactly) and coverage; hours
  needed (customers × required × minutes per visit ÷ 60); and where the customers stand in
  the sales path (`lost_sales`).
* hours available: the active reps in scope (the user, for one user's report) × the company's
  working days in the period × its working hours per day (the company's settings);
  face-to-face: Σ `duration_s` (check-in → check-out) of those people's counting visits.
* under-covered customers: required > visits, most behind first (the shortfall, then the share
  done), at most `UNDER_COVERED_MAX`, with their total.

Every figure is computed exactly (fractions, NUMERIC) and rounded once, half up, when written:
visits and hours to two places, ratios to four. Set-based: two grouped statements over the
held customers (per tier; the under-covered page) and one over the people's check-ins — no
per-customer query (`bench/` runs it on a 60-person department of 1M customers).
"""

import calendar
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Numeric,
    String,
    and_,
    bindparam,
    column,
    func,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import not_found, validation_failed
from app.coverage.models import MONTHS_PER, TIERS
from app.coverage.policy import CoverageRule, load_policy
from app.customers.models import Customer
from app.fieldwork.models import Checkin, Followup
from app.fieldwork.periods import local_date, local_midnight
from app.org.models import User
from app.org.settings import CompanySettings, company_settings
from app.pipeline.models import Opportunity
from app.reports.visits import report_scope
from app.targets import errors as target_errors
from app.targets import periods
from app.targets.measures import counts_as_visit

UNDER_COVERED_MAX = 100
_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def required_visits(rule: CoverageRule, period: periods.Period) -> Fraction:
    """Visits one customer of the rule's tier needs in the period (exact)."""
    if rule.visits <= 0:
        return Fraction(0)
    if rule.per == "week":
        return Fraction(rule.visits * period.days, 7)
    months = _PERIOD_MONTHS.get(period.kind)
    span = (
        Fraction(months)
        if months is not None
        else Fraction(period.days, calendar.monthrange(period.start.year, period.start.month)[1])
    )
    per_months = MONTHS_PER[rule.per]
    assert per_months is not None  # only `week` has none
    return rule.visits * span / per_months


def working_days(settings: CompanySettings, period: periods.Period) -> int:
    """The company's working days in the period (its `working_days` weekdays)."""
    return sum(
        1
        for offset in range(period.days)
        if settings.is_working_day((period.start + timedelta(days=offset)).isoweekday())
    )


def rounded(value: Fraction | Decimal | int, places: int) -> str:
    """An exact figure written once: half up to `places`."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(value)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> str | None:
    if not denominator:
        return None
    return rounded(Fraction(numerator) / Fraction(denominator), 4)


@dataclass(frozen=True)
class Scope:
    user_ids: list[uuid.UUID]
    people: list[uuid.UUID]  # whose hours are available


async def _scope(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> Scope:
    if user_id is not None and department_id is not None:
        raise validation_failed("Ask for a department or a user, not both.", loc=("query", "user"))
    if not (principal.is_admin or principal.is_manager) and (
        department_id is not None or user_id not in (None, principal.user_id)
    ):
        # A rep's figures are their own: not a peer's, not their department's.
        raise not_found("department" if department_id is not None else "user")
    users, _ = await report_scope(session, principal, user_id, department_id)
    single = user_id is not None or len(users) == 1 and users[0].id == principal.user_id
    people = [u.id for u in users if u.is_active and (single or u.role == "rep")]
    return Scope([u.id for u in users], people)


def _rules_table(required: dict[str, Fraction]) -> Any:
    """(tier, num, den) of each tier's required visits per customer, as a derived table."""
    return (
        func.unnest(
            bindparam("rule_tiers", [t for t in TIERS], type_=ARRAY(String())),
            bindparam(
                "rule_num", [required[t].numerator for t in TIERS], type_=ARRAY(BigInteger())
            ),
            bindparam(
                "rule_den", [required[t].denominator for t in TIERS], type_=ARRAY(BigInteger())
            ),
        )
        .table_valued(
            column("tier", String()), column("num", BigInteger()), column("den", BigInteger())
        )
        .render_derived(name="rule", with_types=False)
    )


async def coverage_report(  # noqa: PLR0913
    session: AsyncSession,
    principal: Principal,
    period_key: str | None,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The report's figures (see the module)."""
    company = principal.company_id
    settings = await company_settings(session, company)
    zone = settings.time_zone
    fiscal = settings.fiscal_year_start_month
    if period_key is None:
        period = periods.containing("month", local_date(now(), zone), fiscal)
    else:
        try:
            period = periods.parse(period_key, fiscal)
        except ValueError as exc:
            raise target_errors.invalid_period(period_key, ("query", "period")) from exc
    scope = await _scope(session, principal, user_id, department_id)
    policy = await load_policy(session, company)
    required = {tier: required_visits(policy[tier], period) for tier in TIERS}
    lo, hi = local_midnight(period.start, zone), local_midnight(period.end, zone)

    held = (
        select(
            Customer.id,
            Customer.name,
            Customer.owner_id,
            func.coalesce(Customer.tier, "untiered").label("tier"),
        )
        .where(
            Customer.company_id == company,
            Customer.owner_id.in_(scope.user_ids),
            Customer.deleted_at.is_(None),
        )
        .cte("held")
    )
    in_period = (Checkin.client_recorded_at >= lo, Checkin.client_recorded_at < hi)
    visits = (
        select(Checkin.customer_id, func.count().label("n"))
        .join(held, held.c.id == Checkin.customer_id)
        .where(Checkin.company_id == company, *in_period, counts_as_visit())
        .group_by(Checkin.customer_id)
        .cte("visits")
    )
    followed = (
        select(Followup.customer_id)
        .distinct()
        .join(held, held.c.id == Followup.customer_id)
        .where(
            Followup.company_id == company,
            Followup.deleted_at.is_(None),
            Followup.created_at >= lo,
            Followup.created_at < hi,
        )
        .cte("followed")
    )
    won_now = and_(
        Opportunity.status == "won", Opportunity.closed_at >= lo, Opportunity.closed_at < hi
    )
    deals = (
        select(
            Opportunity.customer_id,
            func.bool_or(won_now).label("won"),
            func.bool_or(Opportunity.status == "open").label("open"),
        )
        .join(held, held.c.id == Opportunity.customer_id)
        .where(Opportunity.company_id == company, Opportunity.deleted_at.is_(None))
        .group_by(Opportunity.customer_id)
        .cte("deals")
    )
    rule = _rules_table(required)
    done = func.coalesce(visits.c.n, 0)
    won = func.coalesce(deals.c.won, False)
    opened = func.coalesce(deals.c.open, False)
    contacted = visits.c.n.is_not(None) | followed.c.customer_id.is_not(None)

    def count_if(condition: Any) -> Any:
        return func.count().filter(condition)

    per_tier = (
        select(
            held.c.tier,
            func.count().label("customers"),
            func.coalesce(func.sum(done), 0).label("visits"),
            count_if(done * rule.c.den >= rule.c.num).label("covered"),
            count_if(won).label("won"),
            count_if(~won & opened).label("open"),
            count_if(~won & ~opened & contacted).label("contacted"),
            count_if(~won & ~opened & ~contacted).label("not_contacted"),
        )
        .select_from(held)
        .join(rule, rule.c.tier == held.c.tier)
        .outerjoin(visits, visits.c.customer_id == held.c.id)
        .outerjoin(followed, followed.c.customer_id == held.c.id)
        .outerjoin(deals, deals.c.customer_id == held.c.id)
        .group_by(held.c.tier)
    )
    rows = {row.tier: row for row in (await session.execute(per_tier)).all()}

    tiers: list[dict[str, Any]] = []
    total_required = Fraction(0)
    total_hours = Fraction(0)
    for tier in TIERS:
        row = rows.get(tier)
        customers = row.customers if row else 0
        tier_required = customers * required[tier]
        hours = tier_required * Fraction(policy[tier].minutes_per_visit, 60)
        total_required += tier_required
        total_hours += hours
        stand = {
            "not_contacted": row.not_contacted if row else 0,
            "contacted_no_opportunity": row.contacted if row else 0,
            "opportunity_open": row.open if row else 0,
            "won": row.won if row else 0,
        }
        tiers.append(
            {
                "tier": tier,
                "rule": vars(policy[tier]),
                "customers": customers,
                "required_per_customer": rounded(required[tier], 4),
                "required_visits": rounded(tier_required, 2),
                "visits": int(row.visits) if row else 0,
                "covered": row.covered if row else 0,
                "coverage": ratio(row.covered, customers) if row else None,
                "hours_needed": rounded(hours, 2),
                "lost_sales": {
                    **stand,
                    **{f"{k}_share": ratio(v, customers) for k, v in stand.items()},
                },
            }
        )

    # The under-covered page: the shortfall (required − done) first, then the share done.
    most_behind = (
        ((rule.c.num - done * rule.c.den).cast(Numeric()) / rule.c.den.cast(Numeric())).desc(),
        ((done * rule.c.den).cast(Numeric()) / rule.c.num.cast(Numeric())).asc(),
        held.c.name,
        held.c.id,
    )
    behind = (
        select(
            held.c.id,
            held.c.name,
            held.c.tier,
            held.c.owner_id,
            done.label("done"),
            rule.c.num,
            rule.c.den,
            func.row_number().over(order_by=most_behind).label("rank"),
        )
        .select_from(held)
        .join(rule, rule.c.tier == held.c.tier)
        .outerjoin(visits, visits.c.customer_id == held.c.id)
        .where(done * rule.c.den < rule.c.num)
        .order_by(*most_behind)
        .limit(UNDER_COVERED_MAX)
        .subquery("behind")
    )
    last = (
        select(func.max(Checkin.client_recorded_at).label("at"))
        .where(Checkin.company_id == company, Checkin.customer_id == behind.c.id, counts_as_visit())
        .lateral("last")
    )
    page = (
        select(behind, last.c.at.label("last_visit_at"), User.name.label("owner_name"))
        .select_from(behind)
        .outerjoin(last, true())
        .join(User, (User.company_id == company) & (User.id == behind.c.owner_id))
        .order_by(behind.c.rank)
    )
    under = [
        {
            "customer_id": row.id,
            "name": row.name,
            "tier": row.tier,
            "owner_id": row.owner_id,
            "owner_name": row.owner_name,
            "visits": row.done,
            "required": rounded(Fraction(row.num, row.den), 4),
            "last_visit_at": row.last_visit_at,
        }
        for row in (await session.execute(page)).all()
    ]

    days = working_days(settings, period)
    available = len(scope.people) * days * Fraction(settings.working_hours_per_day)
    seconds = (
        await session.scalar(
            select(func.coalesce(func.sum(Checkin.duration_s), 0)).where(
                Checkin.company_id == company,
                Checkin.user_id.in_(scope.people),
                *in_period,
                counts_as_visit(),
            )
        )
        if scope.people
        else 0
    )
    face = Fraction(int(seconds or 0), 3600)
    customers = sum(t["customers"] for t in tiers)
    covered = sum(t["covered"] for t in tiers)
    return {
        "period": period.key,
        "starts_on": period.start,
        "ends_on": period.last_day,
        "tiers": tiers,
        "customers": customers,
        "required_visits": rounded(total_required, 2),
        "visits": sum(t["visits"] for t in tiers),
        "covered": covered,
        "coverage": ratio(covered, customers),
        "hours_needed": rounded(total_hours, 2),
        "people": len(scope.people),
        "working_days": days,
        "hours_available": rounded(available, 2),
        "load": ratio(total_hours, available),
        "face_to_face_hours": rounded(face, 2),
        "face_to_face_share": ratio(face, available),
        "under_covered": under,
        "under_covered_total": customers - covered,
    }
