"""Activity that moves a customer's follow-up clock (follow-ups, counted check-ins)."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers import rules
from app.customers.models import Customer, Pool
from app.customers.pools import pool_settings, recycle_rules


async def record_followup_activity(
    session: AsyncSession,
    customer_id: uuid.UUID,
    at: datetime,
    next_followup_at: datetime | None = None,
    *,
    set_next: bool = False,
) -> Customer:
    """Move the follow-up clock to `at` (never backwards) and recompute recycle_at (caller commits).

    The customer row is locked, so a recycle run deciding about this customer at the
    same moment either sees the follow-up or is seen by it.
    """
    customer = (
        await session.execute(select(Customer).where(Customer.id == customer_id).with_for_update())
    ).scalar_one()
    if customer.last_followup_at is None or at > customer.last_followup_at:
        customer.last_followup_at = at
    if set_next:
        customer.next_followup_at = next_followup_at
    settings = await pool_settings(session, customer.company_id)
    pool = await session.get(Pool, customer.pool_id)
    clock = rules.recycle_clock(
        owned=customer.owner_id is not None,
        status=customer.status,
        claimed_at=customer.claimed_at,
        last_followup_at=customer.last_followup_at,
        last_deal_at=customer.last_deal_at,
        rules=recycle_rules(pool, settings),
    )
    customer.recycle_at, customer.recycle_reason = clock.recycle_at, clock.recycle_reason
    customer.version += 1
    return customer
