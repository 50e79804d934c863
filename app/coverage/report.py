"""The coverage report: is the policy met, and can the people in scope meet it?

For a period (a key of `app.targets.periods`, company dates) and the customers **held** by the
users in scope (owned by them now, not deleted; visibility as every report: reps themselves,
managers their subtree, admins the company):

* per tier (A, B, C, `untiered`): customers; the visits the period requires per customer — the
  rule's frequency scaled to the period, an exact fraction (C at 1 a quarter needs ⅓ visit a
  month; a week or day period of a month-based rule takes its share of the days of the calendar
  month it starts in; a week-based rule in any period: visits × days ÷ 7); the visits that count
  (`measures.counts_as_visit`: check-ins not flagged far or mocked) made at the customer **by
  its holder** in the period; customers covered (visits ≥ required, compared exactly; a
  customer without a visit is covered only when its tier requires none) and coverage; hours
  needed (customers × required × minutes per visit ÷ 60); and where the customers stand in the
  holder's sales path (`lost_sales`: the holder's opportunities and follow-ups, the holder's
  visits).
* hours available: the active reps in scope (the user, for one user's report) × the company's
  working days in the period × its working hours per day (the company's settings);
  face-to-face: Σ `duration_s` (check-in → check-out) of those people's counting visits.
* under-covered customers: required > visits, most behind first — the shortfall (required −
  visits), then the share done, then the customer's id — at most `UNDER_COVERED_MAX`, with
  their total. Customers without a visit have their tier's whole requirement as shortfall, so
  the page usually starts with the unvisited customers of the most demanding tier, in id order.

Every figure is computed exactly (fractions, NUMERIC) and rounded once, half up, when written:
visits and hours to two places, ratios to four.

The work is the holder's (`bench/` runs it on a 92-person department of 125k held customers).
One statement walks the people in scope: per person, their held customers per tier merged in id
order with their open opportunities (`ix_customers_owner_held`, `ix_opportunities_owner_open`,
index-only), and the few customers they touched in the period — visited (`ix_checkins_user_visits`),
followed up, won (`ix_opportunities_owner_won`) — each probed for its tier and open opportunity;
it returns the figures per tier and the visited customers furthest behind. The page then reads
the first unvisited customers of each tier in id order (`ix_customers_owner_tier`, the holder's
visits anti-joined) until it is full, and the names and last visits of the rows shown.
"""

import calendar
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    String,
    Uuid,
    any_,
    bindparam,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import validation_failed
from app.coverage.models import MONTHS_PER, TIERS
from app.coverage.policy import CoverageRule, load_policy
from app.customers.models import Customer
from app.fieldwork.checkins.rules import FAR_FROM_CUSTOMER, MOCK_LOCATION
from app.fieldwork.models import Checkin
from app.fieldwork.periods import local_date, local_midnight
from app.org.models import User
from app.org.settings import CompanySettings, company_settings
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
    # A rep's figures are their own: `report_scope` refuses a peer or a department (404).
    users, _ = await report_scope(session, principal, user_id, department_id)
    single = user_id is not None or len(users) == 1 and users[0].id == principal.user_id
    people = [u.id for u in users if u.is_active and (single or u.role == "rep")]
    return Scope([u.id for u in users], people)


# `counts_as_visit` with inline constants, as `ix_checkins_user_visits` is partial on it (a cached
# statement's generic plan must prove the index's predicate too).
def _counting(alias: str) -> str:
    def flag(code: str) -> str:
        return f"'{json.dumps([{'code': code}])}'::jsonb"

    return (
        f"{alias}.mock_location IS false"
        f" AND NOT ({alias}.flags @> {flag(FAR_FROM_CUSTOMER)})"
        f" AND NOT ({alias}.flags @> {flag(MOCK_LOCATION)})"
    )


_PARAMS = (
    bindparam("company", type_=Uuid()),
    bindparam("scope", type_=ARRAY(Uuid())),
    bindparam("lo", type_=DateTime(timezone=True)),
    bindparam("hi", type_=DateTime(timezone=True)),
)

