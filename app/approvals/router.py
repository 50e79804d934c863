"""HTTP: approval flows (admin) and approvals (mine to decide, mine submitted)."""

import uuid

from fastapi import APIRouter, Query, Response

from app.approvals import service
from app.approvals.models import Approval, ApprovalAction, ApprovalFlow
from app.approvals.schemas import (
    ActionOut,
    ApprovalOut,
    ApprovalRole,
    ApprovalStatus,
    ApproveBody,
    ApproverOut,
    FlowCreate,
    FlowKind,
    FlowOut,
    FlowStep,
    FlowUpdate,
    RecordType,
    RejectBody,
    StepOut,
)
from app.composition import APPROVAL_OUTCOMES
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.strict import QueryBool
from app.deps import AdminCaller, Caller, Paging, Session

router = APIRouter()

FLOWS = "approval-flows"
APPROVALS = "approvals"


def flow_out(flow: ApprovalFlow) -> FlowOut:
    return FlowOut.model_validate(
        {
            "id": flow.id,
            "kind": flow.kind,
            "name": flow.name,
            "steps": [FlowStep.model_validate(step) for step in flow.steps],
            "threshold": flow.threshold,
            "active": flow.active,
            "version": flow.version,
            "created_at": flow.created_at,
            "updated_at": flow.updated_at,
        }
    )


def approval_out(
    approval: Approval,
    approvers: list[service.ApproverRow],
    names: dict[uuid.UUID, str],
    caller_id: uuid.UUID,
    actions: list[ApprovalAction] | None = None,
) -> ApprovalOut:
    steps = []
    for index, step in enumerate(approval.steps):
        seats = [row for row in approvers if row.step == index]
        if seats:
            listed = [ApproverOut.model_validate(row, from_attributes=True) for row in seats]
        else:  # a skipped step: who would have decided it
            listed = [
                ApproverOut(user_id=u, name=names.get(u, ""), decision=None, decided_at=None)
                for u in (uuid.UUID(raw) for raw in step.get("approver_ids", []))
            ]
        steps.append(
            StepOut(
                index=index,
                mode=step["mode"],
                approvers_rule=step.get("approvers", {}),
                skipped=bool(step.get("skipped")),
                skip_reason=step.get("skip_reason"),
                approvers=listed,
            )
        )
    can_decide = approval.status == "pending" and any(
        row.step == approval.current_step and row.user_id == caller_id and row.decision is None
        for row in approvers
    )
    return ApprovalOut.model_validate(
        {
            "id": approval.id,
            "flow_id": approval.flow_id,
            "kind": approval.kind,
            "record_type": approval.record_type,
            "record_id": approval.record_id,
            "customer_id": approval.customer_id,
            "title": approval.title,
            "amount": approval.amount,
            "submitter_id": approval.submitter_id,
            "status": approval.status,
            "current_step": approval.current_step,
            "can_decide": can_decide,
            "steps": steps,
            "reason": approval.reason,
            "decided_at": approval.decided_at,
            "actions": None
            if actions is None
            else [ActionOut.model_validate(action, from_attributes=True) for action in actions],
            "version": approval.version,
            "created_at": approval.created_at,
            "updated_at": approval.updated_at,
        }
    )


def _skipped_approver_ids(approvals: list[Approval]) -> list[uuid.UUID]:
    return [
        uuid.UUID(raw)
        for approval in approvals
        for step in approval.steps
        if step.get("skipped")
        for raw in step.get("approver_ids", [])
    ]


async def approvals_out(
    session: Session, caller: Caller, approvals: list[Approval]
) -> list[ApprovalOut]:
    """The approvals with their steps' approvers, in two reads for the whole page."""
    seats = await service.approvers_of(session, caller.company_id, [a.id for a in approvals])
    names = await service.names_of(session, caller.company_id, _skipped_approver_ids(approvals))
    return [approval_out(a, seats[a.id], names, caller.user_id) for a in approvals]


async def one_approval_out(session: Session, caller: Caller, approval: Approval) -> ApprovalOut:
    """One approval with its steps, approvers, decisions and history."""
    seats = await service.approvers_of(session, caller.company_id, [approval.id])
    names = await service.names_of(session, caller.company_id, _skipped_approver_ids([approval]))
    actions = await service.actions_of(session, caller.company_id, approval.id)
    return approval_out(approval, seats[approval.id], names, caller.user_id, actions)


# --- flows ----------------------------------------------------------------------------


