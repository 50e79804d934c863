"""Payments (回款): record, confirm, reverse. Money is never deleted nor its amount edited.

* Recording is decided in the database: one conditional `UPDATE contracts SET committed =
  committed + :amount WHERE … AND committed + :amount <= amount` (else 422
  `payment_exceeds_outstanding`), so concurrent payments on one contract never over-collect.
  The payment is then split over the contract's instalments (`ledger.allocate`) while that
  UPDATE holds the contract's row lock.
* Confirming: with the company's active `payment` flow the payment goes to approval
  (`pending_approval`) and the approval's end confirms it (`approval_outcome`); without one an
  admin confirms it at once (`contracts.received` += amount).
* Reversing writes a reversal row (negative amount, `reverses_id`, confirmed iff the original
  was) with the negative allocations, marks the original `reversed` and moves the contract's
  totals back in one UPDATE; a unique index on `reverses_id` refuses a second reversal.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    Uuid,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.approvals import errors as approval_errors
from app.approvals import service as approvals
from app.approvals.models import Approval
from app.approvals.outcomes import ApprovalOutcome
from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.errors import forbidden, not_found, validation_failed
from app.core.pagination import PageParams, make_page, paginate
from app.customers.models import Customer
from app.db import AnyRow, savepoint, table_of
from app.feed.publish import actor_name
from app.fieldwork.files import service as files
from app.money import errors, ledger
from app.money.models import MONEY, Contract, Payment, PaymentAllocation, PaymentPlan
from app.money.payments.schemas import PaymentCreate
from app.money.plans import service as plans
from app.money.visibility import payment_visibility
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event

RECORD_TYPE = "payment"  # approvals.record_type and attachments.record_type
_C = table_of(Contract).c
_P = table_of(Payment).c

# Recording: what may still be committed is decided by the row the UPDATE locks.
_COMMIT = (
    update(table_of(Contract))
    .where(
        _C.company_id == bindparam("company", type_=Uuid()),
        _C.id == bindparam("contract_id", type_=Uuid()),
        _C.status == "active",
        _C.deleted_at.is_(None),
        _C.committed + bindparam("add", type_=MONEY) <= _C.amount,
    )
    .values(committed=_C.committed + bindparam("add", type_=MONEY))
    .returning(_C.amount, _C.committed, _C.received)
)
# Confirmation and reversal: both running totals move in one statement.
_TOTALS = (
    update(table_of(Contract))
    .where(
        _C.company_id == bindparam("company", type_=Uuid()),
        _C.id == bindparam("contract_id", type_=Uuid()),
    )
    .values(
        committed=_C.committed + bindparam("committed_delta", type_=MONEY),
        received=_C.received + bindparam("received_delta", type_=MONEY),
    )
    .returning(_C.id)
)
# Confirming a payment that is recorded (no flow) or in approval (the flow's end).
_CONFIRM = (
    update(table_of(Payment))
    .where(
        _P.company_id == bindparam("company", type_=Uuid()),
        _P.id == bindparam("payment_id", type_=Uuid()),
        _P.reverses_id.is_(None),
        _P.status.in_(("recorded", "pending_approval")),
    )
    .values(
        status="confirmed",
        confirmed_by=bindparam("actor", type_=Uuid()),
        confirmed_at=bindparam("at", type_=DateTime(timezone=True)),
        updated_at=bindparam("at", type_=DateTime(timezone=True)),
        version=_P.version + 1,
    )
    .returning(_P.contract_id, _P.amount)
)
_STATUS = (
    update(table_of(Payment))
    .where(
        _P.company_id == bindparam("company", type_=Uuid()),
        _P.id == bindparam("payment_id", type_=Uuid()),
        _P.status == bindparam("from_status", type_=String()),
    )
    .values(
        status=bindparam("to_status", type_=String()),
        updated_at=bindparam("at", type_=DateTime(timezone=True)),
        version=_P.version + 1,
    )
    .returning(_P.id)
)
_ALLOCATE = text("""
INSERT INTO payment_allocations (payment_id, plan_id, company_id, amount)
SELECT :payment_id, u.plan_id, :company_id, u.amount
FROM unnest(CAST(:plan_ids AS uuid[]), CAST(:amounts AS numeric[])) AS u(plan_id, amount)
""")
_ALLOCATE_REVERSAL = text("""
INSERT INTO payment_allocations (payment_id, plan_id, company_id, amount)
SELECT :reversal_id, a.plan_id, a.company_id, -a.amount
FROM payment_allocations a
WHERE a.company_id = :company_id AND a.payment_id = :payment_id
""")

# Reads: the payment with what the API shows of its contract.
# (An alias: `payment_visibility` correlates on the contracts table itself.)
_OF = aliased(Contract, name="of_contract")
READ_BASE = (
    select(Payment, _OF.customer_id, _OF.number)
    .join(_OF, (_OF.company_id == Payment.company_id) & (_OF.id == Payment.contract_id))
    .execution_options(populate_existing=True)  # after the Core UPDATEs of this module
)


def _subject(payment: Payment, customer_id: uuid.UUID, number: str) -> dict[str, Any]:
    """A payment in webhook payloads."""
    return {
        "id": str(payment.id),
        "contract_id": str(payment.contract_id),
        "contract_number": number,
        "customer_id": str(customer_id),
        "plan_id": str(payment.plan_id) if payment.plan_id else None,
        "reverses_id": str(payment.reverses_id) if payment.reverses_id else None,
        "amount": f"{payment.amount:.2f}",
        "received_on": payment.received_on.isoformat(),
        "method": payment.method,
        "status": payment.status,
        "recorded_by": str(payment.recorded_by),
        "confirmed_by": str(payment.confirmed_by) if payment.confirmed_by else None,
        "confirmed_at": payment.confirmed_at,
        "reverse_reason": payment.reverse_reason,
    }


# --- reads ---------------------------------------------------------------------------------


async def get_row(session: AsyncSession, principal: Principal, payment_id: uuid.UUID) -> AnyRow:
    """(Payment, customer_id, number) of a visible payment, or 404."""
    row = (
        await session.execute(
            READ_BASE.where(Payment.id == payment_id, payment_visibility(principal))
        )
    ).first()
    if row is None:
        raise not_found("payment")
    return row


async def list_payments(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    contract_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    status: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> tuple[list[AnyRow], str | None]:
    """Visible payments (reversals included), newest first."""
    stmt = READ_BASE.where(payment_visibility(principal))
    if contract_id is not None:
        stmt = stmt.where(Payment.contract_id == contract_id)
    if customer_id is not None:
        stmt = stmt.where(_OF.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(Payment.status == status)
    if received_from is not None:
        stmt = stmt.where(Payment.received_on >= received_from)
    if received_to is not None:
        stmt = stmt.where(Payment.received_on <= received_to)
    rows = list(
        (await session.execute(paginate(stmt, Payment.created_at, Payment.id, params))).all()
    )
    return make_page(rows, params, key=lambda row: (row[0].created_at, row[0].id))


async def allocations_for(
    session: AsyncSession, company_id: uuid.UUID, payment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, Decimal]]]:
    """(plan_id, amount) of each payment's allocations, by the instalments' due date."""
    if not payment_ids:
        return {}
    rows = await session.execute(
        select(PaymentAllocation.payment_id, PaymentAllocation.plan_id, PaymentAllocation.amount)
        .join(
            PaymentPlan,
            (PaymentPlan.company_id == PaymentAllocation.company_id)
            & (PaymentPlan.id == PaymentAllocation.plan_id),
        )
        .where(
            PaymentAllocation.company_id == company_id,
            PaymentAllocation.payment_id.in_(payment_ids),
        )
        .order_by(PaymentAllocation.payment_id, PaymentPlan.due_date, PaymentPlan.id)
    )
    out: dict[uuid.UUID, list[tuple[uuid.UUID, Decimal]]] = {}
    for payment_id, plan_id, amount in rows:
        out.setdefault(payment_id, []).append((plan_id, amount))
    return out


# --- record --------------------------------------------------------------------------------


async def _open_instalments(session: AsyncSession, contract: Contract) -> list[ledger.Instalment]:
    committed = ledger.plan_committed_sql(PaymentPlan.id, PaymentPlan.company_id)
    rows = await session.execute(
        select(PaymentPlan.id, PaymentPlan.due_date, PaymentPlan.amount, committed).where(
            PaymentPlan.company_id == contract.company_id,
            PaymentPlan.contract_id == contract.id,
            PaymentPlan.deleted_at.is_(None),
        )
    )
    return [ledger.Instalment(row[0], row[1], row[2], Decimal(row[3])) for row in rows]


async def record_payment(
    session: AsyncSession, principal: Principal, data: PaymentCreate
) -> tuple[AnyRow, bool]:
    """A payment on an active contract the caller may edit: (the read row, created)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Payment,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.recorded_by == principal.user_id,
    )
    if existing is not None:
        return await get_row(session, principal, existing.id), False
    contract = await plans.visible_contract(session, principal, data.contract_id)
    if not await plans.may_edit(session, principal, contract):
        raise forbidden("Only the contract's team and their managers record its payments.")
    if contract.status != "active":
        raise errors.contract_not_payable(contract.status)
    if data.received_on > await plans.company_today(session, principal.company_id):
        raise validation_failed(
            "A payment cannot be received after today.", loc=("body", "received_on")
        )
    if data.plan_id is not None:
        known = await session.scalar(
            select(PaymentPlan.id).where(
                PaymentPlan.id == data.plan_id,
                PaymentPlan.company_id == principal.company_id,
                PaymentPlan.contract_id == contract.id,
                PaymentPlan.deleted_at.is_(None),
            )
        )
        if known is None:
            raise validation_failed("Not an instalment of this contract.", loc=("body", "plan_id"))
    at = now()
    payment = Payment(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        contract_id=contract.id,
        plan_id=data.plan_id,
        reverses_id=None,
        amount=data.amount,
        received_on=data.received_on,
        method=data.method,
        note=data.note,
        attachment_ids=list(dict.fromkeys(data.attachment_ids)),
        status="recorded",
        recorded_by=principal.user_id,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(payment)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    committed = (
        await session.execute(
            _COMMIT,
            {"company": contract.company_id, "contract_id": contract.id, "add": data.amount},
        )
    ).first()
    if committed is None:
        await session.refresh(contract)
        if contract.status != "active":
            raise errors.contract_not_payable(contract.status)
        raise errors.payment_exceeds_outstanding(f"{contract.amount - contract.committed:.2f}")
    shares = ledger.allocate(data.amount, await _open_instalments(session, contract), data.plan_id)
    if shares:
        await session.execute(
            _ALLOCATE,
            {
                "payment_id": payment.id,
                "company_id": principal.company_id,
                "plan_ids": [plan_id for plan_id, _ in shares],
                "amounts": [amount for _, amount in shares],
            },
        )
    await files.attach_files(
        session, principal, data.attachment_ids, RECORD_TYPE, payment.id, field="attachment_ids"
    )
    customer_name = await session.scalar(
        select(Customer.name).where(
            Customer.company_id == contract.company_id, Customer.id == contract.customer_id
        )
    )
    await enqueue_event(
        session,
        principal.company_id,
        "payment.recorded",
        _subject(payment, contract.customer_id, contract.number),
        occurred_at=at,
    )
    if contract.owner_id != principal.user_id:
        await notifications.notify(
            session,
            company_id=principal.company_id,
            user_ids=[contract.owner_id],
            kind="payment_recorded",
            params={
                "actor": await actor_name(session, principal.user_id),
                "customer": customer_name,
                "number": contract.number,
                "amount": f"{data.amount:.2f}",
            },
            dedupe_key=f"payment_recorded:{payment.id}",
            subject_type=RECORD_TYPE,
            subject_id=payment.id,
            customer_id=contract.customer_id,
            actor_id=principal.user_id,
        )
    await session.flush()
    return await get_row(session, principal, payment.id), True


# --- confirm -------------------------------------------------------------------------------


async def _locked_payment(
    session: AsyncSession, principal: Principal, payment_id: uuid.UUID
) -> tuple[Payment, Contract]:
    payment = await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id, payment_visibility(principal))
        .with_for_update(of=Payment)
    )
    if payment is None:
        raise not_found("payment")
    contract = await session.get_one(Contract, payment.contract_id)
    return payment, contract


