"""Pools, company pool rules, holding caps and recycle-clock recomputation."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import ProblemError, not_found
from app.customers import rules
from app.customers.models import Customer, Pool, PoolSettings
from app.customers.schemas import (
    PoolCreate,
    PoolPreviewOut,
    PoolRuleFields,
    PoolRulesIn,
    PoolUpdate,
)
from app.org.models import Company, Department, User

DEFAULT_POOL_NAME = "公海 Public pool"
CUSTOMERS = Customer.__table__


async def ensure_company_pools(session: AsyncSession, company_id: uuid.UUID) -> Pool:
    """The company's default pool and pool settings, created when missing (caller commits)."""
    default = await session.scalar(
        select(Pool).where(
            Pool.company_id == company_id, Pool.is_default, Pool.deleted_at.is_(None)
        )
    )
    if default is None:
        default = Pool(
            id=uuid.uuid4(),
            company_id=company_id,
            name=DEFAULT_POOL_NAME,
            is_default=True,
            regions=[],
            industries=[],
            no_followup_days=15,
            no_deal_days=30,
            warning_days=3,
            reclaim_cooldown_days=7,
            daily_claim_limit=10,
            claim_department_ids=[],
            version=1,
        )
        session.add(default)
    if await session.get(PoolSettings, company_id) is None:
        session.add(
            PoolSettings(
                company_id=company_id,
                holding_cap=20,
                won_exempt=True,
                department_caps={},
                version=1,
            )
        )
    await session.flush()
    return default


async def company_pools(session: AsyncSession, company_id: uuid.UUID) -> list[Pool]:
    """Every live pool of a company."""
    result = await session.execute(
        select(Pool).where(Pool.company_id == company_id, Pool.deleted_at.is_(None))
    )
    return list(result.scalars())


async def pool_settings(session: AsyncSession, company_id: uuid.UUID) -> PoolSettings:
    """The company's pool settings (created with defaults when missing)."""
    settings = await session.get(PoolSettings, company_id)
    if settings is None:
        await ensure_company_pools(session, company_id)
        settings = await session.get(PoolSettings, company_id)
    assert settings is not None
    return settings


def scopes(pools: list[Pool]) -> list[rules.PoolScope]:
    return [
        rules.PoolScope(p.id, p.is_default, p.regions, p.industries, p.created_at) for p in pools
    ]


async def pool_for(
    session: AsyncSession, company_id: uuid.UUID, region: str | None, industry: str | None
) -> Pool:
    """The pool a customer with this region and industry belongs to."""
    pools = await company_pools(session, company_id)
    if not any(p.is_default for p in pools):
        pools.append(await ensure_company_pools(session, company_id))
    chosen = rules.choose_pool(region, industry, scopes(pools))
    return next(p for p in pools if p.id == chosen)


def recycle_rules(pool: Pool, settings: PoolSettings) -> rules.RecycleRules:
    return rules.RecycleRules(pool.no_followup_days, pool.no_deal_days, settings.won_exempt)


async def lock_holder_and_check_cap(
    session: AsyncSession, company_id: uuid.UUID, user_id: uuid.UUID, *, enforce: bool = True
) -> User:
    """Lock the future owner's row (serialising their ownership changes) and enforce the cap.

    Every path that gives a user a customer (create, claim, transfer) takes this lock
    first, so K concurrent attempts at cap−1 see each other's results: exactly one wins.
    """
    row = (
        await session.execute(
            select(User, Department.path)
            .outerjoin(Department, Department.id == User.department_id)
            .where(User.id == user_id, User.company_id == company_id)
            .with_for_update(of=User)
        )
    ).first()
    if row is None:
        raise not_found("user")
    user, path = row
    if not user.is_active:
        raise ProblemError(409, "user_inactive", "That user is deactivated.")
    if enforce:
        settings = await pool_settings(session, company_id)
        cap = rules.holding_cap_for(path, settings.holding_cap, settings.department_caps)
        held = await session.scalar(
            select(func.count()).where(
                Customer.company_id == company_id,
                Customer.owner_id == user_id,
                Customer.deleted_at.is_(None),
            )
        )
        if held >= cap:
            raise ProblemError(
                409,
                "holding_cap_reached",
                f"The holding cap of {cap} customers is reached; release one first.",
                holding_cap=cap,
                held=held,
            )
    return user


