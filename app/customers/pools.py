"""Pools, company pool rules, holding caps and recycle-clock recomputation."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import not_found
from app.customers import errors, rules
from app.customers.models import Customer, Pool, PoolSettings
from app.db import table_of
from app.org.models import Department, User

DEFAULT_POOL_NAME = "公海 Public pool"
CUSTOMERS = table_of(Customer)


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
        raise errors.user_inactive()
    if enforce:
        settings = await pool_settings(session, company_id)
        cap = rules.holding_cap_for(path, settings.holding_cap, settings.department_caps)
        held = (
            await session.execute(
                select(func.count()).where(
                    Customer.company_id == company_id,
                    Customer.owner_id == user_id,
                    Customer.deleted_at.is_(None),
                )
            )
        ).scalar_one()
        if held >= cap:
            raise errors.holding_cap_reached(cap, held)
    return user


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


def start_of_local_day(at: datetime, time_zone: str) -> datetime:
    """Midnight of `at`'s day in the company's time zone."""
    local = at.astimezone(ZoneInfo(time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
