"""The one door for deals: every deal (recorded by hand today; a won opportunity or an active
contract later) goes through `close_deal`, which marks the customer won (the only way it
becomes won), restarts its no-deal clock and tells the people concerned, in the caller's
transaction."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.customers.access import forbid, load_customer
from app.customers.clock import refresh_recycle_clock
from app.customers.models import Collaborator, Customer, Deal
from app.customers.schemas import DealIn
from app.feed.publish import actor_name
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event
from app.org.models import Department, User

_OWNER = aliased(User)
_OWNER_DEPARTMENT = aliased(Department)
# The managers above the customer's owner (their department or an ancestor of it), and the
# customer's collaborators: who hears of a deal. Built once.
_DEAL_AUDIENCE = (
    select(User.id)
    .join(Department, Department.id == User.department_id)
    .join(_OWNER, _OWNER.id == bindparam("owner_id", type_=Uuid()))
    .join(_OWNER_DEPARTMENT, _OWNER_DEPARTMENT.id == _OWNER.department_id)
    .where(
        User.company_id == _OWNER.company_id,
        User.role == "manager",
        User.is_active.is_(True),
        _OWNER_DEPARTMENT.path.startswith(Department.path),
    )
    .union(
        select(Collaborator.user_id).where(
            Collaborator.customer_id == bindparam("customer_id", type_=Uuid())
        )
    )
)


async def close_deal(
    session: AsyncSession,
    actor: Principal,
    customer: Customer,
    *,
    deal_id: uuid.UUID,
    amount: Decimal | None,
    note: str | None,
    at: datetime,
) -> Deal:
    """Record a deal on a customer the caller may edit: the deal row, the customer's status
    `won` (no other door sets it), the no-deal clock (through `refresh_recycle_clock`, which
    also bumps the version), `deal_won` to the owner's managers and the collaborators, and a
    `customer.deal_recorded` webhook event (caller commits)."""
    deal = Deal(
        id=deal_id,
        company_id=customer.company_id,
        customer_id=customer.id,
        user_id=actor.user_id,
        amount=amount,
        note=note,
        closed_at=at,
        created_at=at,
    )
    session.add(deal)
    customer.status = "won"
    await session.flush()
    await refresh_recycle_clock(session, customer.id, deal_at=at)
    audience = (
        await session.execute(
            _DEAL_AUDIENCE, {"owner_id": customer.owner_id, "customer_id": customer.id}
        )
    ).scalars()
    name = await actor_name(session, actor.user_id)
    await notifications.notify(
        session,
        company_id=customer.company_id,
        user_ids=audience,
        kind="deal_won",
        params={
            "actor": name,
            "customer": customer.name,
            "amount": str(amount) if amount is not None else "",
        },
        dedupe_key=f"deal:{deal.id}",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        actor_id=actor.user_id,
        deep_link=f"outfield://customers/{customer.id}",
    )
    await enqueue_event(
        session,
        customer.company_id,
        "customer.deal_recorded",
        {
            "id": str(deal.id),
            "customer_id": str(customer.id),
            "user_id": str(actor.user_id),
            "amount": str(amount) if amount is not None else None,
            "note": note,
            "closed_at": at,
        },
        occurred_at=at,
    )
    return deal


async def record_deal(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: DealIn
) -> Deal:
    """`POST /v1/customers/{id}/deals`: a closed deal; a retry with the same id and body
    answers the deal already recorded."""
    access = await load_customer(session, principal, customer_id, lock=True)
    if not access.can_edit:
        raise forbid("Only the owner, collaborators and their managers may record deals.")
    if data.id is not None and (existing := await session.get(Deal, data.id)) is not None:
        if (
            existing.customer_id == customer_id
            and existing.amount == data.amount
            and existing.note == data.note
        ):
            return existing
        raise client_ids.id_conflict()
    deal = await close_deal(
        session,
        principal,
        access.customer,
        deal_id=data.id or uuid.uuid4(),
        amount=data.amount,
        note=data.note,
        at=now(),
    )
    await session.flush()
    return deal
