"""HTTP: a contract's payment plans (instalments)."""

import uuid

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.deps import Caller, Session
from app.money import ledger
from app.money.plans import service as plans
from app.money.plans.schemas import PlanCreate, PlanList, PlanOut, PlanUpdate
from app.money.plans.service import PlanRow

router = APIRouter(tags=["payment-plans"])


def plan_out(row: PlanRow) -> PlanOut:
    plan = row.plan
    return PlanOut(
        id=plan.id,
        contract_id=plan.contract_id,
        due_date=plan.due_date,
        amount=plan.amount,
        paid=row.paid,
        committed=row.committed,
        outstanding=row.outstanding,
        status=row.status,
        note=plan.note,
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


@router.get(
    "/v1/contracts/{contract_id}/payment-plans",
    operation_id="listPaymentPlans",
    response_model=PlanList,
    summary="List a contract's instalments",
    responses=problem_responses(401, 404, 422),
)
async def list_payment_plans(
    contract_id: uuid.UUID, principal: Caller, session: Session
) -> PlanList:
    """The instalments by due date, each with `paid`, `outstanding` and its derived `status`
    (company time); 404 when the contract is not visible."""
    contract, rows = await plans.list_plans(session, principal, contract_id)
    total = sum((row.plan.amount for row in rows), ledger.ZERO)
    return PlanList(
        items=[plan_out(row) for row in rows],
        total=total,
        contract_amount=contract.amount,
        unscheduled=max(contract.amount - total, ledger.ZERO),
    )


@router.post(
    "/v1/contracts/{contract_id}/payment-plans",
    operation_id="createPaymentPlan",
    status_code=201,
    response_model=PlanOut,
    summary="Add an instalment to a contract",
    responses={
        200: {"model": PlanOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_payment_plan(
    contract_id: uuid.UUID,
    body: PlanCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> PlanOut:
    """Whoever may edit the contract. Σ instalments ≤ the contract's amount (else 422
    `plans_exceed_contract`); a contract in approval → 409 `record_locked_for_approval`, a
    completed or terminated one → 409 `contract_locked`."""
    row, created = await plans.create_plan(session, principal, contract_id, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(row.plan.version)
    return plan_out(row)


@router.patch(
    "/v1/contracts/{contract_id}/payment-plans/{plan_id}",
    operation_id="updatePaymentPlan",
    response_model=PlanOut,
    summary="Edit an instalment",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_payment_plan(
    *,
    contract_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: PlanUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> PlanOut:
    """Due date, amount, note; `If-Match` required (428 without, 412 stale). The amount may
    not go below what payments committed to it (422 `plan_below_allocated`)."""
    row = await plans.update_plan(session, principal, contract_id, plan_id, body, if_match)
    response.headers["ETag"] = etag_for(row.plan.version)
    return plan_out(row)


@router.delete(
    "/v1/contracts/{contract_id}/payment-plans/{plan_id}",
    operation_id="deletePaymentPlan",
    status_code=204,
    summary="Delete an instalment (soft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_payment_plan(
    contract_id: uuid.UUID, plan_id: uuid.UUID, principal: Caller, session: Session
) -> Response:
    """Only an instalment no payment was allocated to (else 409 `plan_has_payments`)."""
    await plans.delete_plan(session, principal, contract_id, plan_id)
    return Response(status_code=204)
