"""Ownership that circulates: claim, release, transfer and the deactivation hand-off."""

import uuid
from datetime import timedelta

from sqlalchemy import Uuid, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import not_found
from app.customers import errors, transitions
from app.customers.access import forbid, load_customer
from app.customers.models import Customer, OwnershipEvent, Pool
from app.customers.pool_admin import get_pool
from app.customers.pools import (
    ensure_company_pools,
    lock_holder_and_check_cap,
    start_of_local_day,
)
from app.customers.schemas import ReleaseIn, TransferIn
from app.db import table_of
from app.notifications.inbox import service as notifications
from app.org import users as org_users
from app.org.models import Company, User

CUSTOMERS = table_of(Customer)
HANDED_OVER_REASON = "owner deactivated"


_C = CUSTOMERS.c
_CUSTOMER = bindparam("customer_id", type_=Uuid())
_FROM_USER = bindparam("from_user_id", type_=Uuid())
# Built once; the conditional UPDATE is the decision (of N concurrent claims exactly one
# matches), the transition says what it writes.
_CLAIM = transitions.statement("claimed", and_(_C.id == _CUSTOMER, _C.owner_id.is_(None)))
_RELEASE = transitions.statement("released", and_(_C.id == _CUSTOMER, _C.owner_id == _FROM_USER))
_ASSIGN = transitions.statement("assigned", and_(_C.id == _CUSTOMER, _C.owner_id.is_(None)))
_TRANSFER = transitions.statement(
    "transferred", and_(_C.id == _CUSTOMER, _C.owner_id == _FROM_USER)
)
_BOOK = and_(_C.company_id == bindparam("of_company_id", type_=Uuid()), _C.owner_id == _FROM_USER)
_HAND_OVER = transitions.statement("transferred", _BOOK)
_HAND_TO_POOL = transitions.statement("released", _BOOK)


async def claim(session: AsyncSession, principal: Principal, customer_id: uuid.UUID) -> Customer:
    """Take a pool customer: cooldown, department, daily limit and holding cap apply."""
    # Company-scoped, not visibility-scoped: a rep who lost a claim race must hear
    # "not in the pool" (409), not 404, though the winner's customer is now invisible to them.
    customer = await session.scalar(
        select(Customer).where(
            Customer.id == customer_id,
            Customer.company_id == principal.company_id,
            Customer.deleted_at.is_(None),
        )
    )
    if customer is None:
        raise not_found("customer")
    if customer.owner_id is not None:
        raise errors.customer_not_in_pool()
    pool = await session.get_one(Pool, customer.pool_id)
    if pool.claim_department_ids:
        allowed = principal.department_path and any(
            f"/{department_id}/" in principal.department_path
            for department_id in pool.claim_department_ids
        )
        if not allowed:
            raise errors.pool_claim_not_allowed()
    at = now()
    if pool.reclaim_cooldown_days:
        lost_at = await session.scalar(
            select(OwnershipEvent.created_at)
            .where(
                OwnershipEvent.customer_id == customer.id,
                OwnershipEvent.from_user_id == principal.user_id,
                OwnershipEvent.kind.in_(("released", "recycled", "transferred")),
            )
            .order_by(OwnershipEvent.created_at.desc())
            .limit(1)
        )
        if lost_at is not None and at < lost_at + timedelta(days=pool.reclaim_cooldown_days):
            available = lost_at + timedelta(days=pool.reclaim_cooldown_days)
            raise errors.reclaim_cooldown(available)
    await lock_holder_and_check_cap(session, principal.company_id, principal.user_id)
    company = await session.get_one(Company, principal.company_id)
    day_start = start_of_local_day(at, company.time_zone)
    claimed_today = (
        await session.execute(
            select(func.count())
            .select_from(OwnershipEvent)
            .where(
                OwnershipEvent.company_id == principal.company_id,
                OwnershipEvent.to_user_id == principal.user_id,
                OwnershipEvent.kind == "claimed",
                OwnershipEvent.created_at >= day_start,
            )
        )
    ).scalar_one()
    if claimed_today >= pool.daily_claim_limit:
        tomorrow = day_start + timedelta(days=1)
        retry_after = max(int((tomorrow - at).total_seconds()), 1)
        raise errors.daily_claim_limit(pool.daily_claim_limit, retry_after)
    won = (
        await session.execute(
            _CLAIM, {"customer_id": customer.id, "to_user_id": principal.user_id, "at": at}
        )
    ).all()
    if not won:
        raise errors.customer_not_in_pool("Someone else claimed it first.")
    await transitions.publish(session, "claimed", won, at=at, actor_id=principal.user_id)
    await session.flush()
    await session.refresh(customer)
    return customer


