"""Lead pools (线索池) and every change of a lead's owner through the API: claim (pull),
assign (push), release.

Holding cap and daily limit: a rep's load is the open leads (not converted, not
disqualified) they own in the company; the pool's `holding_cap` bounds it. The daily claim
limit counts the caller's `claimed` events of this pool since midnight in company time.
Every path that gives one user a lead by hand (claim, assign) first takes a transaction
advisory lock on that user's lead holdings, so concurrent claims at cap − 1 see each
other: exactly one wins.
"""

import uuid
from datetime import datetime

from sqlalchemy import Uuid, bindparam, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers import errors as customer_errors
from app.customers.access import subtree_user_ids
from app.db import savepoint
from app.fieldwork.periods import local_date, local_midnight
from app.leads import errors
from app.leads.models import Lead, LeadEvent, LeadPool, LeadPoolMember
from app.leads.pools.assignment import (
    announce_assignments,
    record_owner_changes,
    sync_owner_changes,
)
from app.leads.pools.schemas import AssignIn, LeadPoolCreate, LeadPoolUpdate, PoolMemberIn
from app.leads.visibility import lead_visibility, member_pool_ids, pool_visibility
from app.org import errors as org_errors
from app.org.models import Company, Department, User

_LOCK_HOLDER = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('lead-holder:' || CAST(:user_id AS text), 0))"
).bindparams(bindparam("user_id", type_=Uuid()))

_HELD = text("""
SELECT count(*) FROM leads
WHERE company_id = :company_id AND owner_id = :user_id AND deleted_at IS NULL
  AND status NOT IN ('converted', 'disqualified')
""").bindparams(bindparam("company_id", type_=Uuid()), bindparam("user_id", type_=Uuid()))

_CLAIMED_SINCE = text("""
SELECT count(*) FROM lead_events
WHERE company_id = :company_id AND user_id = :user_id AND kind = 'claimed'
  AND pool_id = :pool_id AND at >= :since
""").bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("user_id", type_=Uuid()),
    bindparam("pool_id", type_=Uuid()),
)

# Give an unowned lead of the pool to one user (a claim): only if still unowned.
_TAKE = text("""
UPDATE leads SET owner_id = :user_id, claimed_at = :at, updated_at = :at, version = version + 1
WHERE id = :lead_id AND company_id = :company_id AND pool_id = :pool_id
  AND owner_id IS NULL AND deleted_at IS NULL AND status <> 'converted'
RETURNING id, owner_id, pool_id, name, company_name, version
""").bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("user_id", type_=Uuid()),
    bindparam("pool_id", type_=Uuid()),
    bindparam("lead_id", type_=Uuid()),
)


# ---------------------------------------------------------------------------------------
# Pools


async def members_of(
    session: AsyncSession, company_id: uuid.UUID, pool_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[LeadPoolMember]]:
    """The members of each pool."""
    found: dict[uuid.UUID, list[LeadPoolMember]] = {pool_id: [] for pool_id in pool_ids}
    if not pool_ids:
        return found
    rows = await session.scalars(
        select(LeadPoolMember)
        .where(LeadPoolMember.company_id == company_id, LeadPoolMember.pool_id.in_(pool_ids))
        .order_by(LeadPoolMember.department_id.nulls_last(), LeadPoolMember.user_id)
    )
    for member in rows:
        found[member.pool_id].append(member)
    return found


async def _check_members(
    session: AsyncSession, company_id: uuid.UUID, members: list[PoolMemberIn]
) -> None:
    """422 for a member department or user that is not an active one of the company."""
    department_ids = {m.department_id for m in members if m.department_id is not None}
    user_ids = {m.user_id for m in members if m.user_id is not None}
    if department_ids:
        found = set(
            await session.scalars(
                select(Department.id).where(
                    Department.company_id == company_id,
                    Department.id.in_(department_ids),
                    Department.deactivated_at.is_(None),
                )
            )
        )
        if found != department_ids:
            raise org_errors.unknown_department("members")
    if user_ids:
        found = set(
            await session.scalars(
                select(User.id).where(
                    User.company_id == company_id, User.id.in_(user_ids), User.is_active
                )
            )
        )
        if found != user_ids:
            raise customer_errors.unknown_user()


