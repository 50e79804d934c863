"""HTTP: opportunities and their advance through the stages."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from app.auth.principal import Principal
from app.core.clock import now
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses, validation_failed
from app.core.pagination import Page, json_response
from app.customers.filters import OWNER_PATTERN
from app.db import AnyRow
from app.deps import Caller, Paging, Session
from app.pipeline.models import StageChange
from app.pipeline.opportunities import rules
from app.pipeline.opportunities import service as opportunities
from app.pipeline.opportunities.quadrant import size_line
from app.pipeline.opportunities.schemas import (
    AdvanceIn,
    OpportunityCreate,
    OpportunityOut,
    OpportunityStatus,
    OpportunityUpdate,
    StageChangeOut,
)
from app.pipeline.opportunities.service import OpportunityFilters
from app.retention import restore

router = APIRouter(tags=["opportunities"])


def opportunity_out(row: AnyRow, at: datetime, line: Decimal | None) -> OpportunityOut:
    """A read row (service.COLUMNS) as the API shows it, with what is computed: stale, days
    and rotting days in the stage, the quadrant."""
    end = row.closed_at or at
    days = rules.days_in_stage(row.stage_entered_at, end)
    return OpportunityOut(
        id=row.id,
        customer_id=row.customer_id,
        pipeline_id=row.pipeline_id,
        stage_id=row.stage_id,
        stage_name=row.stage_name,
        probability=row.probability,
        name=row.name,
        amount=row.amount,
        expected_close_date=row.expected_close_date,
        contact_ids=list(row.contact_ids or []),
        competitors=list(row.competitors or []),
        source=row.source,
        description=row.description,
        lead_id=row.lead_id,
        owner_id=row.owner_id,
        status=row.status,
        lost_reason=row.lost_reason,
        stage_entered_at=row.stage_entered_at,
        days_in_stage=days,
        rotting_days=rules.rotting_days(row.status, days, row.max_days),
        stale=rules.is_stale(row.status, row.created_at, row.stale_after_days, at),
        quadrant=rules.quadrant(row.status, row.amount, row.probability, line),
        closed_at=row.closed_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _one(
    session: Session, principal: Principal, opportunity_id: uuid.UUID, response: Response
) -> OpportunityOut:
    row = await opportunities.get_row(session, principal, opportunity_id)
    response.headers["ETag"] = etag_for(row.version)
    return opportunity_out(row, now(), await size_line(session, principal.company_id))


async def opportunity_filters(
    owner: str | None = Query(None, pattern=OWNER_PATTERN, description="`me` or a user id."),
    customer_id: uuid.UUID | None = Query(None),
    pipeline_id: uuid.UUID | None = Query(None),
    stage_id: uuid.UUID | None = Query(None),
    status: OpportunityStatus | None = Query(None),
    stale: bool | None = Query(None, description="Open and older than stale_after_days."),
    quadrant: rules.Quadrant | None = Query(
        None, description="Priority: size (median open amount) × chance (probability ≥ 50)."
    ),
    q: str | None = Query(None, max_length=100, description="Name contains."),
) -> OpportunityFilters:
    """Dependency: the list filters, validated."""
    owner_filter: Literal["me"] | uuid.UUID | None = None
    if owner == "me":
        owner_filter = "me"
    elif owner is not None:
        try:
            owner_filter = uuid.UUID(owner)
        except ValueError as exc:  # the pattern already refused it; kept for safety
            raise validation_failed("owner is `me` or a user id", loc=("query", "owner")) from exc
    return OpportunityFilters(
        owner=owner_filter,
        customer_id=customer_id,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        status=status,
        stale=stale,
        quadrant=quadrant,
        q=q,
    )


@router.post(
    "/v1/opportunities",
    operation_id="createOpportunity",
    status_code=201,
    response_model=OpportunityOut,
    summary="Open an opportunity on a customer",
    responses={
        200: {"model": OpportunityOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def create_opportunity(
    body: OpportunityCreate, response: Response, principal: Caller, session: Session
) -> OpportunityOut:
    """In the pipeline's first open stage unless `stage_id` says another. Reps: on customers
    they own or collaborate on (else 409 `customer_not_owned`); 404 if the customer is not
    visible."""
    opportunity, created = await opportunities.create_opportunity(session, principal, body)
    if not created:
        response.status_code = 200
    return await _one(session, principal, opportunity.id, response)


@router.get(
    "/v1/opportunities",
    operation_id="listOpportunities",
    response_model=Page[OpportunityOut],
    summary="List opportunities",
    responses=problem_responses(401, 422),
)
async def list_opportunities(
    *,
    params: Paging,
    filters: Annotated[OpportunityFilters, Depends(opportunity_filters)],
    principal: Caller,
    session: Session,
) -> Response:
    """Visible opportunities (exactly their customers'), newest first."""
    line = await size_line(session, principal.company_id)
    rows, next_cursor = await opportunities.list_opportunities(
        session, principal, params, filters, line
    )
    at = now()
    return json_response(
        Page[OpportunityOut](
            items=[opportunity_out(row, at, line) for row in rows], next_cursor=next_cursor
        )
    )


@router.get(
    "/v1/opportunities/{opportunity_id}",
    operation_id="getOpportunity",
    response_model=OpportunityOut,
    summary="Get an opportunity",
    responses=problem_responses(401, 404, 422),
)
async def get_opportunity(
    opportunity_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> OpportunityOut:
    """404 when its customer is not visible."""
    return await _one(session, principal, opportunity_id, response)


@router.patch(
    "/v1/opportunities/{opportunity_id}",
    operation_id="updateOpportunity",
    response_model=OpportunityOut,
    summary="Edit an opportunity",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_opportunity(
    *,
    opportunity_id: uuid.UUID,
    body: OpportunityUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> OpportunityOut:
    """`If-Match` required. Stage, status, won/lost fields: 422 `field_not_patchable` (they
    change through advance)."""
    opportunity = await opportunities.update_opportunity(
        session, principal, opportunity_id, body, if_match
    )
    return await _one(session, principal, opportunity.id, response)


@router.delete(
    "/v1/opportunities/{opportunity_id}",
    operation_id="deleteOpportunity",
    status_code=204,
    summary="Delete an opportunity (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_opportunity(
    opportunity_id: uuid.UUID, principal: Caller, session: Session
) -> Response:
    """Its owner, the customer's owner or a manager above them."""
    await opportunities.delete_opportunity(session, principal, opportunity_id)
    return Response(status_code=204)


@router.post(
    "/v1/opportunities/{opportunity_id}/advance",
    operation_id="advanceOpportunity",
    response_model=OpportunityOut,
    summary="Move an opportunity to another stage",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def advance_opportunity(
    *,
    opportunity_id: uuid.UUID,
    body: AdvanceIn,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> OpportunityOut:
    """Under the pipeline's rules (409 `stage_transition_not_allowed`) and the current stage's
    exit requirements (422 `stage_requirements_missing`, all at once). Won records the deal
    on the customer; lost needs `lost_reason`. If-Match optional (412 when stale)."""
    opportunity = await opportunities.advance(session, principal, opportunity_id, body, if_match)
    return await _one(session, principal, opportunity.id, response)


def _change_out(change: StageChange, ends: datetime | None) -> StageChangeOut:
    return StageChangeOut(
        id=change.id,
        from_stage_id=change.from_stage_id,
        from_stage_name=change.from_stage_name,
        to_stage_id=change.to_stage_id,
        to_stage_name=change.to_stage_name,
        actor_id=change.actor_id,
        at=change.at,
        seconds_in_previous=change.seconds_in_previous,
        seconds_in_stage=None if ends is None else max(int((ends - change.at).total_seconds()), 0),
        feedback=dict(change.feedback or {}),
        note=change.note,
    )


@router.get(
    "/v1/opportunities/{opportunity_id}/stages",
    operation_id="listOpportunityStages",
    response_model=list[StageChangeOut],
    summary="An opportunity's stage history",
    responses=problem_responses(401, 404, 422),
)
async def list_opportunity_stages(
    opportunity_id: uuid.UUID, principal: Caller, session: Session
) -> list[StageChangeOut]:
    """Every move, oldest first, with the feedback given, the time in each stage and the
    stage names as they were."""
    opportunity, changes = await opportunities.stage_history(session, principal, opportunity_id)
    at = now()
    out = []
    for index, change in enumerate(changes):
        if index + 1 < len(changes):
            ends: datetime | None = changes[index + 1].at
        else:
            ends = at if opportunity.status == "open" else None
        out.append(_change_out(change, ends))
    return out


@router.post(
    "/v1/opportunities/{opportunity_id}/restore",
    operation_id="restoreOpportunity",
    response_model=OpportunityOut,
    summary="Restore a deleted opportunity",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def restore_opportunity(
    opportunity_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> OpportunityOut:
    """Within the company's `restore_days`: admins and the managers above its owner (403 for
    the owner). 409 `record_not_deleted`, `restore_window_passed`, `customer_deleted`."""
    await restore.restore_opportunity(session, principal, opportunity_id)
    return await _one(session, principal, opportunity_id, response)