# Per person in scope (`u`): (1) the customers they hold per tier, merged in id order with their
# open opportunities (index-only, no hash of the whole set); (2) the customers they touched in
# the period — visited, followed up or won, hundreds, not thousands — each joined to their tier
# (an index probe, held by `u` or not at all) and whether it has an open opportunity of theirs.
# Figures per tier: the touched ones' counts, the untouched ones' from (1) minus the touched; and
# the visited customers furthest behind. Statuses and flags are inline: the partial indexes are on
# them (a cached statement's generic plan must prove them too).
_HELD_SQL = """
WITH held AS (
  SELECT h.* FROM unnest(CAST(:scope AS uuid[])) AS u(id) CROSS JOIN LATERAL (
    SELECT coalesce(c.tier, 'untiered') AS tier, count(*) AS customers,
           count(d.customer_id) AS open
    FROM customers c
    LEFT JOIN (
      SELECT DISTINCT o.customer_id FROM opportunities o
      WHERE o.company_id = :company AND o.owner_id = u.id
        AND o.status = 'open' AND o.deleted_at IS NULL
    ) d ON d.customer_id = c.id
    WHERE c.company_id = :company AND c.owner_id = u.id AND c.deleted_at IS NULL
    GROUP BY 1
  ) h
),
touched AS MATERIALIZED (
  SELECT h.* FROM unnest(CAST(:scope AS uuid[])) AS u(id) CROSS JOIN LATERAL (
    SELECT t.customer_id AS id, u.id AS owner_id, coalesce(c.tier, 'untiered') AS tier,
           t.visits, t.followed, t.won,
           EXISTS (
             SELECT FROM opportunities o
             WHERE o.company_id = :company AND o.owner_id = u.id
               AND o.customer_id = t.customer_id AND o.status = 'open' AND o.deleted_at IS NULL
           ) AS open
    FROM (
      SELECT e.customer_id, sum(e.visits) AS visits, bool_or(e.followed) AS followed,
             bool_or(e.won) AS won
      FROM (
        SELECT k.customer_id, 1 AS visits, false AS followed, false AS won FROM checkins k
        WHERE k.company_id = :company AND k.user_id = u.id
          AND k.client_recorded_at >= :lo AND k.client_recorded_at < :hi AND :counting
        UNION ALL
        SELECT x.customer_id, 0, true, false FROM followups x
        WHERE x.company_id = :company AND x.user_id = u.id AND x.deleted_at IS NULL
          AND x.created_at >= :lo AND x.created_at < :hi AND x.customer_id IS NOT NULL
        UNION ALL
        SELECT o.customer_id, 0, false, true FROM opportunities o
        WHERE o.company_id = :company AND o.owner_id = u.id
          AND o.status = 'won' AND o.deleted_at IS NULL
          AND o.closed_at >= :lo AND o.closed_at < :hi
      ) e
      GROUP BY e.customer_id
    ) t
    JOIN customers c ON c.company_id = :company AND c.owner_id = u.id
      AND c.id = t.customer_id AND c.deleted_at IS NULL
  ) h
),
rule AS (
  SELECT * FROM unnest(
    CAST(:tiers AS text[]), CAST(:nums AS bigint[]), CAST(:dens AS bigint[])
  ) AS r(tier, num, den)
),
per_tier AS (
  SELECT t.tier, sum(t.visits) AS visits,
         count(*) FILTER (WHERE t.visits * r.den >= r.num) AS covered,
         count(*) FILTER (WHERE t.won) AS won,
         count(*) FILTER (WHERE t.open) AS open,
         count(*) FILTER (WHERE t.open AND NOT t.won) AS open_not_won,
         count(*) FILTER (WHERE NOT t.won AND NOT t.open AND (t.visits > 0 OR t.followed))
           AS contacted,
         count(*) AS touched
  FROM touched t JOIN rule r ON r.tier = t.tier GROUP BY t.tier
)
SELECT 'tier' AS kind, r.tier, NULL::uuid AS id, NULL::uuid AS owner_id,
       coalesce(a.customers, 0)::bigint AS customers,
       coalesce(p.visits, 0)::bigint AS visits,
       (CASE WHEN r.num = 0 THEN coalesce(a.customers, 0)
             ELSE coalesce(p.covered, 0) END)::bigint AS covered,
       coalesce(p.won, 0)::bigint AS won,
       (coalesce(a.open, 0) - coalesce(p.open, 0) + coalesce(p.open_not_won, 0))::bigint AS open,
       coalesce(p.contacted, 0)::bigint AS contacted
FROM rule r
LEFT JOIN (
  SELECT tier, sum(customers) AS customers, sum(open) AS open FROM held GROUP BY tier
) a ON a.tier = r.tier
LEFT JOIN per_tier p ON p.tier = r.tier
UNION ALL
(SELECT 'behind', t.tier, t.id, t.owner_id, NULL, t.visits, NULL, NULL, NULL, NULL
 FROM touched t JOIN rule r ON r.tier = t.tier
 WHERE t.visits > 0 AND t.visits * r.den < r.num
 ORDER BY CAST(r.num - t.visits * r.den AS numeric) / r.den DESC,
          CAST(t.visits * r.den AS numeric) / r.num, t.id
 LIMIT :max)
"""
_HELD = text(_HELD_SQL.replace(":counting", _counting("k"))).bindparams(
    *_PARAMS,
    bindparam("tiers", type_=ARRAY(String())),
    bindparam("nums", type_=ARRAY(BigInteger())),
    bindparam("dens", type_=ARRAY(BigInteger())),
    bindparam("max", type_=Integer()),
)