async def recompute_recycle(
    session: AsyncSession,
    company_id: uuid.UUID,
    pool_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> int:
    """Set-based: recompute recycle_at/reason of owned customers (of one pool/owner, or all)."""
    settings = await pool_settings(session, company_id)
    pools = Pool.__table__
    recycle_at, reason = rules.recycle_sql(
        CUSTOMERS, pools.c.no_followup_days, pools.c.no_deal_days, settings.won_exempt
    )
    stmt = (
        update(CUSTOMERS)
        .where(
            pools.c.id == CUSTOMERS.c.pool_id,
            CUSTOMERS.c.company_id == company_id,
            CUSTOMERS.c.owner_id.is_not(None),
            CUSTOMERS.c.deleted_at.is_(None),
        )
        .values(recycle_at=recycle_at, recycle_reason=reason)
    )
    if pool_id is not None:
        stmt = stmt.where(CUSTOMERS.c.pool_id == pool_id)
    if owner_id is not None:
        stmt = stmt.where(CUSTOMERS.c.owner_id == owner_id)
    return (await session.execute(stmt)).rowcount


async def rehome_owned_customers(session: AsyncSession, company_id: uuid.UUID) -> None:
    """After pool scopes change, owned customers follow the rules of the pool that now matches."""
    pools = await company_pools(session, company_id)
    default = next(p for p in pools if p.is_default)
    scoped = sorted((p for p in pools if not p.is_default), key=lambda p: (p.created_at, p.id))
    owned = and_(
        Customer.company_id == company_id,
        Customer.owner_id.is_not(None),
        Customer.deleted_at.is_(None),
    )
    await session.execute(
        update(Customer)
        .where(owned)
        .values(pool_id=default.id)
        .execution_options(synchronize_session=False)
    )
    # Newest first, so the oldest matching pool is written last and wins (as choose_pool says).
    for pool in reversed(scoped):
        condition = owned
        if pool.regions:
            condition = condition & Customer.region.in_(pool.regions)
        if pool.industries:
            condition = condition & Customer.industry.in_(pool.industries)
        await session.execute(
            update(Customer)
            .where(condition)
            .values(pool_id=pool.id)
            .execution_options(synchronize_session=False)
        )


# ---------- HTTP-facing use cases ----------


async def get_rules(session: AsyncSession, principal: Principal) -> PoolSettings:
    """Company pool rules."""
    return await pool_settings(session, principal.company_id)


async def put_rules(
    session: AsyncSession, principal: Principal, data: PoolRulesIn, if_match: str | None
) -> PoolSettings:
    """Admin: set the holding cap, department overrides and the won exemption."""
    settings = await pool_settings(session, principal.company_id)
    check_if_match(if_match, settings.version, required=False)
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
            raise ProblemError(
                422,
                "unknown_department",
                "A department in department_caps is unknown.",
                errors=[
                    {
                        "loc": ["body", "department_caps"],
                        "msg": "unknown department",
                        "type": "value_error",
                    }
                ],
            )
    exemption_changed = settings.won_exempt != data.won_exempt
    settings.holding_cap = data.holding_cap
    settings.won_exempt = data.won_exempt
    settings.department_caps = {str(c.department_id): c.holding_cap for c in data.department_caps}
    settings.version += 1
    await session.flush()
    if exemption_changed:
        await recompute_recycle(session, principal.company_id)
    await session.commit()
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
        raise ProblemError(
            422,
            "unknown_department",
            "A department in claim_department_ids is unknown.",
            errors=[
                {
                    "loc": ["body", "claim_department_ids"],
                    "msg": "unknown department",
                    "type": "value_error",
                }
            ],
        )


async def create_pool(session: AsyncSession, principal: Principal, data: PoolCreate) -> Pool:
    """Admin: a pool scoped by region and/or industry, with its own rules."""
    if not data.regions and not data.industries:
        raise ProblemError(
            422,
            "pool_scope_required",
            "A pool needs regions or industries (or both).",
            errors=[{"loc": ["body", "regions"], "msg": "scope required", "type": "value_error"}],
        )
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
    session.add(pool)
    await session.flush()
    await rehome_owned_customers(session, principal.company_id)
    await recompute_recycle(session, principal.company_id)
    await session.commit()
    return pool


async def update_pool(
    session: AsyncSession,
    principal: Principal,
    pool_id: uuid.UUID,
    data: PoolUpdate,
    if_match: str | None,
) -> Pool:
    """Admin: change a pool's scope or rules; affected recycle dates are recomputed."""
    pool = await get_pool(session, principal, pool_id)
    check_if_match(if_match, pool.version, required=False)
    fields = data.model_fields_set
    if pool.is_default and ({"regions", "industries"} & fields):
        raise ProblemError(
            422, "default_pool_unscoped", "The default pool takes everything; it has no scope."
        )
    if "claim_department_ids" in fields:
        await _check_departments(session, principal.company_id, data.claim_department_ids or [])
    for field in fields:
        value = getattr(data, field)
        if value is None and field not in {"no_followup_days", "no_deal_days"}:
            continue
        setattr(pool, field, value)
    if not pool.is_default and not pool.regions and not pool.industries:
        raise ProblemError(
            422, "pool_scope_required", "A pool needs regions or industries (or both)."
        )
    pool.version += 1
    await session.flush()
    if {"regions", "industries"} & fields:
        await rehome_owned_customers(session, principal.company_id)
        await recompute_recycle(session, principal.company_id)
    elif {"no_followup_days", "no_deal_days"} & fields:
        await recompute_recycle(session, principal.company_id, pool.id)
    await session.commit()
    await session.refresh(pool)
    return pool


async def delete_pool(session: AsyncSession, principal: Principal, pool_id: uuid.UUID) -> None:
    """Admin: remove a scoped pool; its customers move to the default pool."""
    pool = await get_pool(session, principal, pool_id)
    if pool.is_default:
        raise ProblemError(409, "default_pool_required", "The default pool cannot be deleted.")
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
    await session.commit()


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
        by_day=[{"date": day, "count": count} for day, count in days],
    )


def start_of_local_day(at: datetime, time_zone: str) -> datetime:
    """Midnight of `at`'s day in the company's time zone."""
    local = at.astimezone(ZoneInfo(time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
