"""HTTP: customers, contacts, collaborators, release/transfer/deals, history."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.composition import TIMELINE_SOURCES
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.geo import CRS, to_wgs84
from app.core.location import location_out
from app.core.pagination import Page, json_response
from app.customers import deals, history, ownership, service
from app.customers.filters import CustomerFilters, customer_filters
from app.customers.models import Customer
from app.customers.nearby import nearby_customers
from app.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerMoney,
    CustomerOut,
    CustomerUpdate,
    DealIn,
    DealOut,
    DuplicateCheck,
    NearbyCustomer,
    NearbyOut,
    OwnershipEventOut,
    ReleaseIn,
    TimelineItem,
    TransferIn,
)
from app.db import AnyRow
from app.deps import Caller, Paging, Session, VisibleCustomer
from app.money import ledger
from app.privacy.masking import PhoneView, phone_view
from app.privacy.reveal import reveal
from app.privacy.schemas import PhoneRevealIn, PhoneRevealOut
from app.retention import restore

router = APIRouter(tags=["customers"])
CRS_QUERY = Query(CRS.WGS84, description="CRS of returned locations.")
MAX_NEARBY_RADIUS_M = 50_000
MAX_NEARBY_LIMIT = 100


def customer_out(
    customer: Customer | AnyRow,
    phones: PhoneView,
    crs: CRS = CRS.WGS84,
    response: Response | None = None,
) -> CustomerOut:
    """The API view of a customer, or of a list row with its attributes (location in the
    requested CRS, the phone as `phones` shows it to the caller)."""
    if response is not None:
        response.headers["ETag"] = etag_for(customer.version)
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        industry=customer.industry,
        size=customer.size,
        tier=customer.tier,
        source=customer.source,
        region=customer.region,
        address=customer.address,
        location=location_out(customer.latitude, customer.longitude, crs),
        phone=phones.phone(customer.id, customer.phone),
        status=customer.status,
        tags=customer.tags or [],
        custom_fields=customer.custom_fields or {},
        owner_id=customer.owner_id,
        in_pool=customer.owner_id is None,
        pool_id=customer.pool_id,
        claimed_at=customer.claimed_at,
        last_followup_at=customer.last_followup_at,
        next_followup_at=customer.next_followup_at,
        last_deal_at=customer.last_deal_at,
        recycle_at=customer.recycle_at,
        recycle_reason=customer.recycle_reason,
        pooled_at=customer.pooled_at,
        pool_entry_kind=customer.pool_entry_kind,
        pool_reason=customer.pool_reason,
        previous_owner_id=customer.previous_owner_id,
        version=customer.version,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


@router.get(
    "/v1/customers",
    response_model=Page[CustomerOut],
    summary="List customers",
    responses=problem_responses(401, 422),
)
async def list_customers(
    *,
    params: Paging,
    filters: Annotated[CustomerFilters, Depends(customer_filters)],
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> Response:
    """Visible customers, newest first: own, collaborating, the pool; managers add their subtree."""
    rows, next_cursor = await service.list_customers(session, principal, params, filters)
    phones = await phone_view(
        session,
        principal,
        (c.id for c in rows),
        owned=(c.id for c in rows if c.owner_id == principal.user_id),
    )
    return json_response(
        Page[CustomerOut](
            items=[customer_out(c, phones, crs) for c in rows], next_cursor=next_cursor
        )
    )


@router.post(
    "/v1/customers",
    status_code=201,
    response_model=CustomerOut,
    summary="Create a customer",
    responses={
        200: {"model": CustomerOut, "description": "Same client id and body: the existing one"},
        **problem_responses(401, 409, 422),
    },
)
async def create_customer(
    *,
    body: CustomerCreate,
    response: Response,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """The caller becomes the owner (holding cap applies) unless `in_pool`. 409
    `duplicate_customer` when the normalised name or phone matches an existing customer."""
    customer, created = await service.create_customer(session, principal, body)
    if not created:
        response.status_code = 200
    phones = await phone_view(session, principal, [customer.id])
    return customer_out(customer, phones, crs, response)


@router.get(
    "/v1/customers/duplicates",
    operation_id="checkDuplicateCustomers",
    response_model=DuplicateCheck,
    summary="Check for duplicates (查重)",
    responses=problem_responses(401, 422),
)
async def check_duplicates(
    *,
    name: str | None = Query(None, max_length=200),
    phone: str | None = Query(None, max_length=50),
    principal: Caller,
    session: Session,
) -> DuplicateCheck:
    """The same question the create endpoint asks, before saving."""
    return DuplicateCheck(duplicates=await service.find_duplicates(session, principal, name, phone))


@router.get(
    "/v1/customers/nearby",
    operation_id="listNearbyCustomers",
    response_model=NearbyOut,
    summary="Visible customers near a point",
    responses=problem_responses(401, 422),
)
async def nearby(
    *,
    lat: float = Query(ge=-90, le=90),
    lng: float = Query(ge=-180, le=180),
    crs: CRS = Query(CRS.WGS84, description="CRS of lat/lng and of the returned locations."),
    radius_m: float = Query(1000, gt=0, le=MAX_NEARBY_RADIUS_M, description="At most 50 km."),
    limit: int = Query(20, ge=1, le=MAX_NEARBY_LIMIT),
    principal: Caller,
    session: Session,
) -> NearbyOut:
    """Nearest first with `distance_m`; pool customers are marked `in_pool` (claim to work them)."""
    latitude, longitude = to_wgs84(lat, lng, crs)
    rows = await nearby_customers(session, principal, latitude, longitude, radius_m, limit)
    phones = await phone_view(session, principal, (row.id for row in rows))
    items = []
    for row in rows:
        location = location_out(row.latitude, row.longitude, crs)
        assert location is not None
        items.append(
            NearbyCustomer(
                id=row.id,
                name=row.name,
                address=row.address,
                phone=phones.phone(row.id, row.phone),
                location=location,
                distance_m=round(row.distance_m, 1),
                in_pool=row.owner_id is None,
                owner_id=row.owner_id,
            )
        )
    return NearbyOut(items=items)


@router.get(
    "/v1/customers/{customer_id}",
    response_model=CustomerDetail,
    summary="Get a customer",
    responses=problem_responses(401, 404, 422),
)
async def get_customer(
    *,
    customer_id: uuid.UUID,
    response: Response,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    customer: VisibleCustomer,
    session: Session,
) -> CustomerDetail:
    """Shows when and why it would return to the pool (`recycle_at`, `recycle_reason`), and
    `money`: its signed contracts, contracted, received, outstanding and overdue amounts."""
    phones = await phone_view(session, principal, [customer.customer.id])
    out = customer_out(customer.customer, phones, crs, response)
    money = await ledger.customer_money(session, customer.customer.company_id, customer.customer.id)
    return CustomerDetail(**dict(out), money=CustomerMoney(**money))


@router.patch(
    "/v1/customers/{customer_id}",
    response_model=CustomerOut,
    summary="Edit a customer",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_customer(
    *,
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    response: Response,
    if_match: IfMatch = None,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """`If-Match` required (428 without, 412 when stale). Owner and clocks are not writable;
    `status` `won`/`lost` only through a deal (422 `status_needs_deal`)."""
    customer = await service.update_customer(session, principal, customer_id, body, if_match)
    phones = await phone_view(session, principal, [customer.id])
    return customer_out(customer, phones, crs, response)


@router.delete(
    "/v1/customers/{customer_id}",
    status_code=204,
    summary="Delete a customer (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_customer(
    customer_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """The owner or their managers; collaborators get 403."""
    await service.delete_customer(session, principal, customer_id)
    return Response(status_code=204)


@router.post(
    "/v1/customers/{customer_id}/release",
    response_model=CustomerOut,
    summary="Release to the pool",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def release_customer(
    customer_id: uuid.UUID,
    body: ReleaseIn,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """Reason required; `pool_id` names another pool. Collaborators get 403."""
    customer = await ownership.release(session, principal, customer_id, body)
    return customer_out(customer, await phone_view(session, principal, [customer.id]))


@router.post(
    "/v1/customers/{customer_id}/transfer",
    response_model=CustomerOut,
    summary="Transfer to a user",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def transfer_customer(
    customer_id: uuid.UUID,
    body: TransferIn,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """Managers (within their subtree) and admins; the target's cap applies unless an admin
    sets `override_cap`. From the pool this is an assignment."""
    customer = await ownership.transfer(session, principal, customer_id, body)
    return customer_out(customer, await phone_view(session, principal, [customer.id]))


@router.post(
    "/v1/customers/{customer_id}/deals",
    status_code=201,
    response_model=DealOut,
    summary="Record a closed deal",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_deal(
    customer_id: uuid.UUID,
    body: DealIn,
    principal: Caller,
    session: Session,
) -> DealOut:
    """Restarts the no-deal clock (and so `recycle_at`)."""
    return DealOut.model_validate(await deals.record_deal(session, principal, customer_id, body))


@router.get(
    "/v1/customers/{customer_id}/ownership",
    operation_id="listOwnershipHistory",
    response_model=Page[OwnershipEventOut],
    summary="Ownership history",
    responses=problem_responses(401, 404, 422),
)
async def ownership_history(
    customer_id: uuid.UUID,
    params: Paging,
    customer: VisibleCustomer,
    session: Session,
) -> Page[OwnershipEventOut]:
    """Every change of owner with actor (null = system) and reason, newest first."""
    rows, next_cursor = await history.ownership_history(session, customer.customer, params)
    return Page[OwnershipEventOut](
        items=[OwnershipEventOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/customers/{customer_id}/timeline",
    operation_id="getCustomerTimeline",
    response_model=Page[TimelineItem],
    summary="Everything that happened to the customer",
    responses=problem_responses(401, 404, 422),
)
async def customer_timeline(
    customer_id: uuid.UUID,
    params: Paging,
    principal: Caller,
    customer: VisibleCustomer,
    session: Session,
) -> Page[TimelineItem]:
    """Across all owners, newest first: so a new owner sees why the last one did not close."""
    rows, next_cursor = await history.timeline(
        session, principal, customer.customer, params, TIMELINE_SOURCES
    )
    items = [
        TimelineItem(
            kind=row.kind,
            at=row.created_at,
            actor_id=row.actor_id,
            summary=row.text or row.kind,
            data={
                k: str(v)
                for k, v in (
                    ("from_user_id", row.from_user_id),
                    ("to_user_id", row.to_user_id),
                    ("amount", row.amount),
                    ("id", row.id),
                )
                if v is not None
            },
        )
        for row in rows
    ]
    return Page[TimelineItem](items=items, next_cursor=next_cursor)


@router.post(
    "/v1/customers/{customer_id}/phone-reveal",
    operation_id="revealCustomerPhone",
    response_model=PhoneRevealOut,
    summary="Reveal a customer's or contact's numbers (audited)",
    responses=problem_responses(401, 403, 404, 422),
)
async def reveal_phone(
    customer_id: uuid.UUID,
    principal: Caller,
    session: Session,
    body: PhoneRevealIn | None = None,
) -> PhoneRevealOut:
    """The numbers in full for the owner, collaborators, the managers above the owner, admins
    and — a pool customer — any manager (403 `phone_reveal_not_allowed` otherwise: a rep claims
    a pool customer to call it). Each reveal is audited (who, when, which numbers)."""
    contact_id = body.contact_id if body else None
    audit, numbers = await reveal(session, principal, customer_id, contact_id)
    return PhoneRevealOut(
        customer_id=customer_id,
        contact_id=contact_id,
        phones=numbers,
        revealed_at=audit.revealed_at,
    )


@router.post(
    "/v1/customers/{customer_id}/restore",
    operation_id="restoreCustomer",
    response_model=CustomerOut,
    summary="Restore a deleted customer",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def restore_customer(
    customer_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> CustomerOut:
    """Within the company's `restore_days`: admins, the managers above the owner (any manager
    for a pool customer). 409 `duplicate_customer` when a live customer took its name or phone
    since, `record_not_deleted`, `restore_window_passed`."""
    customer = await restore.restore_customer(session, principal, customer_id)
    return customer_out(customer, await phone_view(session, principal, [customer.id]))