async def confirm(
    session: AsyncSession, company_id: uuid.UUID, payment_id: uuid.UUID, actor_id: uuid.UUID
) -> bool:
    """Confirm a recorded (or in-approval) payment: `confirmed`, the contract's `received`
    grows, `payment.confirmed`. False when it was not confirmable any more."""
    at = now()
    row = (
        await session.execute(
            _CONFIRM, {"company": company_id, "payment_id": payment_id, "actor": actor_id, "at": at}
        )
    ).first()
    if row is None:
        return False
    contract_id, amount = row
    await session.execute(
        _TOTALS,
        {
            "company": company_id,
            "contract_id": contract_id,
            "committed_delta": ledger.ZERO,
            "received_delta": amount,
        },
    )
    payment = await session.get_one(Payment, payment_id, populate_existing=True)
    contract = await session.get_one(Contract, contract_id, populate_existing=True)
    await enqueue_event(
        session,
        company_id,
        "payment.confirmed",
        _subject(payment, contract.customer_id, contract.number),
        occurred_at=at,
    )
    await session.flush()
    return True


async def confirm_payment(
    session: AsyncSession, principal: Principal, payment_id: uuid.UUID
) -> AnyRow:
    """With the company's payment flow: submit it for approval (the recorder, the contract's
    team, admins) → `pending_approval`, confirmed when the approval ends approved. Without a
    flow: admins confirm at once (403 for others)."""
    payment, contract = await _locked_payment(session, principal, payment_id)
    if payment.reverses_id is not None or payment.status != "recorded":
        label = "a reversal" if payment.reverses_id is not None else payment.status
        raise errors.payment_not_confirmable(label)
    if await approvals.active_flow(session, principal.company_id, "payment") is not None:
        if not (
            principal.is_admin
            or payment.recorded_by == principal.user_id
            or await plans.may_edit(session, principal, contract)
        ):
            raise forbidden("Only the recorder, the contract's team and admins submit it.")
        # Waiting first: an approval whose steps are all skipped confirms it within submit.
        await _set_status(session, payment, "recorded", "pending_approval")
        approval = await approvals.submit(
            session,
            principal,
            kind="payment",
            record_type=RECORD_TYPE,
            record_id=payment.id,
            customer_id=contract.customer_id,
            title=f"{contract.number} 回款 {payment.amount:.2f}",
            amount=payment.amount,
        )
        if approval is not None:
            return await get_row(session, principal, payment.id)
        await _set_status(session, payment, "pending_approval", "recorded")  # flow just went
    if not principal.is_admin:
        raise forbidden("Without a payment approval flow only an admin confirms payments.")
    await confirm(session, principal.company_id, payment.id, principal.user_id)
    return await get_row(session, principal, payment.id)


