"""Payment plans (回款计划): a contract's instalments. Their `paid` and `status` are derived
from the payments allocated to them (`app.money.ledger`), never stored.

Every change takes the contract's row lock first, so "Σ instalments ≤ contract amount" and
"not below what payments committed to it" are decided against a contract no payment or other
plan change is moving at the same time (a payment's conditional UPDATE takes the same lock).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals import errors as approval_errors
from app.approvals.service import pending_for
from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.customers.access import load_customer, subtree_user_ids
from app.db import savepoint
from app.money import errors, ledger
from app.money.models import Contract, PaymentAllocation, PaymentPlan
from app.money.plans.schemas import PlanCreate, PlanUpdate
from app.money.visibility import contract_visibility
from app.org.models import Company, User

CLOSED = ("completed", "terminated")


@dataclass(frozen=True)
class PlanRow:
    """An instalment with what the ledger derives for it."""

    plan: PaymentPlan
    paid: Decimal
    committed: Decimal
    status: ledger.InstalmentStatus

    @property
    def outstanding(self) -> Decimal:
        return max(self.plan.amount - self.paid, ledger.ZERO)


# --- the contract, for reading and for changing money on it ---------------------------------


async def visible_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, *, lock: bool = False
) -> Contract:
    """A contract the caller may see (optionally locked), or 404."""
    stmt = select(Contract).where(Contract.id == contract_id, contract_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Contract)
    contract = (await session.execute(stmt)).scalar_one_or_none()
    if contract is None:
        raise not_found("contract")
    return contract


async def may_edit(session: AsyncSession, principal: Principal, contract: Contract) -> bool:
    """Whoever may edit the contract: its owner, the customer's owner and collaborators, the
    managers above the contract's or the customer's owner, admins."""
    if principal.is_admin or contract.owner_id == principal.user_id:
        return True
    access = await load_customer(session, principal, contract.customer_id)
    if access.can_edit:
        return True
    if principal.is_manager and principal.department_path:
        above = await session.scalar(
            subtree_user_ids(principal).where(User.id == contract.owner_id)
        )
        return above is not None
    return False


async def editable_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID
) -> Contract:
    """The contract, locked, when the caller may change its instalments: 404 unseen, 403 not
    theirs to edit, 409 `record_locked_for_approval` while in approval, 409 `contract_locked`
    once completed or terminated."""
    contract = await visible_contract(session, principal, contract_id, lock=True)
    if not await may_edit(session, principal, contract):
        raise forbidden("Only the contract's team and their managers may change its plan.")
    if contract.status == "pending_approval":
        approval = await pending_for(session, contract.company_id, "contract", contract.id)
        raise approval_errors.record_locked_for_approval(str(approval.id) if approval else "")
    if contract.status in CLOSED:
        raise errors.contract_locked(f"A {contract.status} contract's plan cannot change.")
    return contract


async def company_today(session: AsyncSession, company_id: uuid.UUID) -> date:
    """Today in the company's time zone."""
    zone = await session.scalar(select(Company.time_zone).where(Company.id == company_id))
    return ledger.company_today(zone or "Asia/Shanghai")


# --- reads ---------------------------------------------------------------------------------


def _plans_statement(company_id: uuid.UUID, contract_id: uuid.UUID) -> Any:
    # Correlated per instalment (a contract has few): each sum is an index range on
    # ix_payment_allocations_plan, never the company's whole ledger.
    return (
        select(
            PaymentPlan,
            ledger.plan_paid_sql(PaymentPlan.id, PaymentPlan.company_id).label("paid"),
            ledger.plan_committed_sql(PaymentPlan.id, PaymentPlan.company_id).label("committed"),
        )
        .where(
            PaymentPlan.company_id == company_id,
            PaymentPlan.contract_id == contract_id,
            PaymentPlan.deleted_at.is_(None),
        )
        .order_by(PaymentPlan.due_date, PaymentPlan.id)
    )


async def _rows(
    session: AsyncSession, company_id: uuid.UUID, contract_id: uuid.UUID, today: date
) -> list[PlanRow]:
    result = await session.execute(_plans_statement(company_id, contract_id))
    return [
        PlanRow(
            plan, paid, committed, ledger.instalment_status(plan.amount, paid, plan.due_date, today)
        )
        for plan, paid, committed in result.all()
    ]


async def list_plans(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID
) -> tuple[Contract, list[PlanRow]]:
    """A visible contract's instalments by due date, with paid and status derived."""
    contract = await visible_contract(session, principal, contract_id)
    today = await company_today(session, principal.company_id)
    return contract, await _rows(session, principal.company_id, contract.id, today)


