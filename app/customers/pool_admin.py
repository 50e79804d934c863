"""Pools and company pool rules as admins see them: list, create, change, delete, preview."""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.customers import errors, rules
from app.customers.clock import recompute_recycle
from app.customers.models import Customer, Pool, PoolSettings
from app.customers.pools import (
    CUSTOMERS,
    company_pools,
    ensure_company_pools,
    pool_settings,
    rehome_owned_customers,
)
from app.customers.schemas import (
    PoolCreate,
    PoolPreviewOut,
    PoolRuleFields,
    PoolRulesIn,
    PoolUpdate,
    PreviewDay,
)
from app.db import savepoint
from app.org import errors as org_errors
from app.org.models import Company, Department


async def get_rules(session: AsyncSession, principal: Principal) -> PoolSettings:
    """Company pool rules."""
    return await pool_settings(session, principal.company_id)


async def put_rules(
    session: AsyncSession, principal: Principal, data: PoolRulesIn, if_match: str | None
) -> PoolSettings:
    """Admin: set the holding cap, department overrides and the won exemption."""
    settings = await pool_settings(session, principal.company_id)
    check_if_match(if_match, settings.version)
    department_ids = {cap.department_id for cap in data.department_caps}
    if department_ids:
        found = set(
            (
                await session.execute(
                    select(Department.id).where(
                        Department.company_id == principal.company_id,
                        Department.id.in_(department_ids),
                    )
                )
            ).scalars()
        )
        if found != department_ids:
            raise org_errors.unknown_department(
                "department_caps", "A department in department_caps is unknown."
            )
    exemption_changed = settings.won_exempt != data.won_exempt
    settings.holding_cap = data.holding_cap
    settings.won_exempt = data.won_exempt
    settings.department_caps = {str(c.department_id): c.holding_cap for c in data.department_caps}
    settings.version += 1
    await session.flush()
    if exemption_changed:
        await recompute_recycle(session, principal.company_id)
    return settings


async def list_pools(session: AsyncSession, principal: Principal) -> list[Pool]:
    """Every pool of the company, default first."""
    pools = await company_pools(session, principal.company_id)
    return sorted(pools, key=lambda p: (not p.is_default, p.created_at, p.id))


async def get_pool(session: AsyncSession, principal: Principal, pool_id: uuid.UUID) -> Pool:
    """One pool of the caller's company, or 404."""
    pool = await session.scalar(
        select(Pool).where(
            Pool.id == pool_id, Pool.company_id == principal.company_id, Pool.deleted_at.is_(None)
        )
    )
    if pool is None:
        raise not_found("pool")
    return pool


async def _check_departments(
    session: AsyncSession, company_id: uuid.UUID, ids: list[uuid.UUID]
) -> None:
    if not ids:
        return
    found = set(
        (
            await session.execute(
                select(Department.id).where(
                    Department.company_id == company_id, Department.id.in_(ids)
                )
            )
        ).scalars()
    )
    if found != set(ids):
        raise org_errors.unknown_department(
            "claim_department_ids", "A department in claim_department_ids is unknown."
        )


async def create_pool(
    session: AsyncSession, principal: Principal, data: PoolCreate
) -> tuple[Pool, bool]:
    """Admin: a pool scoped by region and/or industry, with its own rules; returns (pool,
    created). The same client id and body again answer the pool made (`created` False); an id
    taken otherwise (another body, another company, a deleted pool) is 409 `id_conflict`."""
    existing = await client_ids.existing_create(
        session,
        Pool,
        data.id,
        principal.company_id,
        lambda pool: pool.deleted_at is None and client_ids.holds(pool, data),
    )
    if existing is not None:
        return existing, False
    if not data.regions and not data.industries:
        raise errors.pool_scope_required()
    await _check_departments(session, principal.company_id, data.claim_department_ids)
    await ensure_company_pools(session, principal.company_id)
    pool = Pool(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        is_default=False,
        regions=data.regions,
        industries=data.industries,
        no_followup_days=data.no_followup_days,
        no_deal_days=data.no_deal_days,
        warning_days=data.warning_days,
        reclaim_cooldown_days=data.reclaim_cooldown_days,
        daily_claim_limit=data.daily_claim_limit,
        claim_department_ids=data.claim_department_ids,
        version=1,
    )
    try:
        async with savepoint(session):
            session.add(pool)
    except IntegrityError as exc:  # a concurrent create with the same id got there first
        raise client_ids.id_conflict() from exc
    await rehome_owned_customers(session, principal.company_id)
    await recompute_recycle(session, principal.company_id)
    return pool, True


