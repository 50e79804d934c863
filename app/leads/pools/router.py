"""HTTP: lead pools and claiming, assigning, releasing leads."""

import uuid
from typing import cast

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.deps import AdminCaller, Caller, Paging, Session
from app.leads.models import LeadPool, LeadPoolMember
from app.leads.pools import service as pools
from app.leads.pools.schemas import (
    AssignIn,
    Assignment,
    LeadPoolCreate,
    LeadPoolOut,
    LeadPoolUpdate,
    PoolMemberOut,
    PoolMode,
    ReleaseIn,
)
from app.leads.records.router import lead_out
from app.leads.records.schemas import LeadOut

router = APIRouter()
RETRY = "Retry with the same id and body"


def pool_out(pool: LeadPool, members: list[LeadPoolMember]) -> LeadPoolOut:
    return LeadPoolOut(
        id=pool.id,
        name=pool.name,
        region=pool.region,
        industry=pool.industry,
        members=[PoolMemberOut(department_id=m.department_id, user_id=m.user_id) for m in members],
        mode=cast(PoolMode, pool.mode),
        assignment=cast(Assignment, pool.assignment),
        daily_claim_limit=pool.daily_claim_limit,
        holding_cap=pool.holding_cap,
        recycle_after_days=pool.recycle_after_days,
        version=pool.version,
        created_at=pool.created_at,
        updated_at=pool.updated_at,
    )


async def _pool_out(session: Session, pool: LeadPool) -> LeadPoolOut:
    members = await pools.members_of(session, pool.company_id, [pool.id])
    return pool_out(pool, members[pool.id])


@router.post(
    "/v1/lead-pools",
    operation_id="createLeadPool",
    status_code=201,
    response_model=LeadPoolOut,
    tags=["lead-pools"],
    summary="Create a lead pool (admin)",
    responses={
        200: {"model": LeadPoolOut, "description": RETRY},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_pool(
    body: LeadPoolCreate, response: Response, principal: AdminCaller, session: Session
) -> LeadPoolOut:
    """Members are departments (their whole subtree) or users; 409 `lead_pool_name_taken`."""
    pool, created = await pools.create_pool(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(pool.version)
    return await _pool_out(session, pool)


@router.get(
    "/v1/lead-pools",
    operation_id="listLeadPools",
    response_model=Page[LeadPoolOut],
    tags=["lead-pools"],
    summary="List lead pools",
    responses=problem_responses(401, 422),
)
async def list_pools(params: Paging, principal: Caller, session: Session) -> Page[LeadPoolOut]:
    """Admins: all; others: the pools they (managers: their subtree) may pull from."""
    rows, next_cursor = await pools.list_pools(session, principal, params)
    members = await pools.members_of(session, principal.company_id, [p.id for p in rows])
    return Page[LeadPoolOut](
        items=[pool_out(p, members[p.id]) for p in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/lead-pools/{pool_id}",
    operation_id="getLeadPool",
    response_model=LeadPoolOut,
    tags=["lead-pools"],
    summary="Get a lead pool",
    responses=problem_responses(401, 404, 422),
)
async def get_pool(
    pool_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> LeadPoolOut:
    """404 for a pool the caller is not a member of (admins see all)."""
    pool = await pools.get_pool(session, principal, pool_id)
    response.headers["ETag"] = etag_for(pool.version)
    return await _pool_out(session, pool)


@router.patch(
    "/v1/lead-pools/{pool_id}",
    operation_id="updateLeadPool",
    response_model=LeadPoolOut,
    tags=["lead-pools"],
    summary="Change a lead pool (admin)",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_pool(
    *,
    pool_id: uuid.UUID,
    body: LeadPoolUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> LeadPoolOut:
    """`If-Match` required; `members`, when given, replaces them all."""
    pool = await pools.update_pool(session, principal, pool_id, body, if_match)
    response.headers["ETag"] = etag_for(pool.version)
    return await _pool_out(session, pool)


@router.delete(
    "/v1/lead-pools/{pool_id}",
    operation_id="deleteLeadPool",
    status_code=204,
    tags=["lead-pools"],
    summary="Delete a lead pool (admin, soft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_pool(pool_id: uuid.UUID, principal: AdminCaller, session: Session) -> Response:
    """409 `lead_pool_not_empty` while it holds leads."""
    await pools.delete_pool(session, principal, pool_id)
    return Response(status_code=204)


@router.post(
    "/v1/lead-pools/{pool_id}/leads/{lead_id}/claim",
    operation_id="claimLead",
    response_model=LeadOut,
    tags=["lead-pools"],
    summary="Claim a lead from its pool (领取)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def claim_lead(
    pool_id: uuid.UUID, lead_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> LeadOut:
    """Members of a pull (or both) pool; 409 `lead_claim_limit_reached` (today, company
    time), `lead_cap_reached`, `lead_pool_mode`, or `lead_not_in_pool` (someone was first)."""
    lead = await pools.claim_lead(session, principal, pool_id, lead_id)
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)


@router.post(
    "/v1/leads/{lead_id}/assign",
    operation_id="assignLead",
    response_model=LeadOut,
    tags=["lead-pools"],
    summary="Assign a lead (分配)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def assign_lead(
    lead_id: uuid.UUID, body: AssignIn, response: Response, principal: Caller, session: Session
) -> LeadOut:
    """Admins, or managers to a user of their subtree, in a push (or both) pool; the user must
    be active and below the cap (admins may pass `override_cap`)."""
    lead = await pools.assign_lead(session, principal, lead_id, body)
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)


@router.post(
    "/v1/leads/{lead_id}/release",
    operation_id="releaseLead",
    response_model=LeadOut,
    tags=["lead-pools"],
    summary="Release a lead to its pool",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def release_lead(
    lead_id: uuid.UUID, body: ReleaseIn, response: Response, principal: Caller, session: Session
) -> LeadOut:
    """The owner or a manager above them (or an admin)."""
    lead = await pools.release_lead(session, principal, lead_id, body.reason)
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)
