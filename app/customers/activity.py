"""Activity that moves a customer's follow-up clock (follow-ups, counted check-ins)."""

import uuid
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import DateTime, Update, Uuid, bindparam, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers import rules
from app.customers.models import Customer, Pool, PoolSettings

AWARE = DateTime(timezone=True)


@lru_cache(maxsize=2)
def _clock_statement(set_next: bool) -> Update:
    """The UPDATE of `record_followup_activity`, built once (it is on every follow-up and
    check-in; building it costs more than running it). Parameters: customer_id, at,
    updated_at and, with `set_next`, next_followup_at."""
    table = Customer.__table__.c
    last_followup_at = func.greatest(table.last_followup_at, bindparam("at", type_=AWARE))
    # recycle_sql reads `customer.c.<column>`: the row being updated, with the moved clock.
    moved = SimpleNamespace(
        c=SimpleNamespace(
            owner_id=table.owner_id,
            status=table.status,
            claimed_at=table.claimed_at,
            last_followup_at=last_followup_at,
            last_deal_at=table.last_deal_at,
        )
    )
    pool = Pool.__table__.c
    no_followup_days = select(pool.no_followup_days).where(pool.id == table.pool_id)
    no_deal_days = select(pool.no_deal_days).where(pool.id == table.pool_id)
    won_exempt = func.coalesce(
        select(PoolSettings.__table__.c.won_exempt)
        .where(PoolSettings.__table__.c.company_id == table.company_id)
        .scalar_subquery(),
        true(),  # the column's default, as pool_settings() would create it
    )
    recycle_at, reason = rules.recycle_sql(
        moved, no_followup_days.scalar_subquery(), no_deal_days.scalar_subquery(), won_exempt
    )
    values = {
        "last_followup_at": last_followup_at,
        "recycle_at": recycle_at,
        "recycle_reason": reason,
        "version": table.version + 1,
        "updated_at": bindparam("updated_at", type_=AWARE),
    }
    if set_next:
        values["next_followup_at"] = bindparam("next_followup_at", type_=AWARE)
    # synchronize_session="fetch": a Customer already loaded in this session is refreshed
    # from RETURNING, so nothing later in the request sees (or flushes) the old clock.
    return (
        update(Customer)
        .where(Customer.id == bindparam("customer_id", type_=Uuid()))
        .values(values)
        .execution_options(synchronize_session="fetch")
    )


async def record_followup_activity(
    session: AsyncSession,
    customer_id: uuid.UUID,
    at: datetime,
    next_followup_at: datetime | None = None,
    *,
    set_next: bool = False,
) -> None:
    """Move the follow-up clock to `at` (never backwards) and recompute recycle_at (caller commits).

    One UPDATE: it locks the customer row, and every value is computed from the row it
    locked (after waiting for a concurrent change, PostgreSQL re-reads that row), with the
    rules of the customer's pool and the company's won exemption read in the same statement
    — `rules.recycle_sql`, the SQL form of `rules.recycle_clock`. A recycle run deciding
    about this customer at the same moment either sees the follow-up or is seen by it.
    """
    params = {"customer_id": customer_id, "at": at, "updated_at": now()}
    if set_next:
        params["next_followup_at"] = next_followup_at
    await session.execute(_clock_statement(set_next), params)