@dataclass
class _Tier:
    customers: int = 0
    visits: int = 0
    covered: int = 0
    won: int = 0
    open: int = 0
    contacted: int = 0
    not_contacted: int = 0


@dataclass(frozen=True)
class _Behind:
    """A candidate of the under-covered page."""

    id: uuid.UUID
    tier: str
    owner_id: uuid.UUID
    done: int
    required: Fraction

    @property
    def shortfall(self) -> Fraction:
        return self.required - self.done

    def key(self) -> tuple[Fraction, Fraction, uuid.UUID]:
        # Most behind first: the shortfall, then the share done, then the id (its index order).
        return (-self.shortfall, self.done / self.required, self.id)


async def _unvisited(  # noqa: PLR0913
    session: AsyncSession,
    company: uuid.UUID,
    owners: list[uuid.UUID],
    lo: datetime,
    hi: datetime,
    tier: str,
) -> list[_Behind]:
    """The first held customers of the tier that their holder did not visit, in id order."""
    visit = Checkin.__table__.alias("visit")
    scope = any_(bindparam("owners", owners, type_=ARRAY(Uuid())))
    rows = await session.execute(
        select(Customer.id, Customer.owner_id)
        .where(
            Customer.company_id == company,
            Customer.owner_id == scope,
            Customer.deleted_at.is_(None),
            Customer.tier.is_(None) if tier == "untiered" else Customer.tier == tier,
            ~exists().where(
                visit.c.company_id == company,
                visit.c.user_id == scope,
                visit.c.client_recorded_at >= lo,
                visit.c.client_recorded_at < hi,
                text(_counting("visit")),
                visit.c.customer_id == Customer.id,
                visit.c.user_id == Customer.owner_id,
            ),
        )
        .order_by(Customer.id)
        .limit(UNDER_COVERED_MAX)
    )
    return [_Behind(row.id, tier, row.owner_id, 0, Fraction(0)) for row in rows]


