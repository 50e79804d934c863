"""HTTP: contracts and their status changes."""

import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses, validation_failed
from app.core.pagination import Page, json_response
from app.core.types import BusinessDate
from app.customers.filters import OWNER_PATTERN
from app.deps import Caller, Paging, Session
from app.money.contracts import service as contracts
from app.money.contracts.schemas import (
    ContractCreate,
    ContractOut,
    ContractStatus,
    ContractUpdate,
    LineOut,
    TerminateIn,
)
from app.money.contracts.service import ContractFilters, ContractView
from app.money.models import Contract
from app.retention import restore

router = APIRouter(tags=["contracts"])


def contract_out(found: ContractView) -> ContractOut:
    """A contract with its lines, received, outstanding and pending approval."""
    contract = found.contract
    return ContractOut(
        id=contract.id,
        number=contract.number,
        customer_id=contract.customer_id,
        opportunity_id=contract.opportunity_id,
        owner_id=contract.owner_id,
        title=contract.title,
        amount=contract.amount,
        currency=contract.currency,
        lines=[
            LineOut(
                id=line.id,
                product_id=line.product_id,
                product_code=line.product_code,
                product_name=line.product_name,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                amount=line.amount,
                position=line.position,
            )
            for line in found.lines
        ],
        signed_on=contract.signed_on,
        start_date=contract.start_date,
        end_date=contract.end_date,
        status=cast(ContractStatus, contract.status),  # the column's CHECK holds it
        received=contract.received,
        outstanding=contract.amount - contract.received,
        approval_id=found.approval_id,
        note=contract.note,
        submitted_at=contract.submitted_at,
        activated_at=contract.activated_at,
        completed_at=contract.completed_at,
        terminated_at=contract.terminated_at,
        terminated_reason=contract.terminated_reason,
        created_by=contract.created_by,
        version=contract.version,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )


async def _one(session: Session, contract: Contract, response: Response) -> ContractOut:
    response.headers["ETag"] = etag_for(contract.version)
    return contract_out(await contracts.view(session, contract))


async def contract_filters(
    customer_id: uuid.UUID | None = Query(None),
    status: ContractStatus | None = Query(None),
    owner: str | None = Query(None, pattern=OWNER_PATTERN, description="`me` or a user id."),
    q: str | None = Query(None, max_length=100, description="Number or title contains."),
    signed_from: BusinessDate | None = Query(None, description="Signed on or after this day."),
    signed_to: BusinessDate | None = Query(None, description="Signed on or before this day."),
) -> ContractFilters:
    """Dependency: the list filters, validated."""
    owner_filter: Literal["me"] | uuid.UUID | None = None
    if owner == "me":
        owner_filter = "me"
    elif owner is not None:
        try:
            owner_filter = uuid.UUID(owner)
        except ValueError as exc:  # the pattern already refused it; kept for safety
            raise validation_failed("owner is `me` or a user id", loc=("query", "owner")) from exc
    return ContractFilters(
        customer_id=customer_id,
        status=status,
        owner=owner_filter,
        q=q,
        signed_from=signed_from,
        signed_to=signed_to,
    )