async def update_pool(
    session: AsyncSession,
    principal: Principal,
    pool_id: uuid.UUID,
    data: PoolUpdate,
    if_match: str | None,
) -> Pool:
    """Admin: change a pool's scope or rules; affected recycle dates are recomputed."""
    pool = await get_pool(session, principal, pool_id)
    check_if_match(if_match, pool.version)
    fields = data.model_fields_set
    if pool.is_default and ({"regions", "industries"} & fields):
        raise errors.default_pool_unscoped()
    if "claim_department_ids" in fields:
        await _check_departments(session, principal.company_id, data.claim_department_ids or [])
    for field in fields:
        value = getattr(data, field)
        if value is None and field not in {"no_followup_days", "no_deal_days"}:
            continue
        setattr(pool, field, value)
    if not pool.is_default and not pool.regions and not pool.industries:
        raise errors.pool_scope_required(field_level=False)
    pool.version += 1
    await session.flush()
    if {"regions", "industries"} & fields:
        await rehome_owned_customers(session, principal.company_id)
        await recompute_recycle(session, principal.company_id)
    elif {"no_followup_days", "no_deal_days"} & fields:
        await recompute_recycle(session, principal.company_id, pool.id)
    await session.refresh(pool)
    return pool


async def delete_pool(session: AsyncSession, principal: Principal, pool_id: uuid.UUID) -> None:
    """Admin: remove a scoped pool; its customers move to the default pool."""
    pool = await get_pool(session, principal, pool_id)
    if pool.is_default:
        raise errors.default_pool_required()
    default = await ensure_company_pools(session, principal.company_id)
    pool.deleted_at = now()
    await session.execute(
        update(Customer)
        .where(Customer.pool_id == pool.id)
        .values(pool_id=default.id)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await rehome_owned_customers(session, principal.company_id)
    await recompute_recycle(session, principal.company_id)


async def preview_pool(
    session: AsyncSession, principal: Principal, pool_id: uuid.UUID, proposed: PoolRuleFields
) -> PoolPreviewOut:
    """What the proposed rules would do to the pool's owned customers; changes nothing."""
    pool = await get_pool(session, principal, pool_id)
    settings = await pool_settings(session, principal.company_id)
    company = await session.get(Company, principal.company_id)
    zone = ZoneInfo(company.time_zone if company else "Asia/Shanghai")
    recycle_at, _ = rules.recycle_sql(
        CUSTOMERS,
        literal(proposed.no_followup_days, Integer),
        literal(proposed.no_deal_days, Integer),
        settings.won_exempt,
    )
    at = now()
    due = (
        select(recycle_at.label("due"), CUSTOMERS.c.recycle_at.label("current"))
        .where(
            CUSTOMERS.c.pool_id == pool.id,
            CUSTOMERS.c.owner_id.is_not(None),
            CUSTOMERS.c.deleted_at.is_(None),
        )
        .subquery()
    )
    totals = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(due.c.due <= at),
                func.count().filter(due.c.due <= at + timedelta(days=7)),
                func.count().filter(due.c.due <= at + timedelta(days=30)),
                func.count().filter(due.c.due.is_distinct_from(due.c.current)),
            ).select_from(due)
        )
    ).one()
    local_day = func.date(func.timezone(zone.key, func.greatest(due.c.due, at)))
    days = (
        await session.execute(
            select(local_day, func.count())
            .where(due.c.due <= at + timedelta(days=30))
            .group_by(local_day)
            .order_by(local_day)
        )
    ).all()
    return PoolPreviewOut(
        affected_customers=totals[0],
        due_now=totals[1],
        due_within_7_days=totals[2],
        due_within_30_days=totals[3],
        changed=totals[4],
        by_day=[PreviewDay(date=day, count=count) for day, count in days],
    )
