"""A customer's history: ownership events and the timeline across owners."""

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.pagination import PageParams, make_page, paginate
from app.customers.models import Customer, Deal, OwnershipEvent
from app.db import AnyRow, AnySelect


async def ownership_history(
    session: AsyncSession, customer: Customer, params: PageParams
) -> tuple[list[OwnershipEvent], str | None]:
    """Every change of owner of a customer the caller may see, newest first."""
    stmt = select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id)
    rows = list(
        (
            await session.execute(
                paginate(stmt, OwnershipEvent.created_at, OwnershipEvent.id, params)
            )
        ).scalars()
    )
    return make_page(rows, params)


# Other packages' records (follow-ups, check-ins, logs) join the timeline as sources; the
# composition (`app.composition.TIMELINE_SOURCES`) names them. Each source returns a SELECT
# of: id, created_at, kind, actor_id, from_user_id, to_user_id, text, amount — the columns of
# the union below — of the records on the customer that the caller may see (a record type
# can be more private than the customer, e.g. work logs).
TimelineSource = Callable[[uuid.UUID, Principal], AnySelect]


async def timeline(
    session: AsyncSession,
    principal: Principal,
    customer: Customer,
    params: PageParams,
    sources: Iterable[TimelineSource],
) -> tuple[list[AnyRow], str | None]:
    """Everything that happened to a customer the caller may see, across owners, newest
    first (each source applies its own record visibility for the caller)."""
    customer_id = customer.id
    events = select(
        OwnershipEvent.id.label("id"),
        OwnershipEvent.created_at.label("created_at"),
        (literal("ownership.") + OwnershipEvent.kind).label("kind"),
        OwnershipEvent.actor_id.label("actor_id"),
        OwnershipEvent.from_user_id.label("from_user_id"),
        OwnershipEvent.to_user_id.label("to_user_id"),
        OwnershipEvent.reason.label("text"),
        literal(None).label("amount"),
    ).where(OwnershipEvent.customer_id == customer_id)
    deals = select(
        Deal.id,
        Deal.created_at,
        literal("deal"),
        Deal.user_id,
        literal(None),
        literal(None),
        Deal.note,
        Deal.amount,
    ).where(Deal.customer_id == customer_id)
    extra = [source(customer_id, principal) for source in sources]
    merged = union_all(events, deals, *extra).subquery()
    stmt = paginate(select(merged), merged.c.created_at, merged.c.id, params)
    rows = list((await session.execute(stmt)).all())
    return make_page(rows, params)
