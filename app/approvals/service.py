"""Approval flows (审批流) and the approval engine.

A record's package submits it (`submit`): the company's active flow of that kind is resolved
into steps and approvers now (`approval_approvers`, the steps into `approvals.steps`), so a
later change of the flow or the org chart changes no pending approval. Each decision is a
conditional UPDATE of the deciding approver's row and of the approval at the version and step
that was read: of concurrent decisions on one step exactly one wins (409 for the other). When
an approval ends, the record's package moves the record through its `ApprovalOutcome` (from
`app.composition.APPROVAL_OUTCOMES`, by `record_type`), in the same transaction.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam, exists, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals import errors, rules
from app.approvals.models import Approval, ApprovalAction, ApprovalApprover, ApprovalFlow
from app.approvals.outcomes import ApprovalOutcome
from app.approvals.schemas import FlowCreate, FlowUpdate
from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import field_issue, forbidden, not_found, validation_failed
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import customer_visibility
from app.customers.models import Customer
from app.db import rowcount, savepoint
from app.notifications.inbox.service import notify
from app.notifications.webhooks.service import enqueue_event
from app.org.models import Department, User

# ---------------------------------------------------------------------------------------
# Flows
# ---------------------------------------------------------------------------------------

# Flow writes of one kind in one company take turns: "one active flow per kind" is then a
# deactivate-then-write that two admins cannot interleave (the unique index stays the guard).
_FLOW_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")

_DEACTIVATE_OTHERS = (
    update(ApprovalFlow)
    .where(
        ApprovalFlow.company_id == bindparam("b_company_id", type_=Uuid()),
        ApprovalFlow.kind == bindparam("b_kind"),
        ApprovalFlow.active.is_(True),
        ApprovalFlow.deleted_at.is_(None),
        ApprovalFlow.id != bindparam("b_keep_id", type_=Uuid()),
    )
    .values(
        active=False,
        version=ApprovalFlow.version + 1,
        updated_at=bindparam("at"),
    )
    .execution_options(synchronize_session=False)
)

_ACTIVE_USERS = select(User.id).where(
    User.company_id == bindparam("company_id", type_=Uuid()),
    User.is_active.is_(True),
    User.id == any_(bindparam("user_ids", type_=ARRAY(Uuid()))),
)


async def _lock_kind(session: AsyncSession, company_id: uuid.UUID, kind: str) -> None:
    await session.execute(_FLOW_LOCK, {"key": f"approval-flows:{company_id}:{kind}"})


async def _check_named_users(
    session: AsyncSession, company_id: uuid.UUID, steps: Sequence[Mapping[str, Any]]
) -> None:
    """422 `unknown_approver` naming every listed user who is not an active user of the
    company (another company's user too: nothing tells them apart)."""
    named = [
        (step_index, user_index, uuid.UUID(str(user_id)))
        for step_index, step in enumerate(steps)
        if step["approvers"]["type"] == "users"
        for user_index, user_id in enumerate(step["approvers"]["user_ids"])
    ]
    if not named:
        return
    found = set(
        (
            await session.execute(
                _ACTIVE_USERS,
                {"company_id": company_id, "user_ids": list({u for _, _, u in named})},
            )
        ).scalars()
    )
    issues = [
        field_issue(
            ("body", "steps", step_index, "approvers", "user_ids", user_index),
            "not an active user of your company",
            "unknown_approver",
        )
        for step_index, user_index, user_id in named
        if user_id not in found
    ]
    if issues:
        raise errors.unknown_approver(issues)


def _steps_json(steps: Sequence[Any]) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json") for step in steps]


async def create_flow(
    session: AsyncSession, principal: Principal, data: FlowCreate
) -> tuple[ApprovalFlow, bool]:
    """A flow (admin); an active one replaces the kind's active flow, which is deactivated in
    the same transaction. A retry with the same id and body answers the flow made."""
    digest = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        ApprovalFlow,
        data.id,
        digest,
        lambda row: row.company_id == principal.company_id,
    )
    if existing is not None:
        return existing, False
    steps = _steps_json(data.steps)
    await _check_named_users(session, principal.company_id, steps)
    flow_id = data.id or uuid.uuid4()
    at = now()
    await _lock_kind(session, principal.company_id, data.kind)
    if data.active:
        await session.execute(
            _DEACTIVATE_OTHERS,
            {
                "b_company_id": principal.company_id,
                "b_kind": data.kind,
                "b_keep_id": flow_id,
                "at": at,
            },
        )
    flow = ApprovalFlow(
        id=flow_id,
        company_id=principal.company_id,
        kind=data.kind,
        name=data.name,
        steps=steps,
        threshold=data.threshold,
        active=data.active,
        request_hash=digest,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(flow)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    return flow, True


async def list_flows(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    kind: str | None = None,
    active: bool | None = None,
) -> tuple[list[ApprovalFlow], str | None]:
    """The company's flows (not deleted), newest first."""
    stmt = select(ApprovalFlow).where(
        ApprovalFlow.company_id == principal.company_id, ApprovalFlow.deleted_at.is_(None)
    )
    if kind is not None:
        stmt = stmt.where(ApprovalFlow.kind == kind)
    if active is not None:
        stmt = stmt.where(ApprovalFlow.active.is_(active))
    stmt = paginate(stmt, ApprovalFlow.created_at, ApprovalFlow.id, params)
    return make_page(list((await session.execute(stmt)).scalars()), params)


async def get_flow(
    session: AsyncSession, principal: Principal, flow_id: uuid.UUID, *, lock: bool = False
) -> ApprovalFlow:
    """One flow of the caller's company, or 404."""
    stmt = select(ApprovalFlow).where(
        ApprovalFlow.id == flow_id,
        ApprovalFlow.company_id == principal.company_id,
        ApprovalFlow.deleted_at.is_(None),
    )
    if lock:
        stmt = stmt.with_for_update()
    flow = await session.scalar(stmt)
    if flow is None:
        raise not_found("approval flow")
    return flow


async def update_flow(
    session: AsyncSession,
    principal: Principal,
    flow_id: uuid.UUID,
    data: FlowUpdate,
    if_match: str | None,
) -> ApprovalFlow:
    """Name, steps, threshold, active (If-Match). Approvals already submitted keep the steps
    they resolved; activating deactivates the kind's other active flow."""
    flow = await get_flow(session, principal, flow_id)
    await _lock_kind(session, principal.company_id, flow.kind)
    flow = await get_flow(session, principal, flow_id, lock=True)
    check_if_match(if_match, flow.version)
    fields = data.model_fields_set
    if "threshold" in fields:
        if flow.kind != "discount" and data.threshold is not None:
            raise validation_failed(
                "Only a discount flow has a threshold.", loc=("body", "threshold")
            )
        if flow.kind == "discount" and data.threshold is None:
            raise validation_failed("A discount flow needs a threshold.", loc=("body", "threshold"))
        flow.threshold = data.threshold
    for name in ("name", "steps", "active"):
        if name in fields and getattr(data, name) is None:
            raise validation_failed(f"`{name}` may not be null.", loc=("body", name))
    at = now()
    if data.steps is not None:
        steps = _steps_json(data.steps)
        await _check_named_users(session, principal.company_id, steps)
        flow.steps = steps
    if data.name is not None:
        flow.name = data.name
    if data.active is not None:
        if data.active and not flow.active:
            await session.execute(
                _DEACTIVATE_OTHERS,
                {
                    "b_company_id": principal.company_id,
                    "b_kind": flow.kind,
                    "b_keep_id": flow.id,
                    "at": at,
                },
            )
        flow.active = data.active
    flow.version += 1
    flow.updated_at = at
    await session.flush()
    return flow


async def delete_flow(session: AsyncSession, principal: Principal, flow_id: uuid.UUID) -> None:
    """Soft delete: new submissions no longer follow it; pending approvals go on."""
    flow = await get_flow(session, principal, flow_id, lock=True)
    at = now()
    flow.deleted_at = at
    flow.active = False
    flow.version += 1
    flow.updated_at = at
    await session.flush()


_ACTIVE_FLOW = select(ApprovalFlow).where(
    ApprovalFlow.company_id == bindparam("company_id", type_=Uuid()),
    ApprovalFlow.kind == bindparam("kind"),
    ApprovalFlow.active.is_(True),
    ApprovalFlow.deleted_at.is_(None),
)


async def active_flow(
    session: AsyncSession, company_id: uuid.UUID, kind: str
) -> ApprovalFlow | None:
    """The company's active flow of `kind` (a discount flow's `threshold` is on it)."""
    result = await session.execute(_ACTIVE_FLOW, {"company_id": company_id, "kind": kind})
    return result.scalar_one_or_none()


# ---------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------

# The people a flow may resolve to, in one read: the company's active admins, the active
# managers of the submitter's department chain, the named users that are active, and the
# submitter (for their name).
_PEOPLE = (
    select(User.id, User.role, User.department_id, User.name)
    .where(
        User.company_id == bindparam("company_id", type_=Uuid()),
        or_(
            User.id == bindparam("submitter_id", type_=Uuid()),
            User.is_active.is_(True)
            & or_(
                User.role == "admin",
                (User.role == "manager")
                & (User.department_id == any_(bindparam("chain", type_=ARRAY(Uuid())))),
                User.id == any_(bindparam("named", type_=ARRAY(Uuid()))),
            ),
        ),
    )
    .order_by(User.created_at, User.id)
)


def department_chain(path: str | None) -> list[uuid.UUID]:
    """A department's materialised path ('/root/…/own/') as ids, own department first."""
    if not path:
        return []
    return [uuid.UUID(part) for part in reversed(path.strip("/").split("/")) if part]


@dataclass(frozen=True)
class _People:
    facts: rules.Facts
    submitter_name: str


async def _people(
    session: AsyncSession, principal: Principal, steps: Sequence[Mapping[str, Any]]
) -> _People:
    chain = department_chain(principal.department_path)
    named = list(
        {
            uuid.UUID(str(user_id))
            for step in steps
            if step["approvers"]["type"] == "users"
            for user_id in step["approvers"]["user_ids"]
        }
    )
    rows = (
        await session.execute(
            _PEOPLE,
            {
                "company_id": principal.company_id,
                "submitter_id": principal.user_id,
                "chain": chain,
                "named": named,
            },
        )
    ).all()
    in_chain = set(chain)
    named_set = set(named)
    managers: dict[uuid.UUID, list[uuid.UUID]] = {}
    admins: list[uuid.UUID] = []
    active_named: set[uuid.UUID] = set()
    submitter_name = ""
    for row in rows:
        if row.id == principal.user_id:
            submitter_name = row.name  # the caller: active (their token was just checked)
        if row.role == "manager" and row.department_id in in_chain:
            managers.setdefault(row.department_id, []).append(row.id)
        if row.role == "admin":
            admins.append(row.id)
        if row.id in named_set:
            active_named.add(row.id)
    facts = rules.Facts(
        submitter_id=principal.user_id,
        chain=chain,
        managers=managers,
        admins=admins,
        active_users=frozenset(active_named),
    )
    return _People(facts=facts, submitter_name=submitter_name)


def _deep_link(approval_id: uuid.UUID) -> str:
    return f"outfield://approvals/{approval_id}"


def _action(
    approval: Approval,
    at: datetime,
    action: str,
    *,
    step: int | None = None,
    actor_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> ApprovalAction:
    return ApprovalAction(
        id=uuid.uuid4(),
        company_id=approval.company_id,
        approval_id=approval.id,
        step=step,
        action=action,
        actor_id=actor_id,
        reason=reason,
        at=at,
    )


async def _notify_requested(
    session: AsyncSession,
    approval: Approval,
    step: int,
    user_ids: Sequence[uuid.UUID],
    submitter_name: str,
) -> None:
    await notify(
        session,
        company_id=approval.company_id,
        user_ids=user_ids,
        kind="approval_requested",
        params={
            "actor": submitter_name,
            "title": approval.title,
            "amount": None if approval.amount is None else str(approval.amount),
            "approval_id": str(approval.id),
            "record_type": approval.record_type,
            "record_id": str(approval.record_id),
            "step": step,
        },
        dedupe_key=f"approval_requested:{approval.id}:{step}",
        subject_type="approval",
        subject_id=approval.id,
        customer_id=approval.customer_id,
        deep_link=_deep_link(approval.id),
    )


_DECISION_ZH = {"approved": "通过", "rejected": "驳回", "withdrawn": "撤回"}


async def _notify_decided(
    session: AsyncSession,
    approval: Approval,
    user_ids: Sequence[uuid.UUID],
    *,
    decision: str,
    step: int | None,
    actor: Principal,
) -> None:
    actor_name = await session.scalar(select(User.name).where(User.id == actor.user_id))
    await notify(
        session,
        company_id=approval.company_id,
        user_ids=user_ids,
        kind="approval_decided",
        params={
            "actor": actor_name or "",
            "title": approval.title,
            "decision": decision,
            "decision_zh": _DECISION_ZH[decision],
            "approval_id": str(approval.id),
            "record_type": approval.record_type,
            "record_id": str(approval.record_id),
            "step": step,
            "final": approval.status != "pending",
        },
        dedupe_key=f"approval_decided:{approval.id}:{step}:{decision}",
        subject_type="approval",
        subject_id=approval.id,
        customer_id=approval.customer_id,
        actor_id=actor.user_id,
        deep_link=_deep_link(approval.id),
    )


async def _ended(
    session: AsyncSession,
    actor: Principal,
    approval: Approval,
    outcomes: Mapping[str, ApprovalOutcome],
) -> None:
    """The approval has ended (its row says how): the `approval.decided` webhook, then the
    record's package moves the record."""
    await enqueue_event(
        session,
        approval.company_id,
        "approval.decided",
        {
            "approval_id": approval.id,
            "kind": approval.kind,
            "record_type": approval.record_type,
            "record_id": approval.record_id,
            "customer_id": approval.customer_id,
            "status": approval.status,
            "decided_by": actor.user_id,
            "reason": approval.reason,
        },
        occurred_at=approval.decided_at,
    )
    outcome = outcomes.get(approval.record_type)
    if outcome is None:
        raise LookupError(f"no approval outcome for record type {approval.record_type!r}")
    handler = {
        "approved": outcome.approved,
        "rejected": outcome.rejected,
        "withdrawn": outcome.withdrawn,
    }[approval.status]
    await handler(session, actor, approval)


def _default_outcomes() -> Mapping[str, ApprovalOutcome]:
    # Imported here: the composition imports the record packages, which import this module.
    from app.composition import APPROVAL_OUTCOMES

    return APPROVAL_OUTCOMES


async def submit(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str,
    record_type: str,
    record_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    title: str,
    amount: Decimal | None = None,
    outcomes: Mapping[str, ApprovalOutcome] | None = None,
) -> Approval | None:
    """Start an approval of the record through the company's active flow of `kind`.

    None when the company has no active flow of that kind: the caller proceeds without
    approval. 409 `record_locked_for_approval` when the record already waits in one.
    Otherwise each step's approvers are resolved now; a step nobody can decide, or one the
    submitter would decide, is skipped. When every step is skipped the approval is approved
    at once and the outcome's `approved` has already run when this returns (the returned
    approval's `status` is then `approved`): a caller sets its record's waiting state
    *before* calling this. Else the approval is `pending` at its first live step and that
    step's approvers are notified. `outcomes` defaults to `app.composition.APPROVAL_OUTCOMES`.
    """
    flow = await active_flow(session, principal.company_id, kind)
    if flow is None:
        return None
    waiting = await pending_for(session, principal.company_id, record_type, record_id)
    if waiting is not None:
        raise errors.record_locked_for_approval(str(waiting.id))
    people = await _people(session, principal, flow.steps)
    resolved = rules.resolve_steps(flow.steps, people.facts)
    steps = [step.as_json() for step in resolved]
    first = rules.next_live_step(steps, None)
    at = now()
    approval = Approval(
        id=uuid.uuid4(),
        company_id=principal.company_id,
        flow_id=flow.id,
        kind=kind,
        record_type=record_type,
        record_id=record_id,
        customer_id=customer_id,
        title=title[:300],
        amount=amount,
        submitter_id=principal.user_id,
        status="pending" if first is not None else "approved",
        steps=steps,
        current_step=first,
        decided_at=None if first is not None else at,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(approval)
    except IntegrityError as exc:  # a concurrent submission of the same record won
        waiting = await pending_for(session, principal.company_id, record_type, record_id)
        raise errors.record_locked_for_approval(str(waiting.id if waiting else "")) from exc
    # The history, in order (a microsecond apart: one moment, a stable order).
    history = [_action(approval, at, "submit", actor_id=principal.user_id)]
    for index, step in enumerate(resolved):
        if step.skipped:
            tick = at + timedelta(microseconds=len(history))
            history.append(_action(approval, tick, "skip", step=index, reason=step.skip_reason))
    session.add_all(history)
    session.add_all(
        ApprovalApprover(
            approval_id=approval.id,
            step=index,
            user_id=user_id,
            company_id=principal.company_id,
        )
        for index, step in enumerate(resolved)
        if not step.skipped
        for user_id in step.approver_ids
    )
    await session.flush()
    if first is None:
        await _ended(session, principal, approval, outcomes or _default_outcomes())
    else:
        await _notify_requested(
            session, approval, first, resolved[first].approver_ids, people.submitter_name
        )
    await session.flush()
    return approval


_PENDING_FOR = select(Approval).where(
    Approval.company_id == bindparam("company_id", type_=Uuid()),
    Approval.record_type == bindparam("record_type"),
    Approval.record_id == bindparam("record_id", type_=Uuid()),
    Approval.status == "pending",
)


async def pending_for(
    session: AsyncSession, company_id: uuid.UUID, record_type: str, record_id: uuid.UUID
) -> Approval | None:
    """The record's pending approval, if any (a record waits in one at a time)."""
    result = await session.execute(
        _PENDING_FOR,
        {"company_id": company_id, "record_type": record_type, "record_id": record_id},
    )
    return result.scalar_one_or_none()


_SUBMITTER = (
    select(User.id, User.company_id, User.role, User.department_id, Department.path, User.locale)
    .outerjoin(
        Department,
        (Department.company_id == User.company_id) & (Department.id == User.department_id),
    )
    .where(
        User.company_id == bindparam("company_id", type_=Uuid()),
        User.id == bindparam("user_id", type_=Uuid()),
    )
)


async def submitter_of(session: AsyncSession, approval: Approval) -> Principal:
    """The approval's submitter as a Principal: a record that goes on to its next approval
    when this one ends (a discount approval, then the contract approval) is submitted again
    in the submitter's name — their managers, not the deciding approver's."""
    row = (
        await session.execute(
            _SUBMITTER, {"company_id": approval.company_id, "user_id": approval.submitter_id}
        )
    ).one()
    return Principal(row[0], row[1], row[2], row[3], row[4], row[5])


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def approval_visibility(principal: Principal) -> Any:
    """Who sees an approval: the submitter, the approvers of any of its steps, whoever sees
    the record's customer, and admins (the whole company)."""
    base = Approval.company_id == principal.company_id
    if principal.is_admin:
        return base
    approver = exists().where(
        ApprovalApprover.company_id == Approval.company_id,
        ApprovalApprover.approval_id == Approval.id,
        ApprovalApprover.user_id == principal.user_id,
    )
    customer = exists().where(
        Customer.company_id == Approval.company_id,
        Customer.id == Approval.customer_id,
        customer_visibility(principal),
    )
    return base & ((Approval.submitter_id == principal.user_id) | approver | customer)


async def get_approval(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, *, fresh: bool = False
) -> Approval:
    """One approval the caller may see, or 404."""
    stmt = select(Approval).where(Approval.id == approval_id, approval_visibility(principal))
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    approval = await session.scalar(stmt)
    if approval is None:
        raise not_found("approval")
    return approval


async def list_approvals(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    role: str | None,
    status: str | None,
    record_type: str | None = None,
    record_id: uuid.UUID | None = None,
) -> tuple[list[Approval], str | None]:
    """Newest first. `approver`: pending approvals whose current step the caller is an
    approver of, and those the caller decided a step of; `submitter`: the caller's own
    submissions; neither: every approval the caller may see (with `record_type` and
    `record_id`: a record's approval history)."""
    stmt = select(Approval).where(Approval.company_id == principal.company_id)
    if role == "approver":
        stmt = stmt.where(
            exists().where(
                ApprovalApprover.company_id == Approval.company_id,
                ApprovalApprover.approval_id == Approval.id,
                ApprovalApprover.user_id == principal.user_id,
                ((Approval.status == "pending") & (ApprovalApprover.step == Approval.current_step))
                | ApprovalApprover.decision.is_not(None),
            )
        )
    elif role == "submitter":
        stmt = stmt.where(Approval.submitter_id == principal.user_id)
    else:
        stmt = stmt.where(approval_visibility(principal))
    if status is not None:
        stmt = stmt.where(Approval.status == status)
    if record_type is not None:
        stmt = stmt.where(Approval.record_type == record_type)
    if record_id is not None:
        stmt = stmt.where(Approval.record_id == record_id)
    stmt = paginate(stmt, Approval.created_at, Approval.id, params)
    return make_page(list((await session.execute(stmt)).scalars()), params)


@dataclass(frozen=True)
class ApproverRow:
    approval_id: uuid.UUID
    step: int
    user_id: uuid.UUID
    name: str
    decision: str | None
    decided_at: datetime | None


_APPROVERS = (
    select(
        ApprovalApprover.approval_id,
        ApprovalApprover.step,
        ApprovalApprover.user_id,
        User.name,
        ApprovalApprover.decision,
        ApprovalApprover.decided_at,
    )
    .join(
        User,
        (User.company_id == ApprovalApprover.company_id) & (User.id == ApprovalApprover.user_id),
    )
    .where(
        ApprovalApprover.company_id == bindparam("company_id", type_=Uuid()),
        ApprovalApprover.approval_id == any_(bindparam("ids", type_=ARRAY(Uuid()))),
    )
    .order_by(ApprovalApprover.step, User.created_at, User.id)
)

_NAMES = select(User.id, User.name).where(
    User.company_id == bindparam("company_id", type_=Uuid()),
    User.id == any_(bindparam("ids", type_=ARRAY(Uuid()))),
)


async def approvers_of(
    session: AsyncSession, company_id: uuid.UUID, approval_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ApproverRow]]:
    """The approvers (and their decisions) of each approval, by step."""
    found: dict[uuid.UUID, list[ApproverRow]] = {approval_id: [] for approval_id in approval_ids}
    if not approval_ids:
        return found
    rows = await session.execute(_APPROVERS, {"company_id": company_id, "ids": list(approval_ids)})
    for row in rows:
        found[row.approval_id].append(ApproverRow(*row))
    return found


async def names_of(
    session: AsyncSession, company_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Users' names by id (for the approvers of a step skipped as self approval)."""
    if not user_ids:
        return {}
    rows = await session.execute(_NAMES, {"company_id": company_id, "ids": list(set(user_ids))})
    return {row.id: row.name for row in rows}


async def actions_of(
    session: AsyncSession, company_id: uuid.UUID, approval_id: uuid.UUID
) -> list[ApprovalAction]:
    """An approval's history, oldest first."""
    rows = await session.execute(
        select(ApprovalAction)
        .where(ApprovalAction.company_id == company_id, ApprovalAction.approval_id == approval_id)
        .order_by(ApprovalAction.at, ApprovalAction.id)
    )
    return list(rows.scalars())


# ---------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------

_MY_SEAT = select(ApprovalApprover.decision).where(
    ApprovalApprover.company_id == bindparam("b_company_id", type_=Uuid()),
    ApprovalApprover.approval_id == bindparam("b_approval_id", type_=Uuid()),
    ApprovalApprover.step == bindparam("b_step"),
    ApprovalApprover.user_id == bindparam("b_user_id", type_=Uuid()),
)

_DECIDE_SEAT = (
    update(ApprovalApprover)
    .where(
        ApprovalApprover.company_id == bindparam("b_company_id", type_=Uuid()),
        ApprovalApprover.approval_id == bindparam("b_approval_id", type_=Uuid()),
        ApprovalApprover.step == bindparam("b_step"),
        ApprovalApprover.user_id == bindparam("b_user_id", type_=Uuid()),
        ApprovalApprover.decision.is_(None),
    )
    .values(decision=bindparam("new_decision"), decided_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)

_STEP_DECISIONS = select(ApprovalApprover.decision).where(
    ApprovalApprover.company_id == bindparam("b_company_id", type_=Uuid()),
    ApprovalApprover.approval_id == bindparam("b_approval_id", type_=Uuid()),
    ApprovalApprover.step == bindparam("b_step"),
)

# The approval moves only from the version and step that were read: of two decisions on one
# step, the second waits for the first's row lock, then matches nothing.
_MOVE = (
    update(Approval)
    .where(
        Approval.company_id == bindparam("b_company_id", type_=Uuid()),
        Approval.id == bindparam("b_approval_id", type_=Uuid()),
        Approval.version == bindparam("b_version"),
        Approval.current_step == bindparam("b_step"),
        Approval.status == "pending",
    )
    .values(
        status=bindparam("new_status"),
        current_step=bindparam("next_step"),
        decided_at=bindparam("new_decided_at"),
        reason=bindparam("new_reason"),
        version=Approval.version + 1,
        updated_at=bindparam("at"),
    )
    .returning(Approval.id)
    .execution_options(synchronize_session=False)
)

_WITHDRAW = (
    update(Approval)
    .where(
        Approval.company_id == bindparam("b_company_id", type_=Uuid()),
        Approval.id == bindparam("b_approval_id", type_=Uuid()),
        Approval.version == bindparam("b_version"),
        Approval.status == "pending",
    )
    .values(
        status="withdrawn",
        current_step=None,
        decided_at=bindparam("at"),
        version=Approval.version + 1,
        updated_at=bindparam("at"),
    )
    .returning(Approval.id)
    .execution_options(synchronize_session=False)
)

# A decision that lost the race to a sibling's on an `all` step looks again this many times.
_ATTEMPTS = 3


async def decide(
    session: AsyncSession,
    principal: Principal,
    approval_id: uuid.UUID,
    decision: str,
    note: str | None,
    outcomes: Mapping[str, ApprovalOutcome],
) -> Approval:
    """Approve (`note`: a comment) or reject (`note`: the reason) the current step.

    404 when the caller cannot see the approval; 409 `approval_not_pending` once it ended;
    403 for someone who is not an approver of the current step; 409
    `approval_already_decided` for one who decided it already; 409 `approval_changed` for
    the loser of concurrent decisions on the step. A rejection ends the approval (outcome
    `rejected`); an approved step moves it to the next live step, or ends it (outcome
    `approved`)."""
    at = now()
    keys = {"b_company_id": principal.company_id, "b_approval_id": approval_id}
    read_step: int | None = None
    for attempt in range(_ATTEMPTS):
        approval = await get_approval(session, principal, approval_id, fresh=True)
        step = approval.current_step
        if attempt > 0 and (approval.status != "pending" or step != read_step):
            raise errors.approval_changed()  # the step was decided by another meanwhile
        if approval.status != "pending" or step is None:
            raise errors.approval_not_pending(approval.status)
        read_step = step
        if attempt == 0:
            me = {**keys, "b_step": step, "b_user_id": principal.user_id}
            seat = (await session.execute(_MY_SEAT, me)).first()
            if seat is None:
                raise forbidden("You are not an approver of this step.")
            if seat.decision is not None:
                raise errors.approval_already_decided()
            seated = await session.execute(_DECIDE_SEAT, {**me, "new_decision": decision, "at": at})
            if rowcount(seated) == 0:  # the same approver, concurrently
                raise errors.approval_changed()
        decisions = list(
            (await session.execute(_STEP_DECISIONS, {**keys, "b_step": step})).scalars()
        )
        state = rules.step_state(approval.steps[step]["mode"], decisions)
        values: dict[str, Any] = {
            "new_status": "pending",
            "next_step": step,
            "new_decided_at": None,
            "new_reason": None,
        }
        if state == "rejected":
            values.update(new_status="rejected", next_step=None, new_decided_at=at, new_reason=note)
        elif state == "approved":
            following = rules.next_live_step(approval.steps, step)
            if following is None:
                values.update(new_status="approved", next_step=None, new_decided_at=at)
            else:
                values.update(next_step=following)
        moved = await session.execute(
            _MOVE, {**keys, **values, "b_version": approval.version, "b_step": step, "at": at}
        )
        if moved.first() is not None:
            break
    else:
        raise errors.approval_changed()
    session.add(
        _action(
            approval,
            at,
            "approve" if decision == "approved" else "reject",
            step=step,
            actor_id=principal.user_id,
            reason=note,
        )
    )
    await session.flush()
    approval = await get_approval(session, principal, approval_id, fresh=True)
    if state != "open":
        await _notify_decided(
            session,
            approval,
            [approval.submitter_id],
            decision=state,
            step=step,
            actor=principal,
        )
    if approval.status == "pending" and approval.current_step != step:
        assert approval.current_step is not None
        following_step = approval.current_step
        approver_ids = [uuid.UUID(u) for u in approval.steps[following_step]["approver_ids"]]
        submitter_name = await session.scalar(
            select(User.name).where(User.id == approval.submitter_id)
        )
        await _notify_requested(
            session, approval, following_step, approver_ids, submitter_name or ""
        )
    if approval.status != "pending":
        await _ended(session, principal, approval, outcomes)
    await session.flush()
    return approval


async def withdraw(
    session: AsyncSession,
    principal: Principal,
    approval_id: uuid.UUID,
    outcomes: Mapping[str, ApprovalOutcome],
) -> Approval:
    """The submitter takes a pending approval back (outcome `withdrawn`); the current step's
    approvers who have not decided are told. 403 for anyone else who sees it."""
    approval = await get_approval(session, principal, approval_id, fresh=True)
    if approval.submitter_id != principal.user_id:
        raise forbidden("Only the submitter may withdraw an approval.")
    if approval.status != "pending":
        raise errors.approval_not_pending(approval.status)
    step = approval.current_step
    at = now()
    moved = await session.execute(
        _WITHDRAW,
        {
            "b_company_id": principal.company_id,
            "b_approval_id": approval_id,
            "b_version": approval.version,
            "at": at,
        },
    )
    if moved.first() is None:
        raise errors.approval_changed()
    session.add(_action(approval, at, "withdraw", step=step, actor_id=principal.user_id))
    await session.flush()
    waiting = []
    if step is not None:
        rows = (await approvers_of(session, principal.company_id, [approval_id]))[approval_id]
        waiting = [r.user_id for r in rows if r.step == step and r.decision is None]
    approval = await get_approval(session, principal, approval_id, fresh=True)
    await _notify_decided(
        session, approval, waiting, decision="withdrawn", step=step, actor=principal
    )
    await _ended(session, principal, approval, outcomes)
    await session.flush()
    return approval