async def _under_covered(  # noqa: PLR0913
    session: AsyncSession,
    company: uuid.UUID,
    owners: list[uuid.UUID],
    lo: datetime,
    hi: datetime,
    required: dict[str, Fraction],
    visited: list[_Behind],
) -> list[_Behind]:
    """The page: the visited customers furthest behind (already the first of them), and the
    unvisited ones read tier by tier (most demanding first, id order) only as far as the page
    needs them."""
    candidates = list(visited)
    levels = sorted({r for r in required.values() if r > 0}, reverse=True)
    for index, level in enumerate(levels):
        for tier in (t for t in TIERS if required[t] == level):
            candidates.extend(
                _Behind(b.id, tier, b.owner_id, 0, level)
                for b in await _unvisited(session, company, owners, lo, hi, tier)
            )
        below = levels[index + 1] if index + 1 < len(levels) else Fraction(0)
        # Every later tier's unvisited customers are short by `below` at most: once the page is
        # full of customers further behind, nothing later can enter it.
        if sum(1 for b in candidates if b.shortfall > below) >= UNDER_COVERED_MAX:
            break
    return sorted(candidates, key=_Behind.key)[:UNDER_COVERED_MAX]


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

    figures = {tier: _Tier() for tier in TIERS}
    visited: list[_Behind] = []
    params: dict[str, Any] = {
        "company": company,
        "scope": scope.user_ids,
        "lo": lo,
        "hi": hi,
        "tiers": list(TIERS),
        "nums": [required[t].numerator for t in TIERS],
        "dens": [required[t].denominator for t in TIERS],
        "max": UNDER_COVERED_MAX,
    }
    for row in (await session.execute(_HELD, params)).all() if scope.user_ids else ():
        if row.kind == "behind":
            visited.append(
                _Behind(row.id, row.tier, row.owner_id, int(row.visits), required[row.tier])
            )
            continue
        f = figures[row.tier]
        f.customers, f.visits, f.covered = int(row.customers), int(row.visits), int(row.covered)
        f.won, f.open, f.contacted = int(row.won), int(row.open), int(row.contacted)
        f.not_contacted = f.customers - f.won - f.open - f.contacted

    tiers: list[dict[str, Any]] = []
    total_required = Fraction(0)
    total_hours = Fraction(0)
    for tier in TIERS:
        f = figures[tier]
        tier_required = f.customers * required[tier]
        hours = tier_required * Fraction(policy[tier].minutes_per_visit, 60)
        total_required += tier_required
        total_hours += hours
        stand = {
            "not_contacted": f.not_contacted,
            "contacted_no_opportunity": f.contacted,
            "opportunity_open": f.open,
            "won": f.won,
        }
        tiers.append(
            {
                "tier": tier,
                "rule": vars(policy[tier]),
                "customers": f.customers,
                "required_per_customer": rounded(required[tier], 4),
                "required_visits": rounded(tier_required, 2),
                "visits": f.visits,
                "covered": f.covered,
                "coverage": ratio(f.covered, f.customers),
                "hours_needed": rounded(hours, 2),
                "lost_sales": {
                    **stand,
                    **{f"{k}_share": ratio(v, f.customers) for k, v in stand.items()},
                },
            }
        )

    page = (
        await _under_covered(session, company, scope.user_ids, lo, hi, required, visited)
        if scope.user_ids
        else []
    )
    details: dict[uuid.UUID, Any] = {}
    if page:
        last = (
            select(func.max(Checkin.client_recorded_at))
            .where(
                Checkin.company_id == company,
                Checkin.customer_id == Customer.id,
                counts_as_visit(),
            )
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Customer.id, Customer.name, User.name.label("owner_name"), last.label("at"))
            .join(User, (User.company_id == company) & (User.id == Customer.owner_id))
            .where(Customer.company_id == company, Customer.id.in_([b.id for b in page]))
        )
        details = {row.id: row for row in rows}
    under = [
        {
            "customer_id": b.id,
            "name": details[b.id].name,
            "tier": b.tier,
            "owner_id": b.owner_id,
            "owner_name": details[b.id].owner_name,
            "visits": b.done,
            "required": rounded(b.required, 4),
            "last_visit_at": details[b.id].at,
        }
        for b in page
    ]

    days = working_days(settings, period)
    available = len(scope.people) * days * Fraction(settings.working_hours_per_day)
    seconds = (
        await session.scalar(
            select(func.coalesce(func.sum(Checkin.duration_s), 0)).where(
                Checkin.company_id == company,
                Checkin.user_id.in_(scope.people),
                Checkin.client_recorded_at >= lo,
                Checkin.client_recorded_at < hi,
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
