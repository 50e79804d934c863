"""Ownership that circulates: claim, release, transfer, deals, collaborators, history."""

import uuid
from datetime import timedelta

from sqlalchemy import (
    DateTime,
    Uuid,
    and_,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.errors import ProblemError, not_found
from app.customers import rules
from app.customers.access import forbid, load_customer
from app.customers.models import Customer, Deal, OwnershipEvent, Pool
from app.customers.pool_admin import get_pool
from app.customers.pools import (
    ensure_company_pools,
    lock_holder_and_check_cap,
    pool_settings,
    recompute_recycle,
    recycle_rules,
    start_of_local_day,
)
from app.customers.schemas import DealIn, ReleaseIn, TransferIn
from app.feed import publish
from app.notifications import service as notifications
from app.org import service as org_service
from app.org.models import Company, User


def _event(principal: Principal | None, customer: Customer, kind: str, **fields) -> OwnershipEvent:
    return OwnershipEvent(
        id=uuid.uuid4(),
        company_id=customer.company_id,
        customer_id=customer.id,
        kind=kind,
        actor_id=principal.user_id if principal else None,
        created_at=now(),
        **fields,
    )


async def _record(
    session: AsyncSession, principal: Principal | None, customer: Customer, kind: str, **fields
) -> None:
    """Write the ownership event and publish it (feed, notifications, webhooks) in one go."""
    event = _event(principal, customer, kind, **fields)
    session.add(event)
    await session.flush()
    await session.refresh(customer)
    await publish.ownership_changed(
        session,
        principal,
        event_id=event.id,
        customer_id=customer.id,
        kind=kind,
        from_user_id=fields.get("from_user_id"),
        to_user_id=fields.get("to_user_id"),
        reason=fields.get("reason"),
    )


async def _owned_values(session: AsyncSession, customer: Customer, owner_id: uuid.UUID) -> dict:
    """Column values that make `owner_id` the owner now, with a fresh recycle clock."""
    at = now()
    settings = await pool_settings(session, customer.company_id)
    pool = await session.get(Pool, customer.pool_id)
    clock = rules.recycle_clock(
        owned=True,
        status=customer.status,
        claimed_at=at,
        last_followup_at=customer.last_followup_at,
        last_deal_at=customer.last_deal_at,
        rules=recycle_rules(pool, settings),
    )
    return dict(
        owner_id=owner_id,
        claimed_at=at,
        recycle_at=clock.recycle_at,
        recycle_reason=clock.recycle_reason,
        pooled_at=None,
        pool_entry_kind=None,
        pool_reason=None,
        updated_at=at,
        version=Customer.version + 1,
    )


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
        raise ProblemError(409, "customer_not_in_pool", "This customer is not in the pool.")
    pool = await session.get(Pool, customer.pool_id)
    if pool.claim_department_ids:
        allowed = principal.department_path and any(
            f"/{department_id}/" in principal.department_path
            for department_id in pool.claim_department_ids
        )
        if not allowed:
            raise forbid("Your department may not claim from this pool.", "pool_claim_not_allowed")
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
            raise ProblemError(
                409,
                "reclaim_cooldown",
                f"You lost it recently; claim it again after {available:%Y-%m-%d %H:%M} UTC.",
                available_at=available.isoformat(),
            )
    await lock_holder_and_check_cap(session, principal.company_id, principal.user_id)
    company = await session.get(Company, principal.company_id)
    day_start = start_of_local_day(at, company.time_zone)
    claimed_today = await session.scalar(
        select(literal_column("count(*)"))
        .select_from(OwnershipEvent)
        .where(
            OwnershipEvent.company_id == principal.company_id,
            OwnershipEvent.to_user_id == principal.user_id,
            OwnershipEvent.kind == "claimed",
            OwnershipEvent.created_at >= day_start,
        )
    )
    if claimed_today >= pool.daily_claim_limit:
        tomorrow = day_start + timedelta(days=1)
        raise ProblemError(
            429,
            "daily_claim_limit",
            f"You may claim {pool.daily_claim_limit} customers a day from this pool.",
            headers={"Retry-After": str(max(int((tomorrow - at).total_seconds()), 1))},
            daily_claim_limit=pool.daily_claim_limit,
        )
    values = await _owned_values(session, customer, principal.user_id)
    # The conditional update is the decision: of N concurrent claims exactly one matches.
    won = await session.scalar(
        update(Customer)
        .where(
            Customer.id == customer.id, Customer.owner_id.is_(None), Customer.deleted_at.is_(None)
        )
        .values(**values)
        .returning(Customer.id)
        .execution_options(synchronize_session=False)
    )
    if won is None:
        await session.rollback()
        raise ProblemError(409, "customer_not_in_pool", "Someone else claimed it first.")
    await _record(
        session,
        principal,
        customer,
        "claimed",
        from_user_id=None,
        to_user_id=principal.user_id,
        pool_id=pool.id,
    )
    await session.commit()
    await session.refresh(customer)
    return customer


async def release(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: ReleaseIn
) -> Customer:
    """Give a customer back to the pool (its own, or a named one), with a reason."""
    access = await load_customer(session, principal, customer_id)
    customer = access.customer
    if customer.owner_id is None:
        raise ProblemError(409, "customer_not_owned", "This customer is already in the pool.")
    if not access.can_direct:
        raise forbid("Only the owner or their managers may release this customer.")
    pool_id = (
        (await get_pool(session, principal, data.pool_id)).id if data.pool_id else customer.pool_id
    )
    owner = customer.owner_id
    at = now()
    done = await session.scalar(
        update(Customer)
        .where(Customer.id == customer.id, Customer.owner_id == owner)
        .values(
            owner_id=None,
            previous_owner_id=owner,
            pool_id=pool_id,
            claimed_at=None,
            recycle_at=None,
            recycle_reason=None,
            pooled_at=at,
            pool_entry_kind="released",
            pool_reason=data.reason,
            updated_at=at,
            version=Customer.version + 1,
        )
        .returning(Customer.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        await session.rollback()
        raise ProblemError(409, "customer_not_owned", "The owner changed meanwhile; reload it.")
    await _record(
        session,
        principal,
        customer,
        "released",
        from_user_id=owner,
        to_user_id=None,
        pool_id=pool_id,
        reason=data.reason,
    )
    await session.commit()
    await session.refresh(customer)
    return customer


async def transfer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: TransferIn
) -> Customer:
    """Manager/admin: give a customer (owned or from the pool) to a user."""
    if not (principal.is_manager or principal.is_admin):
        raise forbid("Only managers and admins transfer customers.")
    if data.override_cap and not principal.is_admin:
        raise forbid("Only admins may override the holding cap.", "override_cap_forbidden")
    access = await load_customer(session, principal, customer_id)
    if not access.manages_owner:
        raise forbid("This customer's owner is outside your department.")
    target = await org_service.get_user(session, principal, data.to_user_id)
    customer = access.customer
    previous = customer.owner_id
    if previous == target.id:
        return customer
    await lock_holder_and_check_cap(
        session, principal.company_id, target.id, enforce=not data.override_cap
    )
    values = await _owned_values(session, customer, target.id)
    condition = Customer.owner_id.is_(None) if previous is None else Customer.owner_id == previous
    done = await session.scalar(
        update(Customer)
        .where(Customer.id == customer.id, condition, Customer.deleted_at.is_(None))
        .values(previous_owner_id=previous, **values)
        .returning(Customer.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        await session.rollback()
        raise ProblemError(409, "owner_changed", "The owner changed meanwhile; reload it.")
    kind = "assigned" if previous is None else "transferred"
    await _record(
        session,
        principal,
        customer,
        kind,
        from_user_id=previous,
        to_user_id=target.id,
        reason=data.reason,
    )
    await session.commit()
    await session.refresh(customer)
    return customer


async def record_deal(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: DealIn
) -> Deal:
    """A closed deal: restarts the no-deal clock."""
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
    at = now()
    deal = Deal(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        customer_id=customer_id,
        user_id=principal.user_id,
        amount=data.amount,
        note=data.note,
        closed_at=at,
        created_at=at,
    )
    session.add(deal)
    customer = access.customer
    customer.last_deal_at = at
    settings = await pool_settings(session, customer.company_id)
    pool = await session.get(Pool, customer.pool_id)
    clock = rules.recycle_clock(
        owned=customer.owner_id is not None,
        status=customer.status,
        claimed_at=customer.claimed_at,
        last_followup_at=customer.last_followup_at,
        last_deal_at=at,
        rules=recycle_rules(pool, settings),
    )
    customer.recycle_at, customer.recycle_reason = clock.recycle_at, clock.recycle_reason
    customer.version += 1
    await session.commit()
    return deal


# ---------- hooks into org ----------


async def on_signup(session: AsyncSession, company: Company, admin: User) -> None:
    """A new company gets its default pool and pool settings."""
    await ensure_company_pools(session, company.id)


async def on_user_deactivated(
    session: AsyncSession, principal: Principal, user: User, successor_id: uuid.UUID | None
) -> None:
    """A deactivated user's customers go to the successor (no cap: an admin's call) or the pool."""
    at = now()
    owned = and_(
        Customer.company_id == user.company_id,
        Customer.owner_id == user.id,
        Customer.deleted_at.is_(None),
    )
    reason = "owner deactivated"
    if successor_id is not None:
        await lock_holder_and_check_cap(session, user.company_id, successor_id, enforce=False)
        moved = (
            update(Customer)
            .where(owned)
            .values(
                owner_id=successor_id,
                previous_owner_id=user.id,
                claimed_at=at,
                updated_at=at,
                version=Customer.version + 1,
            )
            .returning(Customer.id, Customer.pool_id)
            .cte("moved")
        )
        kind, to_user = "transferred", successor_id
    else:
        moved = (
            update(Customer)
            .where(owned)
            .values(
                owner_id=None,
                previous_owner_id=user.id,
                claimed_at=None,
                recycle_at=None,
                recycle_reason=None,
                pooled_at=at,
                pool_entry_kind="released",
                pool_reason=reason,
                updated_at=at,
                version=Customer.version + 1,
            )
            .returning(Customer.id, Customer.pool_id)
            .cte("moved")
        )
        kind, to_user = "released", None
    handed = await session.execute(
        insert(OwnershipEvent).from_select(
            [
                "id",
                "company_id",
                "customer_id",
                "kind",
                "from_user_id",
                "to_user_id",
                "actor_id",
                "pool_id",
                "reason",
                "created_at",
            ],
            select(
                literal_column("gen_random_uuid()"),
                literal(user.company_id, Uuid()),
                moved.c.id,
                literal(kind),
                literal(user.id, Uuid()),
                literal(to_user, Uuid()),
                literal(principal.user_id, Uuid()),
                moved.c.pool_id,
                literal(reason),
                literal(at, DateTime(timezone=True)),
            ),
        )
    )
    if successor_id is not None:
        await recompute_recycle(session, user.company_id, owner_id=successor_id)
        if handed.rowcount:
            # One alert for the whole book, not one per customer.
            await notifications.notify(
                session,
                company_id=user.company_id,
                user_ids=[successor_id],
                kind="customers_handed_over",
                params={
                    "actor": (await session.get(User, principal.user_id)).name,
                    "from_user": user.name,
                    "count": handed.rowcount,
                },
                dedupe_key=f"handover:{user.id}:{at.isoformat()}",
                actor_id=principal.user_id,
                deep_link="outfield://customers?owner=me",
            )