@router.post(
    "/v1/approval-flows",
    status_code=201,
    response_model=FlowOut,
    operation_id="createApprovalFlow",
    tags=[FLOWS],
    summary="Create an approval flow",
    responses={
        200: {"model": FlowOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_flow(
    body: FlowCreate, response: Response, principal: AdminCaller, session: Session
) -> FlowOut:
    """Admins. One active flow per kind: an active new flow deactivates the kind's current
    one. `users` approvers must be active users of the company (422 `unknown_approver`)."""
    flow, created = await service.create_flow(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(flow.version)
    return flow_out(flow)


@router.get(
    "/v1/approval-flows",
    response_model=Page[FlowOut],
    operation_id="listApprovalFlows",
    tags=[FLOWS],
    summary="List approval flows",
    responses=problem_responses(401, 403, 422),
)
async def list_flows(
    *,
    params: Paging,
    kind: FlowKind | None = Query(None),
    active: QueryBool | None = Query(None),
    principal: AdminCaller,
    session: Session,
) -> Response:
    """Admins: the company's flows, newest first."""
    rows, next_cursor = await service.list_flows(
        session, principal, params, kind=kind, active=active
    )
    return json_response(Page[FlowOut](items=[flow_out(f) for f in rows], next_cursor=next_cursor))


@router.get(
    "/v1/approval-flows/{flow_id}",
    response_model=FlowOut,
    operation_id="getApprovalFlow",
    tags=[FLOWS],
    summary="Get an approval flow",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_flow(
    flow_id: uuid.UUID, response: Response, principal: AdminCaller, session: Session
) -> FlowOut:
    """Admins."""
    flow = await service.get_flow(session, principal, flow_id)
    response.headers["ETag"] = etag_for(flow.version)
    return flow_out(flow)


@router.patch(
    "/v1/approval-flows/{flow_id}",
    response_model=FlowOut,
    operation_id="updateApprovalFlow",
    tags=[FLOWS],
    summary="Edit an approval flow",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_flow(
    *,
    flow_id: uuid.UUID,
    body: FlowUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> FlowOut:
    """Admins; `If-Match` required. Applies to new submissions only: pending approvals keep
    the steps and approvers they resolved. Activating deactivates the kind's other flow."""
    flow = await service.update_flow(session, principal, flow_id, body, if_match)
    response.headers["ETag"] = etag_for(flow.version)
    return flow_out(flow)


@router.delete(
    "/v1/approval-flows/{flow_id}",
    status_code=204,
    operation_id="deleteApprovalFlow",
    tags=[FLOWS],
    summary="Delete an approval flow (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_flow(flow_id: uuid.UUID, principal: AdminCaller, session: Session) -> Response:
    """Admins. New submissions no longer follow it; pending approvals go on."""
    await service.delete_flow(session, principal, flow_id)
    return Response(status_code=204)


# --- approvals ------------------------------------------------------------------------


@router.get(
    "/v1/approvals",
    response_model=Page[ApprovalOut],
    operation_id="listApprovals",
    tags=[APPROVALS],
    summary="List approvals (mine to decide, mine submitted)",
    responses=problem_responses(401, 422),
)
async def list_approvals(
    *,
    params: Paging,
    role: ApprovalRole | None = Query(
        None,
        description="`approver`: pending ones whose current step you decide, and those you "
        "decided; `submitter`: yours; absent: every approval you may see.",
    ),
    status: ApprovalStatus | None = Query(None),
    record_type: RecordType | None = Query(None),
    record_id: uuid.UUID | None = Query(None, description="A record's approval history."),
    principal: Caller,
    session: Session,
) -> Response:
    """Newest first."""
    rows, next_cursor = await service.list_approvals(
        session,
        principal,
        params,
        role=role,
        status=status,
        record_type=record_type,
        record_id=record_id,
    )
    items = await approvals_out(session, principal, rows)
    return json_response(Page[ApprovalOut](items=items, next_cursor=next_cursor))


@router.get(
    "/v1/approvals/{approval_id}",
    response_model=ApprovalOut,
    operation_id="getApproval",
    tags=[APPROVALS],
    summary="Get an approval with its steps and history",
    responses=problem_responses(401, 404, 422),
)
async def get_approval(
    approval_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> ApprovalOut:
    """The submitter, any approver of any step, whoever sees the record's customer, and
    admins; 404 for anyone else."""
    approval = await service.get_approval(session, principal, approval_id)
    response.headers["ETag"] = etag_for(approval.version)
    return await one_approval_out(session, principal, approval)


@router.post(
    "/v1/approvals/{approval_id}/approve",
    response_model=ApprovalOut,
    operation_id="approveApproval",
    tags=[APPROVALS],
    summary="Approve the current step",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve(
    approval_id: uuid.UUID,
    body: ApproveBody,
    response: Response,
    principal: Caller,
    session: Session,
) -> ApprovalOut:
    """An approver of the current step (403 otherwise). `any`: this approval decides the
    step; `all`: once every approver has. The last step approved approves the record. 409
    `approval_not_pending`, `approval_already_decided`, or `approval_changed` (a concurrent
    decision won)."""
    approval = await service.decide(
        session, principal, approval_id, "approved", body.comment, APPROVAL_OUTCOMES
    )
    response.headers["ETag"] = etag_for(approval.version)
    return await one_approval_out(session, principal, approval)


@router.post(
    "/v1/approvals/{approval_id}/reject",
    response_model=ApprovalOut,
    operation_id="rejectApproval",
    tags=[APPROVALS],
    summary="Reject (the record returns to draft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reject(
    approval_id: uuid.UUID,
    body: RejectBody,
    response: Response,
    principal: Caller,
    session: Session,
) -> ApprovalOut:
    """An approver of the current step, with a reason: ends the approval at once."""
    approval = await service.decide(
        session, principal, approval_id, "rejected", body.reason, APPROVAL_OUTCOMES
    )
    response.headers["ETag"] = etag_for(approval.version)
    return await one_approval_out(session, principal, approval)


@router.post(
    "/v1/approvals/{approval_id}/withdraw",
    response_model=ApprovalOut,
    operation_id="withdrawApproval",
    tags=[APPROVALS],
    summary="Withdraw a pending approval",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def withdraw(
    approval_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> ApprovalOut:
    """The submitter only, while pending (409 `approval_not_pending` after)."""
    approval = await service.withdraw(session, principal, approval_id, APPROVAL_OUTCOMES)
    response.headers["ETag"] = etag_for(approval.version)
    return await one_approval_out(session, principal, approval)
