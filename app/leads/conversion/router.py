"""HTTP: converting a lead in one step."""

import uuid

from fastapi import APIRouter

from app.core.errors import problem_responses
from app.deps import Caller, Session
from app.leads.conversion import service as conversion
from app.leads.conversion.schemas import ConvertIn, ConvertOut

router = APIRouter()


@router.post(
    "/v1/leads/{lead_id}/convert",
    operation_id="convertLead",
    tags=["leads"],
    status_code=201,
    response_model=ConvertOut,
    summary="Convert a lead into a customer, contact and opportunity",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def convert_lead(
    lead_id: uuid.UUID, body: ConvertIn, principal: Caller, session: Session
) -> ConvertOut:
    """One transaction: the customer (new — duplicate check, holding cap — or an existing one
    you own or collaborate on), the contact (default: the lead's person), the optional
    opportunity in its pipeline's first stage, and the lead marked converted; its follow-ups
    join the customer's timeline. The lead's owner, an admin, or a manager of the owner.
    Again → 409 `lead_already_converted` (a retry with the same `Idempotency-Key` replays
    the first answer); the company's condition unmet → 409 `lead_not_convertible`; a pool
    customer matches → 409 `duplicate_customer` with `in_pool: true` (claim it, then link it
    with `existing_customer_id`); at the cap → 409 `holding_cap_reached`."""
    return ConvertOut(**await conversion.convert_lead(session, principal, lead_id, body))
