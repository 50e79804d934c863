"""HTTP: visit plans."""

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.fieldwork.plans import service as plans
from app.fieldwork.plans.schemas import DayRoute, PlanCreate, PlanOut, PlanUpdate, VisitPurpose

router = APIRouter()
RETRY = "Retry with the same id and body"


def plan_out(row: tuple[Any, ...]) -> PlanOut:
    plan, checkin_id, customer_name, status = row
    return PlanOut(
        id=plan.id,
        user_id=plan.user_id,
        customer_id=plan.customer_id,
        customer_name=customer_name,
        plan_date=plan.plan_date,
        planned_time=plan.planned_time,
        sequence=plan.sequence,
        purpose=plan.purpose,
        purposes=plan.purposes,
        status=status,
        checkin_id=checkin_id,
        created_by=plan.created_by,
        version=plan.version,
        created_at=plan.created_at,
    )


@router.post(
    "/v1/visit-plans",
    operation_id="createVisitPlan",
    status_code=201,
    response_model=PlanOut,
    tags=["visit-plans"],
    summary="Plan a visit",
    responses={
        200: {"model": PlanOut, "description": RETRY},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_plan(
    body: PlanCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> PlanOut:
    """For yourself, or (managers) for a rep of your subtree."""
    plan, created = await plans.create_plan(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(plan.version)
    return plan_out(await plans.get_plan(session, principal, plan.id))


@router.get(
    "/v1/visit-plans",
    operation_id="getDayRoute",
    response_model=DayRoute,
    tags=["visit-plans"],
    summary="A day's route",
    responses=problem_responses(401, 403, 404, 422),
)
async def day_route(
    *,
    day: BusinessDate | None = Query(
        None, alias="date", description="Default: today (company time)."
    ),
    user: uuid.UUID | None = Query(None, description="Default: you."),
    purpose: VisitPurpose | None = Query(None, description="Only plans with this purpose."),
    response: Response,
    principal: Caller,
    session: Session,
) -> DayRoute:
    """Plans in planned order, each `planned`, `done` (a check-in there that day) or `missed`.
    The `ETag` is the whole day's (every plan of it, whatever `purpose` filters): send it as
    `If-Match` to `POST /v1/visit-plans/optimize`."""
    the_day, user_id, rows, version = await plans.day_route(session, principal, day, user, purpose)
    response.headers["ETag"] = etag_for(version)
    return DayRoute(date=the_day, user_id=user_id, items=[plan_out(row) for row in rows])


@router.get(
    "/v1/visit-plans/{plan_id}",
    operation_id="getVisitPlan",
    response_model=PlanOut,
    tags=["visit-plans"],
    summary="Get a plan",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_plan(
    plan_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> PlanOut:
    """With its status; 404 for a plan the caller may not see."""
    row = await plans.get_plan(session, principal, plan_id)
    response.headers["ETag"] = etag_for(row[0].version)
    return plan_out(row)


@router.patch(
    "/v1/visit-plans/{plan_id}",
    operation_id="updateVisitPlan",
    response_model=PlanOut,
    tags=["visit-plans"],
    summary="Change a plan",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_plan(
    *,
    plan_id: uuid.UUID,
    body: PlanUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> PlanOut:
    """Move it to another day, reorder, re-purpose; `If-Match` required (428 without, 412
    when stale)."""
    plan = await plans.update_plan(session, principal, plan_id, body, if_match)
    response.headers["ETag"] = etag_for(plan.version)
    return plan_out(await plans.get_plan(session, principal, plan.id))


@router.delete(
    "/v1/visit-plans/{plan_id}",
    operation_id="deleteVisitPlan",
    status_code=204,
    tags=["visit-plans"],
    summary="Cancel a plan",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_plan(
    plan_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """Soft delete."""
    await plans.delete_plan(session, principal, plan_id)
    return Response(status_code=204)
