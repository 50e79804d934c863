"""HTTP: payments: record, confirm, reverse."""

import uuid
from decimal import Decimal

from fastapi import APIRouter, Query, Response

from app.core.concurrency import etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.types import BusinessDate
from app.db import AnyRow
from app.deps import Caller, Paging, Session
from app.money import ledger
from app.money.payments import service as payments
from app.money.payments.schemas import (
    AllocationOut,
    PaymentCreate,
    PaymentOut,
    PaymentStatus,
    ReverseIn,
)

router = APIRouter(tags=["payments"])


def payment_out(row: AnyRow, allocations: list[tuple[uuid.UUID, Decimal]]) -> PaymentOut:
    payment, customer_id, number = row
    return PaymentOut(
        id=payment.id,
        contract_id=payment.contract_id,
        customer_id=customer_id,
        contract_number=number,
        plan_id=payment.plan_id,
        reverses_id=payment.reverses_id,
        amount=payment.amount,
        received_on=payment.received_on,
        method=payment.method,
        note=payment.note,
        attachment_ids=list(payment.attachment_ids or []),
        status=payment.status,
        received=ledger.is_received(payment.confirmed_at),
        recorded_by=payment.recorded_by,
        confirmed_by=payment.confirmed_by,
        confirmed_at=payment.confirmed_at,
        reversed_by=payment.reversed_by,
        reversed_at=payment.reversed_at,
        reverse_reason=payment.reverse_reason,
        allocations=[AllocationOut(plan_id=p, amount=a) for p, a in allocations],
        version=payment.version,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
    )


async def _one(session: Session, row: AnyRow, response: Response) -> PaymentOut:
    payment = row[0]
    allocations = await payments.allocations_for(session, payment.company_id, [payment.id])
    response.headers["ETag"] = etag_for(payment.version)
    return payment_out(row, allocations.get(payment.id, []))


@router.post(
    "/v1/payments",
    operation_id="recordPayment",
    status_code=201,
    response_model=PaymentOut,
    summary="Record a payment received on a contract",
    responses={
        200: {"model": PaymentOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def record_payment(
    body: PaymentCreate, response: Response, principal: Caller, session: Session
) -> PaymentOut:
    """On an active contract (else 409 `contract_not_payable`) that the caller may edit; at
    most what is not yet committed by other payments (else 422 `payment_exceeds_outstanding`
    with `outstanding`). Allocated to `plan_id` first, then the oldest open instalments.
    `received_on` is not after today in company time (422)."""
    row, created = await payments.record_payment(session, principal, body)
    if not created:
        response.status_code = 200
    return await _one(session, row, response)


@router.get(
    "/v1/payments",
    operation_id="listPayments",
    response_model=Page[PaymentOut],
    summary="List payments",
    responses=problem_responses(401, 422),
)
async def list_payments(
    *,
    params: Paging,
    contract_id: uuid.UUID | None = Query(None),
    customer_id: uuid.UUID | None = Query(None),
    status: PaymentStatus | None = Query(None),
    received_from: BusinessDate | None = Query(None, description="received_on on or after."),
    received_to: BusinessDate | None = Query(None, description="received_on on or before."),
    principal: Caller,
    session: Session,
) -> Response:
    """Visible payments and reversals (on contracts the caller may see), newest first."""
    rows, next_cursor = await payments.list_payments(
        session,
        principal,
        params,
        contract_id=contract_id,
        customer_id=customer_id,
        status=status,
        received_from=received_from,
        received_to=received_to,
    )
    allocations = await payments.allocations_for(
        session, principal.company_id, [row[0].id for row in rows]
    )
    return json_response(
        Page[PaymentOut](
            items=[payment_out(row, allocations.get(row[0].id, [])) for row in rows],
            next_cursor=next_cursor,
        )
    )


@router.get(
    "/v1/payments/{payment_id}",
    operation_id="getPayment",
    response_model=PaymentOut,
    summary="Get a payment with its allocations",
    responses=problem_responses(401, 404, 422),
)
async def get_payment(
    payment_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> PaymentOut:
    """404 when its contract is not visible."""
    return await _one(session, await payments.get_row(session, principal, payment_id), response)


@router.post(
    "/v1/payments/{payment_id}/confirm",
    operation_id="confirmPayment",
    response_model=PaymentOut,
    summary="Confirm a payment (or submit it for approval)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def confirm_payment(
    payment_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> PaymentOut:
    """With the company's active `payment` approval flow: the recorder, the contract's team or
    an admin submits it → `pending_approval` (confirmed when approved, back to `recorded` when
    rejected or withdrawn). Without a flow: an admin confirms it at once (403 for others).
    Only a `recorded` payment (else 409 `payment_not_confirmable`)."""
    row = await payments.confirm_payment(session, principal, payment_id)
    return await _one(session, row, response)


@router.post(
    "/v1/payments/{payment_id}/reverse",
    operation_id="reversePayment",
    status_code=201,
    response_model=PaymentOut,
    summary="Reverse a payment",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reverse_payment(
    payment_id: uuid.UUID,
    body: ReverseIn,
    response: Response,
    principal: Caller,
    session: Session,
) -> PaymentOut:
    """Admins, or the recorder while it is only recorded. Answers the reversal row (negative
    amount, `reverses_id`, `received_on` the day it is written in company time, so reports
    show it then); the original becomes `reversed`, the contract's totals move back.
    Again → 409 `payment_already_reversed`; in approval → 409 `record_locked_for_approval`."""
    row = await payments.reverse_payment(session, principal, payment_id, body.reason)
    return await _one(session, row, response)
