"""Today's route, saved: reorder a user's plans of a day (`plans.route` finds the order) and
store it as their `sequence`."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.concurrency import check_if_match, etag_for
from app.coverage.policy import load_policy, tier_of
from app.customers.models import Customer
from app.fieldwork import periods
from app.fieldwork.models import VisitPlan
from app.fieldwork.plans import route
from app.fieldwork.plans import service as plans
from app.fieldwork.plans.route_schemas import RouteIn
from app.org.settings import company_settings


@dataclass(frozen=True)
class Placed:
    """One plan of the day in the new order, with its timing when it was routed."""

    row: tuple[Any, ...]  # (plan, checkin id, customer name, status) as `plans.day_route`
    timing: route.Timing | None
    has_window: bool


@dataclass(frozen=True)
class Optimized:
    day: date
    user_id: uuid.UUID
    placed: list[Placed]
    before: route.Route
    after: route.Route
    depart_at: datetime
    model: route.Model
    window_minutes: int
    unlocated: list[uuid.UUID]
    saved: bool
    version: int


def _departure(day: date, zone: str, workday_start: time, depart_at: time | None) -> datetime:
    """Leaving `start`: as asked, else the workday start — or now, when today and later."""
    tz = ZoneInfo(zone)
    if depart_at is not None:
        return datetime.combine(day, depart_at.replace(tzinfo=None), tzinfo=tz)
    leave = datetime.combine(day, workday_start, tzinfo=tz)
    current = now().astimezone(tz).replace(microsecond=0)
    return max(leave, current) if current.date() == day else leave


async def optimize_day(
    session: AsyncSession,
    principal: Principal,
    day: date | None,
    user_id: uuid.UUID | None,
    body: RouteIn,
    if_match: str | None,
) -> Optimized:
    """Reorder the user's plans of the day for the shortest trip from `body.start`: plans
    visited already keep their places first, plans at customers without a location go last,
    the others are routed (a planned time within ± the window). Saved with `save` (If-Match:
    the day's ETag, 428 without, 412 stale)."""
    target = await plans.plannable_user(session, principal, user_id)
    settings = await company_settings(session, principal.company_id)
    zone = settings.time_zone
    day = day or periods.local_date(now(), zone)
    _, _, rows, version = await plans.day_route(session, principal, day, target)
    if body.save:
        check_if_match(if_match, version)
    customers = {
        c.id: c
        for c in (
            await session.execute(
                select(Customer.id, Customer.latitude, Customer.longitude, Customer.tier).where(
                    Customer.id.in_({row[0].customer_id for row in rows})
                )
            )
        ).all()
    }
    policy = await load_policy(session, principal.company_id)
    model = route.Model(settings.route_detour_factor, settings.route_speed_kmh)
    window = timedelta(minutes=settings.route_window_minutes)
    leave = _departure(day, zone, settings.workday_start, body.depart_at)

    done = [row for row in rows if row[1] is not None]
    pending = [row for row in rows if row[1] is None]
    located = [row for row in pending if customers[row[0].customer_id].latitude is not None]
    unlocated = [row for row in pending if customers[row[0].customer_id].latitude is None]
    stops = []
    for row in located:
        plan, customer = row[0], customers[row[0].customer_id]
        bounds = None
        if plan.planned_time is not None:
            planned = datetime.combine(
                day, plan.planned_time.replace(tzinfo=None), tzinfo=leave.tzinfo
            )
            bounds = (
                int((planned - window - leave).total_seconds()),
                int((planned + window - leave).total_seconds()),
            )
        minutes = policy[tier_of(customer.tier)].minutes_per_visit
        stops.append(
            route.Stop(route.Point(customer.latitude, customer.longitude), minutes * 60, bounds)
        )
    start_lat, start_lng = body.start.wgs84()
    end = route.Point(*body.end.wgs84()) if body.end is not None else None
    # The solver blocks for up to a second: off the event loop.
    before, after = await asyncio.to_thread(
        route.optimize, model, route.Point(start_lat, start_lng), end, stops
    )
    placed = [Placed(row, None, False) for row in done]
    placed += [
        Placed(located[index], timing, stops[index].window is not None)
        for index, timing in zip(after.order, after.timings, strict=True)
    ]
    placed += [Placed(row, None, False) for row in unlocated]
    if body.save:
        version = await _save(session, principal, target, day, version, placed)
    return Optimized(
        day=day,
        user_id=target,
        placed=placed,
        before=before,
        after=after,
        depart_at=leave,
        model=model,
        window_minutes=settings.route_window_minutes,
        unlocated=[row[0].id for row in unlocated],
        saved=body.save,
        version=version,
    )


async def _save(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    day: date,
    version: int,
    placed: list[Placed],
) -> int:
    """Store the order as `sequence` 1, 2, … (a changed plan's version moves), the day's
    plans locked and their version checked again (a change while solving is a 412)."""
    locked = list(
        (
            await session.execute(
                select(VisitPlan)
                .where(
                    VisitPlan.company_id == principal.company_id,
                    VisitPlan.user_id == user_id,
                    VisitPlan.plan_date == day,
                    VisitPlan.deleted_at.is_(None),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    check_if_match(etag_for(version), plans.day_version(locked))
    at = now()
    for position, item in enumerate(placed, start=1):
        plan = item.row[0]
        if plan.sequence != position:
            plan.sequence = position
            plan.version += 1
            plan.updated_at = at
    await session.flush()
    return plans.day_version(locked)
