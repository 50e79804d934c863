"""HTTP: visit suggestions and today's route."""

import uuid
from datetime import timedelta

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.geo import CRS
from app.core.location import location_out
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.fieldwork.plans import optimize as routes
from app.fieldwork.plans import suggestions
from app.fieldwork.plans.route_schemas import (
    OptimizedRoute,
    RouteIn,
    RouteStop,
    Suggestion,
    Suggestions,
)
from app.fieldwork.plans.router import plan_out

router = APIRouter(tags=["visit-plans"])


@router.get(
    "/v1/visit-plans/suggestions",
    operation_id="listVisitSuggestions",
    response_model=Suggestions,
    summary="Customers due a visit",
    responses=problem_responses(401, 422),
)
async def list_suggestions(
    *,
    day: BusinessDate | None = Query(
        None, alias="date", description="The day to plan. Default: today (company time)."
    ),
    near: str | None = Query(
        None,
        description="`lat,lng` (WGS-84): adds each customer's `distance_m` from there.",
        max_length=64,
    ),
    limit: int = Query(suggestions.DEFAULT_LIMIT, ge=1, le=suggestions.MAX_LIMIT),
    principal: Caller,
    session: Session,
) -> Suggestions:
    """Your customers (those you own) due a visit by their tier's frequency in the coverage
    policy (visits per period → days between visits, e.g. A at 4 a month: every 7.5 days):
    never visited first, then most overdue. A visit is a check-in there by anyone that is not
    flagged far or mocked. Customers planned that day already (by anyone) are left out; a tier
    of 0 visits is never due. Turn one into a plan with `POST /v1/visit-plans`."""
    point = suggestions.parse_near(near)
    the_day, due = await suggestions.visit_suggestions(session, principal, day, point, limit)
    return Suggestions(
        date=the_day,
        items=[
            Suggestion(
                customer_id=item.customer.id,
                customer_name=item.customer.name,
                tier=item.tier,  # type: ignore[arg-type]
                status=item.customer.status,
                interval_days=item.interval_days,
                last_visit_at=item.last_visit_at,
                days_overdue=item.days_overdue,
                distance_m=item.distance_m,
                location=location_out(item.customer.latitude, item.customer.longitude, CRS.WGS84),
                purposes=item.purposes,  # type: ignore[arg-type]
            )
            for item in due
        ],
    )


@router.post(
    "/v1/visit-plans/optimize",
    operation_id="optimizeVisitPlans",
    response_model=OptimizedRoute,
    summary="Optimise a day's route",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def optimize_plans(
    *,
    body: RouteIn,
    day: BusinessDate | None = Query(
        None, alias="date", description="Default: today (company time)."
    ),
    user: uuid.UUID | None = Query(
        None, description="Whose day (managers: a rep's). Default: you."
    ),
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> OptimizedRoute:
    """Reorders the day's plans to shorten the trip from `start` (to `end`, or ending at the
    last visit), and saves the order as their `sequence` (`save`, the default: `If-Match` with
    the day's ETag from `GET /v1/visit-plans` — 428 without, 412 stale; the answer's `ETag` is
    the new one). Plans visited already keep their places first; plans at customers without a
    location go last, unrouted (`unlocated_plan_ids`). A plan with a planned time is reached
    within ± `window_minutes` of it (arriving early waits; lateness only when it cannot be
    helped, reported as `late_s`); each visit takes its tier's minutes per visit (coverage
    policy). No road network: great-circle distance × the company's detour factor at its
    average speed (settings `route_detour_factor`, `route_speed_kmh`, `route_window_minutes`).
    OR-Tools' routing solver, up to about a second."""
    result = await routes.optimize_day(session, principal, day, user, body, if_match)
    response.headers["ETag"] = etag_for(result.version)
    items = []
    for item in result.placed:
        timing = item.timing
        out = plan_out(item.row).model_dump()
        items.append(
            RouteStop(
                **out,
                routed=timing is not None,
                arrival_at=result.depart_at + timedelta(seconds=timing.arrival_s)
                if timing
                else None,
                departure_at=result.depart_at + timedelta(seconds=timing.departure_s)
                if timing
                else None,
                leg_distance_m=round(timing.leg_m, 1) if timing else None,
                late_s=timing.late_s if timing and item.has_window else None,
            )
        )
    return OptimizedRoute(
        date=result.day,
        user_id=result.user_id,
        items=items,
        distance_m_before=round(result.before.distance_m, 1),
        distance_m_after=round(result.after.distance_m, 1),
        duration_s_before=result.before.duration_s,
        duration_s_after=result.after.duration_s,
        late_s_before=result.before.late_s,
        late_s_after=result.after.late_s,
        improved=result.after is not result.before,
        saved=result.saved,
        depart_at=result.depart_at,
        distance_model="straight_line",
        detour_factor=result.model.detour_factor,
        speed_kmh=result.model.speed_kmh,
        window_minutes=result.window_minutes,
        unlocated_plan_ids=result.unlocated,
    )
