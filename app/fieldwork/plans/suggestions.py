"""Visit suggestions: the caller's customers due a visit by their tier's frequency (the coverage
policy), most overdue first."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, exists, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import validation_failed
from app.core.geo import validate_lat_lng
from app.coverage.policy import load_policy
from app.customers.models import Customer
from app.fieldwork import periods
from app.fieldwork.models import Checkin, VisitPlan
from app.org.settings import company_settings
from app.targets.measures import counts_as_visit

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

# What a visit to a customer in each status is usually for.
PURPOSES_BY_STATUS: dict[str, list[str]] = {
    "prospect": ["new_business"],
    "active": ["information"],
    "won": ["service"],
    "lost": ["new_business"],
}


def parse_near(near: str | None) -> tuple[float, float] | None:
    """`lat,lng` (WGS-84) → (lat, lng); 422 at query.near when malformed."""
    if near is None:
        return None
    try:
        lat_text, lng_text = near.split(",")
        lat, lng = float(lat_text), float(lng_text)
        validate_lat_lng(lat, lng)
    except ValueError as exc:
        raise validation_failed(
            "`near` is `lat,lng` (WGS-84 degrees), e.g. `31.23,121.47`.", loc=("query", "near")
        ) from exc
    return lat, lng


@dataclass(frozen=True)
class Due:
    customer: Any
    tier: str
    interval_days: float
    last_visit_at: datetime | None
    days_overdue: float | None
    distance_m: float | None
    purposes: list[str]


async def visit_suggestions(
    session: AsyncSession,
    principal: Principal,
    day: date | None,
    near: tuple[float, float] | None,
    limit: int,
) -> tuple[date, list[Due]]:
    """The caller's customers (owned, not deleted) due a visit on `day`: never visited, or last
    visited (a counting check-in by anyone, up to the end of `day`) longer ago at the start of
    `day` than the tier's interval; never-visited first, then most overdue. Customers already
    planned that day (by anyone) are left out; tiers of 0 visits are never due."""
    settings = await company_settings(session, principal.company_id)
    zone = settings.time_zone
    day = day or periods.local_date(now(), zone)
    start = periods.local_midnight(day, zone)
    end = periods.local_midnight(day + timedelta(days=1), zone)
    intervals = {
        tier: rule.interval_days
        for tier, rule in (await load_policy(session, principal.company_id)).items()
        if rule.interval_days is not None
    }
    if not intervals:
        return day, []
    tier = func.coalesce(Customer.tier, "untiered")
    interval = case(intervals, value=tier, else_=None).cast(Float)
    last_visit = (
        select(func.max(Checkin.client_recorded_at))
        .where(
            Checkin.customer_id == Customer.id,
            Checkin.company_id == principal.company_id,
            Checkin.client_recorded_at < end,
            counts_as_visit(),
        )
        .scalar_subquery()
    )
    visited = select(
        Customer.id,
        Customer.name,
        Customer.status,
        Customer.latitude,
        Customer.longitude,
        tier.label("tier"),
        interval.label("interval_days"),
        last_visit.label("last_visit_at"),
    ).where(
        Customer.company_id == principal.company_id,
        Customer.owner_id == principal.user_id,
        Customer.deleted_at.is_(None),
        tier.in_(list(intervals)),
        ~exists().where(
            VisitPlan.customer_id == Customer.id,
            VisitPlan.plan_date == day,
            VisitPlan.deleted_at.is_(None),
        ),
    )
    if near is not None:
        point = func.Geography(func.ST_SetSRID(func.ST_MakePoint(near[1], near[0]), 4326))
        visited = visited.add_columns(func.ST_Distance(Customer.location, point).label("distance"))
    else:
        visited = visited.add_columns(null().cast(Float).label("distance"))
    rows = visited.subquery()
    overdue = (
        func.extract("epoch", literal(start) - rows.c.last_visit_at) / 86400 - rows.c.interval_days
    )
    customer = rows.c.id
    stmt = (
        select(rows, overdue.label("days_overdue"))
        .where(rows.c.last_visit_at.is_(None) | (overdue > 0))
        .order_by(
            rows.c.last_visit_at.is_not(None),
            overdue.desc(),
            rows.c.tier,
            rows.c.name,
            customer,
        )
        .limit(limit)
    )
    found = (await session.execute(stmt)).all()
    return day, [
        Due(
            customer=row,
            tier=row.tier,
            interval_days=round(float(row.interval_days), 2),
            last_visit_at=row.last_visit_at,
            days_overdue=round(float(row.days_overdue), 1) if row.last_visit_at else None,
            distance_m=round(row.distance, 1) if row.distance is not None else None,
            purposes=PURPOSES_BY_STATUS.get(row.status, ["other"]),
        )
        for row in found
    ]