async def _set_status(
    session: AsyncSession, payment: Payment, from_status: str, to_status: str
) -> None:
    await session.execute(
        _STATUS,
        {
            "company": payment.company_id,
            "payment_id": payment.id,
            "from_status": from_status,
            "to_status": to_status,
            "at": now(),
        },
    )
    await session.flush()


async def _approved(session: AsyncSession, actor: Principal, approval: Approval) -> None:
    await confirm(session, approval.company_id, approval.record_id, actor.user_id)


async def _back_to_recorded(session: AsyncSession, actor: Principal, approval: Approval) -> None:
    await session.execute(
        _STATUS,
        {
            "company": approval.company_id,
            "payment_id": approval.record_id,
            "from_status": "pending_approval",
            "to_status": "recorded",
            "at": now(),
        },
    )
    await session.flush()


approval_outcome = ApprovalOutcome(
    approved=_approved, rejected=_back_to_recorded, withdrawn=_back_to_recorded
)
"""What the approval engine does to a payment when its approval ends (record_type
"payment"): approved → confirmed; rejected or withdrawn → back to `recorded`."""


# --- reverse -------------------------------------------------------------------------------


async def reverse_payment(
    session: AsyncSession, principal: Principal, payment_id: uuid.UUID, reason: str
) -> AnyRow:
    """Admins, or the recorder while it is only recorded: the reversal row (read row)."""
    original, contract = await _locked_payment(session, principal, payment_id)
    if original.reverses_id is not None or original.status == "reversed":
        raise errors.payment_already_reversed()
    if original.status == "pending_approval":
        approval = await approvals.pending_for(
            session, original.company_id, RECORD_TYPE, original.id
        )
        raise approval_errors.record_locked_for_approval(str(approval.id) if approval else "")
    if not (
        principal.is_admin
        or (original.status == "recorded" and original.recorded_by == principal.user_id)
    ):
        raise forbidden("Only an admin reverses a payment (its recorder while unconfirmed).")
    at = now()
    received = ledger.is_received(original.confirmed_at)
    reversal = Payment(
        id=uuid.uuid4(),
        company_id=original.company_id,
        contract_id=original.contract_id,
        plan_id=original.plan_id,
        reverses_id=original.id,
        amount=-original.amount,
        received_on=await plans.company_today(session, original.company_id),
        method=original.method,
        note=reason,
        attachment_ids=[],
        status="confirmed" if received else "recorded",
        recorded_by=principal.user_id,
        confirmed_by=principal.user_id if received else None,
        confirmed_at=at if received else None,
        reverse_reason=reason,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(reversal)
    except IntegrityError as exc:
        raise errors.payment_already_reversed() from exc
    await session.execute(
        _ALLOCATE_REVERSAL,
        {
            "reversal_id": reversal.id,
            "company_id": original.company_id,
            "payment_id": original.id,
        },
    )
    original.status = "reversed"
    original.reversed_by = principal.user_id
    original.reversed_at = at
    original.reverse_reason = reason
    original.version += 1
    original.updated_at = at
    await session.execute(
        _TOTALS,
        {
            "company": original.company_id,
            "contract_id": original.contract_id,
            "committed_delta": -original.amount,
            "received_delta": -original.amount if received else ledger.ZERO,
        },
    )
    await session.flush()
    subject = _subject(original, contract.customer_id, contract.number)
    subject["reversal_id"] = str(reversal.id)
    await enqueue_event(session, original.company_id, "payment.reversed", subject, occurred_at=at)
    await session.flush()
    return await get_row(session, principal, reversal.id)
