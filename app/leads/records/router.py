"""HTTP: leads."""

import uuid
from typing import cast

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.deps import Caller, Paging, Session
from app.leads.models import Lead, LeadEvent
from app.leads.pools import service as pools
from app.leads.pools.schemas import LeadEventOut
from app.leads.records import service as leads
from app.leads.records.schemas import (
    LeadCreate,
    LeadDuplicate,
    LeadDuplicateCheck,
    LeadOut,
    LeadSource,
    LeadStatus,
    LeadUpdate,
)

router = APIRouter()
RETRY = "Retry with the same id and body"


def lead_out(lead: Lead) -> LeadOut:
    return LeadOut(
        id=lead.id,
        name=lead.name,
        title=lead.title,
        company_name=lead.company_name,
        phone=lead.phone,
        email=lead.email,
        source=cast(LeadSource, lead.source),
        campaign=lead.campaign,
        region=lead.region,
        industry=lead.industry,
        address=lead.address,
        note=lead.note,
        custom_fields=lead.custom_fields,
        status=cast(LeadStatus, lead.status),
        pool_id=lead.pool_id,
        owner_id=lead.owner_id,
        in_pool=lead.owner_id is None,
        claimed_at=lead.claimed_at,
        first_followup_at=lead.first_followup_at,
        last_followup_at=lead.last_followup_at,
        followup_count=lead.followup_count,
        converted_customer_id=lead.converted_customer_id,
        converted_contact_id=lead.converted_contact_id,
        converted_opportunity_id=lead.converted_opportunity_id,
        converted_at=lead.converted_at,
        created_by=lead.created_by,
        version=lead.version,
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )


def event_out(event: LeadEvent) -> LeadEventOut:
    return LeadEventOut(
        id=event.id,
        kind=event.kind,
        pool_id=event.pool_id,
        user_id=event.user_id,
        actor_id=event.actor_id,
        reason=event.reason,
        at=event.at,
    )


@router.post(
    "/v1/leads",
    operation_id="createLead",
    status_code=201,
    response_model=LeadOut,
    tags=["leads"],
    summary="Create a lead",
    responses={
        200: {"model": LeadOut, "description": RETRY},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_lead(
    body: LeadCreate, response: Response, principal: Caller, session: Session
) -> LeadOut:
    """Yours unless `in_pool` (admins and managers may give `owner_id`); 409 `duplicate_lead`
    when its phone, e-mail or company name matches a lead or customer; an unowned lead of a
    round-robin or least-loaded pool is assigned at once."""
    lead, created = await leads.create_lead(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)


@router.get(
    "/v1/leads",
    operation_id="listLeads",
    response_model=Page[LeadOut],
    tags=["leads"],
    summary="List leads",
    responses=problem_responses(401, 422),
)
async def list_leads(
    *,
    params: Paging,
    owner: str | None = Query(
        None, pattern=r"^(me|none|[0-9a-fA-F-]{36})$", description="`me`, `none` or a user id."
    ),
    pool_id: uuid.UUID | None = Query(None),
    status: LeadStatus | None = Query(None),
    source: LeadSource | None = Query(None),
    campaign: str | None = Query(None, max_length=200),
    q: str | None = Query(None, max_length=100, description="Name, company, phone or e-mail."),
    principal: Caller,
    session: Session,
) -> Response:
    """Visible leads, newest first."""
    owner_filter: str | uuid.UUID | None = owner
    if owner not in (None, "me", "none"):
        owner_filter = uuid.UUID(owner)
    filters = {
        "owner": owner_filter,
        "pool_id": pool_id,
        "status": status,
        "source": source,
        "campaign": campaign,
        "q": q,
    }
    rows, next_cursor = await leads.list_leads(session, principal, params, filters)
    return json_response(
        Page[LeadOut](items=[lead_out(lead) for lead in rows], next_cursor=next_cursor)
    )


@router.get(
    "/v1/leads/duplicates",
    operation_id="checkDuplicateLeads",
    response_model=LeadDuplicateCheck,
    tags=["leads"],
    summary="Check for duplicate leads (查重)",
    responses=problem_responses(401, 422),
)
async def check_duplicates(
    *,
    phone: str | None = Query(None, max_length=50),
    email: str | None = Query(None, max_length=320),
    company_name: str | None = Query(None, max_length=200),
    principal: Caller,
    session: Session,
) -> LeadDuplicateCheck:
    """Leads and customers a lead with these keys would match; names only where visible."""
    matches = await leads.check_duplicates(session, principal, phone, email, company_name)
    return LeadDuplicateCheck(duplicates=[LeadDuplicate(**match) for match in matches])


@router.get(
    "/v1/leads/{lead_id}",
    operation_id="getLead",
    response_model=LeadOut,
    tags=["leads"],
    summary="Get a lead",
    responses=problem_responses(401, 404, 422),
)
async def get_lead(
    lead_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> LeadOut:
    """404 when not visible."""
    lead = await leads.get_lead(session, principal, lead_id)
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)


@router.patch(
    "/v1/leads/{lead_id}",
    operation_id="updateLead",
    response_model=LeadOut,
    tags=["leads"],
    summary="Edit a lead",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_lead(
    *,
    lead_id: uuid.UUID,
    body: LeadUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> LeadOut:
    """The owner or a manager above them; `If-Match` required. Status `converted` → 422
    (conversion sets it); a changed phone, e-mail or company name is checked for duplicates."""
    lead = await leads.update_lead(session, principal, lead_id, body, if_match)
    response.headers["ETag"] = etag_for(lead.version)
    return lead_out(lead)


@router.delete(
    "/v1/leads/{lead_id}",
    operation_id="deleteLead",
    status_code=204,
    tags=["leads"],
    summary="Delete a lead (soft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_lead(lead_id: uuid.UUID, principal: Caller, session: Session) -> Response:
    """The owner, a manager above them or an admin (pool leads: managers and admins)."""
    await leads.delete_lead(session, principal, lead_id)
    return Response(status_code=204)


@router.get(
    "/v1/leads/{lead_id}/events",
    operation_id="listLeadEvents",
    response_model=Page[LeadEventOut],
    tags=["leads"],
    summary="A lead's history",
    responses=problem_responses(401, 404, 422),
)
async def list_lead_events(
    lead_id: uuid.UUID, params: Paging, principal: Caller, session: Session
) -> Page[LeadEventOut]:
    """Created, claimed, assigned, released, recycled, converted: newest first."""
    rows, next_cursor = await pools.lead_events(session, principal, lead_id, params)
    return Page[LeadEventOut](items=[event_out(e) for e in rows], next_cursor=next_cursor)
