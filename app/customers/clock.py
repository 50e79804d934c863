"""The recycle clock in SQL: the one place that turns a customer row into recycle_at/reason.

`rules.recycle_clock` is the rule; `rules.recycle_sql` renders it as SQL. This module feeds
that rendering with the row's pool rules and the company's won exemption (read in the same
statement, from the row being written) and is used by everything that moves a clock:
follow-ups and check-ins, deals, status changes, owner transitions and rule changes.
"""

import uuid
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Subquery,
    Update,
    Uuid,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers import rules
from app.customers.models import Customer, Pool, PoolSettings
from app.db import rowcount, table_of

AWARE = DateTime(timezone=True)
CUSTOMERS = table_of(Customer)
_POOLS = table_of(Pool).c
_SETTINGS = table_of(PoolSettings).c


def pool_rules() -> Subquery:
    """Every pool's clock rules with its company's won exemption: joined (`UPDATE … FROM`) by
    the single-row clock update, so each rule is read once instead of once per use."""
    return (
        select(
            _POOLS.id.label("pool_id"),
            _POOLS.no_followup_days,
            _POOLS.no_deal_days,
            func.coalesce(_SETTINGS.won_exempt, true()).label("won_exempt"),
        )
        .select_from(
            table_of(Pool).outerjoin(
                table_of(PoolSettings), _SETTINGS.company_id == _POOLS.company_id
            )
        )
        .subquery("rules")
    )


