"""HTTP: the pool, claiming, pool rules and pools."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.geo import CRS
from app.core.pagination import Page, json_response
from app.customers import ownership, pool_admin, service
from app.customers.filters import CustomerFilters, PoolFilters, customer_filters, pool_filters
from app.customers.models import PoolSettings
from app.customers.router import CRS_QUERY, customer_out
from app.customers.schemas import (
    CustomerOut,
    DepartmentCap,
    PoolCreate,
    PoolOut,
    PoolPreviewOut,
    PoolRuleFields,
    PoolRulesIn,
    PoolRulesOut,
    PoolUpdate,
)
from app.deps import AdminCaller, Caller, Paging, Session
from app.privacy.masking import phone_view

router = APIRouter(tags=["pool"])


def rules_out(settings: PoolSettings, response: Response | None = None) -> PoolRulesOut:
    if response is not None:
        response.headers["ETag"] = etag_for(settings.version)
    caps = [
        DepartmentCap(department_id=uuid.UUID(k), holding_cap=v)
        for k, v in settings.department_caps.items()
    ]
    return PoolRulesOut(
        holding_cap=settings.holding_cap,
        won_exempt=settings.won_exempt,
        department_caps=caps,
        version=settings.version,
    )


@router.get(
    "/v1/pool/customers",
    response_model=Page[CustomerOut],
    summary="Customers in the pool",
    responses=problem_responses(401, 422),
)
async def list_pool_customers(
    *,
    params: Paging,
    filters: Annotated[CustomerFilters, Depends(customer_filters)],
    pool: Annotated[PoolFilters, Depends(pool_filters)],
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> Response:
    """Each shows why it is there: `pool_entry_kind`, `pool_reason`, `previous_owner_id`."""
    rows, next_cursor = await service.list_pool_customers(session, principal, params, filters, pool)
    phones = await phone_view(session, principal, (c.id for c in rows))
    return json_response(
        Page[CustomerOut](
            items=[customer_out(c, phones, crs) for c in rows], next_cursor=next_cursor
        )
    )


@router.post(
    "/v1/pool/customers/{customer_id}/claim",
    response_model=CustomerOut,
    summary="Claim from the pool",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def claim_customer(
    customer_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """409 `holding_cap_reached`, `customer_not_in_pool`, `reclaim_cooldown`; 429 on limit."""
    customer = await ownership.claim(session, principal, customer_id)
    return customer_out(customer, await phone_view(session, principal, [customer.id]))


@router.get(
    "/v1/pool-rules",
    response_model=PoolRulesOut,
    summary="Company pool rules",
    responses=problem_responses(401),
)
async def get_pool_rules(
    response: Response,
    principal: Caller,
    session: Session,
) -> PoolRulesOut:
    """Holding cap (with department overrides) and whether won customers are exempt."""
    return rules_out(await pool_admin.get_rules(session, principal), response)


@router.put(
    "/v1/pool-rules",
    response_model=PoolRulesOut,
    summary="Set company pool rules",
    responses=problem_responses(401, 403, 412, 422),
)
async def put_pool_rules(
    *,
    body: PoolRulesIn,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> PoolRulesOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). Changing the won
    exemption recomputes `recycle_at`."""
    return rules_out(await pool_admin.put_rules(session, principal, body, if_match), response)


@router.get(
    "/v1/pools",
    response_model=list[PoolOut],
    summary="List pools",
    responses=problem_responses(401),
)
async def list_pools(principal: Caller, session: Session) -> list[PoolOut]:
    """The default pool first, then scoped pools."""
    return [PoolOut.model_validate(p) for p in await pool_admin.list_pools(session, principal)]


@router.post(
    "/v1/pools",
    status_code=201,
    response_model=PoolOut,
    summary="Create a scoped pool",
    responses={
        200: {"model": PoolOut, "description": "Same client id and body: the existing one"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_pool(
    body: PoolCreate,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> PoolOut:
    """Admin only. Scoped by regions and/or industries; customers matching it follow its rules."""
    pool, created = await pool_admin.create_pool(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(pool.version)
    return PoolOut.model_validate(pool)


@router.get(
    "/v1/pools/{pool_id}",
    response_model=PoolOut,
    summary="Get a pool",
    responses=problem_responses(401, 404, 422),
)
async def get_pool(
    pool_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> PoolOut:
    """One pool with its rules."""
    pool = await pool_admin.get_pool(session, principal, pool_id)
    response.headers["ETag"] = etag_for(pool.version)
    return PoolOut.model_validate(pool)


@router.patch(
    "/v1/pools/{pool_id}",
    response_model=PoolOut,
    summary="Change a pool's scope or rules",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def update_pool(
    *,
    pool_id: uuid.UUID,
    body: PoolUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> PoolOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). `recycle_at` of the
    affected customers is recomputed in the same transaction."""
    pool = await pool_admin.update_pool(session, principal, pool_id, body, if_match)
    response.headers["ETag"] = etag_for(pool.version)
    return PoolOut.model_validate(pool)


@router.delete(
    "/v1/pools/{pool_id}",
    status_code=204,
    summary="Delete a scoped pool",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_pool(
    pool_id: uuid.UUID,
    principal: AdminCaller,
    session: Session,
) -> Response:
    """Admin only; its customers move to the default pool (which cannot be deleted)."""
    await pool_admin.delete_pool(session, principal, pool_id)
    return Response(status_code=204)


@router.post(
    "/v1/pools/{pool_id}/preview",
    response_model=PoolPreviewOut,
    summary="Preview the effect of proposed rules",
    responses=problem_responses(401, 403, 404, 422),
)
async def preview_pool(
    pool_id: uuid.UUID,
    body: PoolRuleFields,
    principal: AdminCaller,
    session: Session,
) -> PoolPreviewOut:
    """Admin only. How many customers would become due and when; changes nothing."""
    return await pool_admin.preview_pool(session, principal, pool_id, body)