@router.post(
    "/v1/contracts",
    operation_id="createContract",
    status_code=201,
    response_model=ContractOut,
    summary="Draft a contract with a customer",
    responses={
        200: {"model": ContractOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def create_contract(
    body: ContractCreate, response: Response, principal: Caller, session: Session
) -> ContractOut:
    """A draft. Reps: with customers they own or collaborate on (else 409
    `customer_not_owned`); 404 if the customer is not visible. With `lines` the amount is
    their exact sum (a different `amount`: 422 `amount_mismatch`); `number` defaults to
    HT-<year>-<6 digits> (a given one in use: 409 `contract_number_taken`)."""
    contract, created = await contracts.create_contract(session, principal, body)
    if not created:
        response.status_code = 200
    return await _one(session, contract, response)


@router.get(
    "/v1/contracts",
    operation_id="listContracts",
    response_model=Page[ContractOut],
    summary="List contracts",
    responses=problem_responses(401, 422),
)
async def list_contracts(
    *,
    params: Paging,
    filters: Annotated[ContractFilters, Depends(contract_filters)],
    principal: Caller,
    session: Session,
) -> Response:
    """Visible contracts (exactly their customers'), newest first."""
    found, next_cursor = await contracts.list_contracts(session, principal, params, filters)
    return json_response(
        Page[ContractOut](items=[contract_out(f) for f in found], next_cursor=next_cursor)
    )


@router.get(
    "/v1/contracts/{contract_id}",
    operation_id="getContract",
    response_model=ContractOut,
    summary="Get a contract",
    responses=problem_responses(401, 404, 422),
)
async def get_contract(
    contract_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> ContractOut:
    """With its lines, `received`, `outstanding` and, while it waits, `approval_id`. 404 when
    its customer is not visible."""
    return await _one(
        session, await contracts.get_contract(session, principal, contract_id), response
    )


@router.patch(
    "/v1/contracts/{contract_id}",
    operation_id="updateContract",
    response_model=ContractOut,
    summary="Edit a contract",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_contract(
    *,
    contract_id: uuid.UUID,
    body: ContractUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> ContractOut:
    """`If-Match` required. A draft: every field (`lines` replaces them all). Active,
    completed or terminated: title, note, end_date only (else 409 `contract_locked`). While
    in approval: 409 `record_locked_for_approval`."""
    contract = await contracts.update_contract(session, principal, contract_id, body, if_match)
    return await _one(session, contract, response)


@router.delete(
    "/v1/contracts/{contract_id}",
    operation_id="deleteContract",
    status_code=204,
    summary="Delete a draft contract (soft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_contract(contract_id: uuid.UUID, principal: Caller, session: Session) -> Response:
    """Drafts only (else 409 `contract_not_deletable`); the number stays taken."""
    await contracts.delete_contract(session, principal, contract_id)
    return Response(status_code=204)


@router.post(
    "/v1/contracts/{contract_id}/submit",
    operation_id="submitContract",
    response_model=ContractOut,
    summary="Submit a draft contract",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def submit_contract(
    *,
    contract_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> ContractOut:
    """draft → `pending_approval` when the company's discount flow (a line discount above its
    threshold) or contract flow applies, else `active` at once: the customer's deal, its open
    opportunity won, the team told. Not a draft: 409 `contract_transition_not_allowed`.
    If-Match optional (412 when stale)."""
    contract = await contracts.submit_contract(session, principal, contract_id, if_match)
    return await _one(session, contract, response)


@router.post(
    "/v1/contracts/{contract_id}/complete",
    operation_id="completeContract",
    response_model=ContractOut,
    summary="Mark an active contract completed",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def complete_contract(
    *,
    contract_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> ContractOut:
    """active → completed (else 409 `contract_transition_not_allowed`). If-Match optional."""
    contract = await contracts.complete_contract(session, principal, contract_id, if_match)
    return await _one(session, contract, response)


@router.post(
    "/v1/contracts/{contract_id}/terminate",
    operation_id="terminateContract",
    response_model=ContractOut,
    summary="Terminate an active contract",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def terminate_contract(
    *,
    contract_id: uuid.UUID,
    body: TerminateIn,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> ContractOut:
    """active → terminated with the reason (else 409 `contract_transition_not_allowed`; in
    approval 409 `record_locked_for_approval`). If-Match optional."""
    contract = await contracts.terminate_contract(
        session, principal, contract_id, body.reason, if_match
    )
    return await _one(session, contract, response)


@router.post(
    "/v1/contracts/{contract_id}/restore",
    operation_id="restoreContract",
    response_model=ContractOut,
    summary="Restore a deleted draft contract",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def restore_contract(
    contract_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> ContractOut:
    """Only drafts are deleted, so it comes back a draft (its number was kept). Within the
    company's `restore_days`: admins and the managers above its owner (403 for the owner).
    409 `record_not_deleted`, `restore_window_passed`, `customer_deleted`."""
    contract = await restore.restore_contract(session, principal, contract_id)
    return await _one(session, contract, response)