def clock_expressions(
    rules_of_pool: Subquery | None = None,
    **overrides: ColumnElement[Any],
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(recycle_at, recycle_reason) of a `customers` row, as SQL.

    `overrides` replace the row's own `owner_id`, `status`, `claimed_at`, `last_followup_at`
    or `last_deal_at` with the values being written in the same UPDATE (a new owner, the
    moment of a claim, a moved follow-up): the clock is computed from what the row becomes.
    The rules come from `rules_of_pool` (`pool_rules()`, joined on the row's pool by the
    caller) or, without it, from correlated subqueries (set-based updates of many rows).
    """
    columns = CUSTOMERS.c
    row = SimpleNamespace(
        c=SimpleNamespace(
            **{
                name: overrides.get(name, getattr(columns, name))
                for name in ("owner_id", "status", "claimed_at", "last_followup_at", "last_deal_at")
            }
        )
    )
    if rules_of_pool is not None:
        return rules.recycle_sql(
            row,
            rules_of_pool.c.no_followup_days,
            rules_of_pool.c.no_deal_days,
            rules_of_pool.c.won_exempt,
        )
    no_followup_days = select(_POOLS.no_followup_days).where(_POOLS.id == columns.pool_id)
    no_deal_days = select(_POOLS.no_deal_days).where(_POOLS.id == columns.pool_id)
    won_exempt = func.coalesce(
        select(_SETTINGS.won_exempt)
        .where(_SETTINGS.company_id == columns.company_id)
        .scalar_subquery(),
        true(),  # the column's default, as pool_settings() would create it
    )
    return rules.recycle_sql(
        row, no_followup_days.scalar_subquery(), no_deal_days.scalar_subquery(), won_exempt
    )


def check_expression(recycle_at: ColumnElement[Any]) -> ColumnElement[Any]:
    """`recycle_check_at` for a new `recycle_at`: when the recycle job should look next —
    the advance warning (the pool's warning days before), or recycle_at itself.

    Written wherever recycle_at may move earlier (owner changes, deals, status and rule
    changes). A follow-up or check-in only moves recycle_at later, so it leaves this alone:
    its UPDATE then touches no indexed column and stays a HOT update; the job, finding a
    customer whose recycle_at has moved on, looks again later (`recycling`).
    """
    columns = CUSTOMERS.c
    warning_days = select(_POOLS.warning_days).where(_POOLS.id == columns.pool_id)
    return recycle_at - func.make_interval(
        0, 0, 0, 0, func.coalesce(warning_days.scalar_subquery(), 0) * 24
    )


@lru_cache(maxsize=16)
def _refresh_statement(followup: bool, deal: bool, set_next: bool, touch: bool) -> Update:
    """The UPDATE of `refresh_recycle_clock` for one shape, built once (follow-ups and
    check-ins are on the hot path: building it costs more than running it)."""
    columns = CUSTOMERS.c
    overrides: dict[str, ColumnElement[Any]] = {}
    if followup:
        overrides["last_followup_at"] = func.greatest(
            columns.last_followup_at, bindparam("followup_at", type_=AWARE)
        )
    if deal:
        overrides["last_deal_at"] = func.greatest(
            columns.last_deal_at, bindparam("deal_at", type_=AWARE)
        )
    rules_of_pool = pool_rules()
    recycle_at, reason = clock_expressions(rules_of_pool, **overrides)
    values: dict[str, Any] = {**overrides, "recycle_at": recycle_at, "recycle_reason": reason}
    if not (followup and not deal):
        # Only a follow-up is sure to move recycle_at later (see check_expression).
        values["recycle_check_at"] = check_expression(recycle_at)
    if set_next:
        values["next_followup_at"] = bindparam("next_followup_at", type_=AWARE)
    if touch:
        values["version"] = columns.version + 1
        values["updated_at"] = bindparam("updated_at", type_=AWARE)
    # synchronize_session="fetch": a Customer already loaded in this session is refreshed
    # from RETURNING, so nothing later in the request sees (or flushes) the old clock.
    return (
        update(Customer)
        .where(
            Customer.id == bindparam("customer_id", type_=Uuid()),
            rules_of_pool.c.pool_id == columns.pool_id,
        )
        .values(values)
        .execution_options(synchronize_session="fetch")
    )


_UNSET: Any = object()


async def refresh_recycle_clock(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    followup_at: datetime | None = None,
    deal_at: datetime | None = None,
    next_followup_at: datetime | None = _UNSET,
) -> None:
    """Move the follow-up and/or deal clock (never backwards) and recompute recycle_at.

    The one door for every event that moves a clock (caller commits). One UPDATE: it locks
    the customer row and computes every value from the row it locked (after waiting for a
    concurrent change PostgreSQL re-reads that row), with the rules of the customer's pool
    and the company's won exemption read in the same statement. A recycle run deciding about
    this customer at the same moment either sees the event or is seen by it. With neither
    moment given, only recycle_at is recomputed (a status or pool change).
    """
    followup, deal = followup_at is not None, deal_at is not None
    set_next = next_followup_at is not _UNSET
    touch = followup or deal
    params: dict[str, Any] = {"customer_id": customer_id}
    if followup:
        params["followup_at"] = followup_at
    if deal:
        params["deal_at"] = deal_at
    if set_next:
        params["next_followup_at"] = next_followup_at
    if touch:
        params["updated_at"] = now()
    await session.execute(_refresh_statement(followup, deal, set_next, touch), params)


async def recompute_recycle(
    session: AsyncSession,
    company_id: uuid.UUID,
    pool_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> int:
    """Set-based, after a rule change: recompute the clock of owned customers (of one pool,
    of one owner, or all of the company's)."""
    recycle_at, reason = clock_expressions()
    stmt = (
        update(CUSTOMERS)
        .where(
            CUSTOMERS.c.company_id == company_id,
            CUSTOMERS.c.owner_id.is_not(None),
            CUSTOMERS.c.deleted_at.is_(None),
        )
        .values(
            recycle_at=recycle_at,
            recycle_reason=reason,
            recycle_check_at=check_expression(recycle_at),
        )
    )
    if pool_id is not None:
        stmt = stmt.where(CUSTOMERS.c.pool_id == pool_id)
    if owner_id is not None:
        stmt = stmt.where(CUSTOMERS.c.owner_id == owner_id)
    return rowcount(await session.execute(stmt))