async def _plan_row(
    session: AsyncSession, company_id: uuid.UUID, contract_id: uuid.UUID, plan_id: uuid.UUID
) -> PlanRow:
    today = await company_today(session, company_id)
    for row in await _rows(session, company_id, contract_id, today):
        if row.plan.id == plan_id:
            return row
    raise not_found("payment plan")


# --- writes --------------------------------------------------------------------------------


async def _scheduled(
    session: AsyncSession, contract: Contract, *, without: uuid.UUID | None = None
) -> Decimal:
    """Σ of the contract's instalments (leaving out `without`)."""
    stmt = select(func.coalesce(func.sum(PaymentPlan.amount), literal(ledger.ZERO))).where(
        PaymentPlan.company_id == contract.company_id,
        PaymentPlan.contract_id == contract.id,
        PaymentPlan.deleted_at.is_(None),
    )
    if without is not None:
        stmt = stmt.where(PaymentPlan.id != without)
    return Decimal(await session.scalar(stmt) or 0)


def _check_total(total: Decimal, contract: Contract) -> None:
    if total > contract.amount:
        raise errors.plans_exceed_contract(f"{total:.2f}", f"{contract.amount:.2f}")


async def create_plan(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, data: PlanCreate
) -> tuple[PlanRow, bool]:
    """An instalment on a contract the caller may edit: (the row, created). A retry with the
    same id and body answers the same instalment."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        PaymentPlan,
        data.id,
        request_hash,
        lambda row: (
            row.company_id == principal.company_id
            and row.contract_id == contract_id
            and row.deleted_at is None
        ),
    )
    if existing is not None:
        await visible_contract(session, principal, contract_id)
        return await _plan_row(session, principal.company_id, contract_id, existing.id), False
    contract = await editable_contract(session, principal, contract_id)
    _check_total(await _scheduled(session, contract) + data.amount, contract)
    at = now()
    plan = PaymentPlan(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        contract_id=contract.id,
        due_date=data.due_date,
        amount=data.amount,
        note=data.note,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(plan)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    return await _plan_row(session, principal.company_id, contract.id, plan.id), True


async def _locked_plan(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, plan_id: uuid.UUID
) -> tuple[Contract, PaymentPlan]:
    contract = await editable_contract(session, principal, contract_id)
    plan = await session.scalar(
        select(PaymentPlan)
        .where(
            PaymentPlan.id == plan_id,
            PaymentPlan.company_id == principal.company_id,
            PaymentPlan.contract_id == contract.id,
            PaymentPlan.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if plan is None:
        raise not_found("payment plan")
    return contract, plan


async def update_plan(
    session: AsyncSession,
    principal: Principal,
    contract_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: PlanUpdate,
    if_match: str | None,
) -> PlanRow:
    """Move the due date, change the amount or the note (If-Match required). The amount may
    not go below what payments committed to it (422 `plan_below_allocated`), nor the total
    above the contract's (422 `plans_exceed_contract`)."""
    contract, plan = await _locked_plan(session, principal, contract_id, plan_id)
    check_if_match(if_match, plan.version)
    fields = data.model_fields_set
    if "amount" in fields and data.amount is not None and data.amount != plan.amount:
        committed = Decimal(
            await session.scalar(select(ledger.plan_committed_sql(plan.id, plan.company_id))) or 0
        )
        if data.amount < committed:
            raise errors.plan_below_allocated(f"{committed:.2f}")
        _check_total(await _scheduled(session, contract, without=plan.id) + data.amount, contract)
        plan.amount = data.amount
    if "due_date" in fields and data.due_date is not None:
        plan.due_date = data.due_date
    if "note" in fields:
        plan.note = data.note
    plan.version += 1
    plan.updated_at = now()
    await session.flush()
    return await _plan_row(session, principal.company_id, contract.id, plan.id)


async def delete_plan(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, plan_id: uuid.UUID
) -> None:
    """Soft delete of an instalment no payment was allocated to (else 409
    `plan_has_payments`)."""
    _, plan = await _locked_plan(session, principal, contract_id, plan_id)
    allocated = await session.scalar(
        select(
            exists().where(
                PaymentAllocation.company_id == plan.company_id,
                PaymentAllocation.plan_id == plan.id,
            )
        )
    )
    if allocated:
        raise errors.plan_has_payments()
    plan.deleted_at = now()
    plan.updated_at = plan.deleted_at
    await session.flush()