async def release(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: ReleaseIn
) -> Customer:
    """Give a customer back to the pool (its own, or a named one), with a reason."""
    access = await load_customer(session, principal, customer_id)
    customer = access.customer
    if customer.owner_id is None:
        raise errors.customer_not_owned()
    if not access.can_direct:
        raise forbid("Only the owner or their managers may release this customer.")
    pool_id = (
        (await get_pool(session, principal, data.pool_id)).id if data.pool_id else customer.pool_id
    )
    at = now()
    done = (
        await session.execute(
            _RELEASE,
            {
                "customer_id": customer.id,
                "from_user_id": customer.owner_id,
                "to_pool_id": pool_id,
                "reason": data.reason,
                "at": at,
            },
        )
    ).all()
    if not done:
        raise errors.customer_not_owned("The owner changed meanwhile; reload it.")
    await transitions.publish(session, "released", done, at=at, actor_id=principal.user_id)
    await session.flush()
    await session.refresh(customer)
    return customer


async def transfer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: TransferIn
) -> Customer:
    """Manager/admin: give a customer (owned or from the pool) to a user."""
    if not (principal.is_manager or principal.is_admin):
        raise forbid("Only managers and admins transfer customers.")
    if data.override_cap and not principal.is_admin:
        raise errors.override_cap_forbidden()
    access = await load_customer(session, principal, customer_id)
    if not access.manages_owner:
        raise forbid("This customer's owner is outside your department.")
    target = await org_users.get_user(session, principal, data.to_user_id)
    customer = access.customer
    previous = customer.owner_id
    if previous == target.id:
        return customer
    await lock_holder_and_check_cap(
        session, principal.company_id, target.id, enforce=not data.override_cap
    )
    at = now()
    kind = "assigned" if previous is None else "transferred"
    done = (
        await session.execute(
            _ASSIGN if previous is None else _TRANSFER,
            {
                "customer_id": customer.id,
                "from_user_id": previous,
                "to_user_id": target.id,
                "at": at,
            },
        )
    ).all()
    if not done:
        raise errors.owner_changed()
    await transitions.publish(
        session, kind, done, at=at, actor_id=principal.user_id, reason=data.reason
    )
    await session.flush()
    await session.refresh(customer)
    return customer


# ---------- hooks into org ----------


async def on_signup(session: AsyncSession, company: Company, admin: User) -> None:
    """A new company gets its default pool and pool settings."""
    await ensure_company_pools(session, company.id)


async def on_user_deactivated(
    session: AsyncSession, principal: Principal, user: User, successor_id: uuid.UUID | None
) -> None:
    """A deactivated user's customers go to the successor (no cap: an admin's call) or the pool."""
    at = now()
    params = {"of_company_id": user.company_id, "from_user_id": user.id, "at": at}
    if successor_id is None:
        # Each customer stays in the pool that governs it (to_pool_id None keeps it).
        released = await session.execute(
            _HAND_TO_POOL, {**params, "to_pool_id": None, "reason": HANDED_OVER_REASON}
        )
        await transitions.publish(
            session, "released", released.all(), at=at, actor_id=principal.user_id
        )
        return
    await lock_holder_and_check_cap(session, user.company_id, successor_id, enforce=False)
    moved = (await session.execute(_HAND_OVER, {**params, "to_user_id": successor_id})).all()
    # The successor hears once, for the whole book, not once per customer.
    await transitions.publish(
        session,
        "transferred",
        moved,
        at=at,
        actor_id=principal.user_id,
        reason=HANDED_OVER_REASON,
        notify=False,
    )
    if moved:
        await notifications.notify(
            session,
            company_id=user.company_id,
            user_ids=[successor_id],
            kind="customers_handed_over",
            params={
                "actor": (await session.get_one(User, principal.user_id)).name,
                "from_user": user.name,
                "count": len(moved),
            },
            dedupe_key=f"handover:{user.id}:{at.isoformat()}",
            actor_id=principal.user_id,
            deep_link="outfield://customers?owner=me",
        )