def _member_rows(
    company_id: uuid.UUID, pool_id: uuid.UUID, members: list[PoolMemberIn]
) -> list[LeadPoolMember]:
    seen: set[tuple[uuid.UUID | None, uuid.UUID | None]] = set()
    rows = []
    for member in members:
        key = (member.department_id, member.user_id)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            LeadPoolMember(
                id=uuid.uuid4(),
                company_id=company_id,
                pool_id=pool_id,
                department_id=member.department_id,
                user_id=member.user_id,
            )
        )
    return rows


async def _name_free(
    session: AsyncSession, company_id: uuid.UUID, name: str, except_id: uuid.UUID | None
) -> None:
    stmt = select(LeadPool.id).where(
        LeadPool.company_id == company_id, LeadPool.name == name, LeadPool.deleted_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(LeadPool.id != except_id)
    if await session.scalar(stmt) is not None:
        raise errors.lead_pool_name_taken(name)


async def create_pool(
    session: AsyncSession, principal: Principal, data: LeadPoolCreate
) -> tuple[LeadPool, bool]:
    """Admin: a new pool with its members; returns (pool, created)."""
    digest = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        LeadPool,
        data.id,
        digest,
        lambda row: row.company_id == principal.company_id and row.deleted_at is None,
    )
    if existing is not None:
        return existing, False
    await _check_members(session, principal.company_id, data.members)
    await _name_free(session, principal.company_id, data.name, None)
    at = now()
    pool = LeadPool(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        region=data.region,
        industry=data.industry,
        mode=data.mode,
        assignment=data.assignment,
        daily_claim_limit=data.daily_claim_limit,
        holding_cap=data.holding_cap,
        recycle_after_days=data.recycle_after_days,
        request_hash=digest,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(pool)
    except IntegrityError as exc:  # a concurrent create: same id or same name
        if data.id is not None and await session.get(LeadPool, data.id) is not None:
            raise client_ids.id_conflict() from exc
        raise errors.lead_pool_name_taken(data.name) from exc
    session.add_all(_member_rows(principal.company_id, pool.id, data.members))
    await session.flush()
    return pool, True


async def get_pool(
    session: AsyncSession, principal: Principal, pool_id: uuid.UUID, *, lock: bool = False
) -> LeadPool:
    """A pool the caller may see, or 404."""
    stmt = select(LeadPool).where(LeadPool.id == pool_id, pool_visibility(principal))
    if lock:
        stmt = stmt.with_for_update()
    pool = await session.scalar(stmt)
    if pool is None:
        raise not_found("lead pool")
    return pool


async def list_pools(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[LeadPool], str | None]:
    """Visible pools, newest first."""
    stmt = select(LeadPool).where(pool_visibility(principal))
    rows = list(
        (await session.execute(paginate(stmt, LeadPool.created_at, LeadPool.id, params))).scalars()
    )
    return make_page(rows, params)


async def update_pool(
    session: AsyncSession,
    principal: Principal,
    pool_id: uuid.UUID,
    data: LeadPoolUpdate,
    if_match: str | None,
) -> LeadPool:
    """Admin: change a pool (If-Match); `members`, when given, replaces them all."""
    pool = await get_pool(session, principal, pool_id, lock=True)
    check_if_match(if_match, pool.version)
    fields = data.model_fields_set
    if "name" in fields and data.name is not None and data.name != pool.name:
        await _name_free(session, principal.company_id, data.name, pool.id)
        pool.name = data.name
    for name in ("region", "industry", "daily_claim_limit", "holding_cap", "recycle_after_days"):
        if name in fields:
            setattr(pool, name, getattr(data, name))
    for name in ("mode", "assignment"):
        if name in fields and getattr(data, name) is not None:
            setattr(pool, name, getattr(data, name))
    if "members" in fields and data.members is not None:
        await _check_members(session, principal.company_id, data.members)
        await session.execute(
            delete(LeadPoolMember).where(
                LeadPoolMember.company_id == principal.company_id,
                LeadPoolMember.pool_id == pool.id,
            )
        )
        session.add_all(_member_rows(principal.company_id, pool.id, data.members))
    pool.version += 1
    pool.updated_at = now()
    try:
        async with savepoint(session):
            pass
    except IntegrityError as exc:
        raise errors.lead_pool_name_taken(pool.name) from exc
    return pool


async def delete_pool(session: AsyncSession, principal: Principal, pool_id: uuid.UUID) -> None:
    """Admin: soft delete; 409 `lead_pool_not_empty` while it holds leads (any but converted)."""
    pool = await get_pool(session, principal, pool_id, lock=True)
    held = await session.scalar(
        select(func.count()).where(
            Lead.company_id == principal.company_id,
            Lead.pool_id == pool.id,
            Lead.deleted_at.is_(None),
            Lead.status != "converted",
        )
    )
    if held:
        raise errors.lead_pool_not_empty(int(held))
    pool.deleted_at = now()
    pool.version += 1
    await session.flush()


# ---------------------------------------------------------------------------------------
# Owner changes


async def lock_holder(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(_LOCK_HOLDER, {"user_id": user_id})


async def held(session: AsyncSession, company_id: uuid.UUID, user_id: uuid.UUID) -> int:
    return int(await session.scalar(_HELD, {"company_id": company_id, "user_id": user_id}) or 0)


async def _company_midnight(session: AsyncSession, company_id: uuid.UUID, at: datetime) -> datetime:
    """The start of the company's day (its time zone) that holds `at`."""
    zone = await session.scalar(select(Company.time_zone).where(Company.id == company_id))
    zone = zone or "Asia/Shanghai"
    return local_midnight(local_date(at, zone), zone)


async def _is_member(session: AsyncSession, principal: Principal, pool_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(LeadPool.id).where(
            LeadPool.id == pool_id, LeadPool.id.in_(member_pool_ids(principal))
        )
    )
    return found is not None


async def manages(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> bool:
    """Admin, or a manager whose department subtree holds the user."""
    if principal.is_admin:
        return True
    if not (principal.is_manager and principal.department_path):
        return False
    return await session.scalar(subtree_user_ids(principal).where(User.id == user_id)) is not None


async def load_lead(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID, *, lock: bool = False
) -> Lead:
    """A lead the caller may see, or 404."""
    stmt = select(Lead).where(Lead.id == lead_id, lead_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Lead)
    lead = await session.scalar(stmt)
    if lead is None:
        raise not_found("lead")
    return lead


async def claim_lead(
    session: AsyncSession, principal: Principal, pool_id: uuid.UUID, lead_id: uuid.UUID
) -> Lead:
    """A member takes an unowned lead of a pull (or both) pool, within the daily limit and
    the cap; of two claimers one wins, the other gets 409 `lead_not_in_pool`."""
    pool = await get_pool(session, principal, pool_id)
    if not await _is_member(session, principal, pool.id):
        raise errors.lead_pool_not_member()
    if pool.mode not in ("pull", "both"):
        raise errors.lead_pool_mode(pool.mode)
    await lock_holder(session, principal.user_id)
    at = now()
    if pool.daily_claim_limit is not None:
        since = await _company_midnight(session, principal.company_id, at)
        claimed = await session.scalar(
            _CLAIMED_SINCE,
            {
                "company_id": principal.company_id,
                "user_id": principal.user_id,
                "pool_id": pool.id,
                "since": since,
            },
        )
        if int(claimed or 0) >= pool.daily_claim_limit:
            raise errors.lead_claim_limit_reached(pool.daily_claim_limit)
    if (
        pool.holding_cap is not None
        and await held(session, principal.company_id, principal.user_id) >= pool.holding_cap
    ):
        raise errors.lead_cap_reached(pool.holding_cap)
    row = (
        await session.execute(
            _TAKE,
            {
                "company_id": principal.company_id,
                "user_id": principal.user_id,
                "pool_id": pool.id,
                "lead_id": lead_id,
                "at": at,
            },
        )
    ).first()
    if row is None:
        exists = await session.scalar(
            select(Lead.id).where(
                Lead.id == lead_id,
                Lead.company_id == principal.company_id,
                Lead.pool_id == pool.id,
                Lead.deleted_at.is_(None),
            )
        )
        if exists is None:
            raise not_found("lead")
        raise errors.lead_not_in_pool()
    sync_owner_changes(session, [row], at)
    await record_owner_changes(
        session, principal.company_id, "claimed", [row], actor_id=principal.user_id, at=at
    )
    await announce_assignments(
        session, principal.company_id, [row], actor_id=principal.user_id, at=at
    )
    return await load_lead(session, principal, lead_id)


async def assign_lead(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID, data: AssignIn
) -> Lead:
    """Push: an admin (or a manager, to a user of their subtree) gives a lead of a push (or
    both) pool to an active user below the pool's cap (admins may `override_cap`)."""
    if not (principal.is_admin or principal.is_manager):
        raise forbidden("Only admins and managers assign leads.")
    if data.override_cap and not principal.is_admin:
        raise forbidden("Only admins may assign above the cap.")
    lead = await load_lead(session, principal, lead_id, lock=True)
    if lead.status == "converted":
        raise errors.lead_already_converted(
            str(lead.converted_customer_id) if lead.converted_customer_id else None
        )
    pool = await session.get_one(LeadPool, lead.pool_id)
    if pool.mode not in ("push", "both"):
        raise errors.lead_pool_mode(pool.mode)
    target = await session.scalar(
        select(User).where(User.id == data.user_id, User.company_id == principal.company_id)
    )
    if target is None:
        raise customer_errors.unknown_user()
    if not target.is_active:
        raise customer_errors.user_inactive()
    if not await manages(session, principal, target.id):
        raise forbidden("Managers assign leads to users of their own department subtree.")
    if lead.owner_id == target.id:
        return lead
    await lock_holder(session, target.id)
    if (
        pool.holding_cap is not None
        and not data.override_cap
        and await held(session, principal.company_id, target.id) >= pool.holding_cap
    ):
        raise errors.lead_cap_reached(pool.holding_cap)
    at = now()
    lead.owner_id = target.id
    lead.claimed_at = at
    lead.updated_at = at
    lead.version += 1
    await session.flush()
    rows = [owner_row(lead)]
    await record_owner_changes(
        session, principal.company_id, "assigned", rows, actor_id=principal.user_id, at=at
    )
    await announce_assignments(
        session, principal.company_id, rows, actor_id=principal.user_id, at=at
    )
    return lead


class _OwnerRow:
    """The columns `record_owner_changes` and `announce_assignments` read, from a Lead."""

    def __init__(self, lead: Lead) -> None:
        self.id = lead.id
        self.owner_id = lead.owner_id
        self.pool_id = lead.pool_id
        self.name = lead.name
        self.company_name = lead.company_name
        self.version = lead.version


def owner_row(lead: Lead) -> _OwnerRow:
    return _OwnerRow(lead)


async def release_lead(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID, reason: str | None
) -> Lead:
    """The owner (or a manager above them, or an admin) puts a lead back into its pool."""
    lead = await load_lead(session, principal, lead_id, lock=True)
    if lead.owner_id is None:
        raise errors.lead_not_owned("This lead is already in its pool.")
    if lead.status == "converted":
        raise errors.lead_already_converted(
            str(lead.converted_customer_id) if lead.converted_customer_id else None
        )
    if lead.owner_id != principal.user_id and not await manages(session, principal, lead.owner_id):
        raise forbidden("Only the owner or a manager above them may release a lead.")
    at = now()
    lead.owner_id = None
    lead.claimed_at = None
    lead.updated_at = at
    lead.version += 1
    await session.flush()
    await record_owner_changes(
        session,
        principal.company_id,
        "released",
        [owner_row(lead)],
        actor_id=principal.user_id,
        at=at,
        reason=reason,
    )
    return lead


async def lead_events(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID, params: PageParams
) -> tuple[list[LeadEvent], str | None]:
    """A visible lead's history, newest first."""
    lead = await load_lead(session, principal, lead_id)
    stmt = select(LeadEvent).where(
        LeadEvent.company_id == principal.company_id, LeadEvent.lead_id == lead.id
    )
    rows = list(
        (await session.execute(paginate(stmt, LeadEvent.at, LeadEvent.id, params))).scalars()
    )
    return make_page(rows, params, key=lambda event: (event.at, event.id))
