"""Leads (线索): create (duplicate check, pool, owner, automatic assignment), read, list,
edit, delete.

Pool of a new lead without `pool_id`: the company's oldest live pool whose region and
industry both equal the lead's, else the oldest matching either, else the oldest pool; a
company without a lead pool cannot take leads (422 `no_lead_pool`). Owner: `owner_id`
(admins and managers, for a user of their subtree: a push, so the pool's mode must allow
push), else the creator unless `in_pool`; an unowned lead of an automatic pool is then
handed out at once. A new lead writes a `created` event (and `assigned` when pushed), the
`lead.created` webhook and no feed item (the feed is about customers; a lead reaches it
when converted). The duplicate check runs before the insert; two concurrent creates of one
lead may both pass it (leads have no unique key: the check is advisory, like a CRM's).
"""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, Uuid, and_, bindparam, case, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden
from app.core.pagination import PageParams, make_page, paginate
from app.customers import errors as customer_errors
from app.db import savepoint
from app.leads import errors, rules
from app.leads.duplicates import find_duplicates
from app.leads.models import Lead, LeadPool
from app.leads.pools import service as pools
from app.leads.pools.assignment import (
    announce_assignments,
    assign_new_leads,
    record_owner_changes,
)
from app.leads.records.schemas import LeadCreate, LeadUpdate
from app.leads.visibility import lead_visibility
from app.notifications.webhooks.service import enqueue_event
from app.org.models import User

DUPLICATE_KEYS = ("phone", "email", "company_name")


def duplicate_problem(matches: list[dict[str, Any]]) -> Exception:
    """409 `duplicate_lead` with the matches as JSON."""
    return errors.duplicate_lead(json.loads(json.dumps(matches, default=str)))


async def _pool_for(session: AsyncSession, principal: Principal, data: LeadCreate) -> LeadPool:
    live = (LeadPool.company_id == principal.company_id) & LeadPool.deleted_at.is_(None)
    if data.pool_id is not None:
        pool = await session.scalar(select(LeadPool).where(live, LeadPool.id == data.pool_id))
        if pool is None:
            raise errors.no_lead_pool("No lead pool with that id in your company.")
        return pool
    region = func.coalesce(LeadPool.region == data.region, False)
    industry = func.coalesce(LeadPool.industry == data.industry, False)
    pool = await session.scalar(
        select(LeadPool)
        .where(live)
        .order_by(
            case((and_(region, industry), 0), (or_(region, industry), 1), else_=2),
            LeadPool.created_at,
            LeadPool.id,
        )
        .limit(1)
    )
    if pool is None:
        raise errors.no_lead_pool()
    return pool


async def _owner_for(
    session: AsyncSession, principal: Principal, data: LeadCreate, pool: LeadPool
) -> uuid.UUID | None:
    """The owner of a new lead (checked: active, the caller's to give, below the cap)."""
    if data.owner_id is None or data.owner_id == principal.user_id:
        if data.in_pool and data.owner_id is None:
            return None
        owner_id = principal.user_id
    else:
        if not (principal.is_admin or principal.is_manager):
            raise forbidden("Only admins and managers create leads for someone else.")
        if pool.mode not in ("push", "both"):
            raise errors.lead_pool_mode(pool.mode)
        target = await session.scalar(
            select(User).where(User.id == data.owner_id, User.company_id == principal.company_id)
        )
        if target is None:
            raise customer_errors.unknown_user()
        if not target.is_active:
            raise customer_errors.user_inactive()
        if not await pools.manages(session, principal, target.id):
            raise forbidden("Managers assign leads to users of their own department subtree.")
        owner_id = target.id
    await pools.lock_holder(session, owner_id)
    if (
        pool.holding_cap is not None
        and await pools.held(session, principal.company_id, owner_id) >= pool.holding_cap
    ):
        raise errors.lead_cap_reached(pool.holding_cap)
    return owner_id


def _apply_keys(lead: Lead) -> None:
    lead.phone_normalized = rules.normalise_phone(lead.phone)
    lead.email_normalized = rules.normalise_email(lead.email)
    lead.company_name_normalized = rules.normalise_company_name(lead.company_name)


def lead_subject(lead: Lead) -> dict[str, Any]:
    """The webhook subject of a lead."""
    return {
        "lead_id": lead.id,
        "name": lead.name,
        "company_name": lead.company_name,
        "source": lead.source,
        "campaign": lead.campaign,
        "pool_id": lead.pool_id,
        "owner_id": lead.owner_id,
        "status": lead.status,
    }


async def create_lead(
    session: AsyncSession, principal: Principal, data: LeadCreate
) -> tuple[Lead, bool]:
    """A new lead; returns (lead, created)."""
    digest = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Lead,
        data.id,
        digest,
        lambda row: (
            row.company_id == principal.company_id
            and row.created_by == principal.user_id
            and row.deleted_at is None
        ),
    )
    if existing is not None:
        return existing, False
    pool = await _pool_for(session, principal, data)
    matches = await find_duplicates(
        session, principal, phone=data.phone, email=data.email, company_name=data.company_name
    )
    if matches:
        raise duplicate_problem(matches)
    owner_id = await _owner_for(session, principal, data, pool)
    at = now()
    fields = data.model_dump(exclude={"id", "pool_id", "owner_id", "in_pool"})
    lead = Lead(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        pool_id=pool.id,
        owner_id=owner_id,
        status="new",
        claimed_at=at if owner_id is not None else None,
        followup_count=0,
        created_by=principal.user_id,
        request_hash=digest,
        version=1,
        created_at=at,
        updated_at=at,
        **fields,
    )
    _apply_keys(lead)
    try:
        async with savepoint(session):
            session.add(lead)
    except IntegrityError as exc:  # a concurrent create with the same id
        raise client_ids.id_conflict() from exc
    rows = [pools.owner_row(lead)]
    await record_owner_changes(
        session, principal.company_id, "created", rows, actor_id=principal.user_id, at=at
    )
    if owner_id is not None and owner_id != principal.user_id:
        await record_owner_changes(
            session, principal.company_id, "assigned", rows, actor_id=principal.user_id, at=at
        )
        await announce_assignments(
            session, principal.company_id, rows, actor_id=principal.user_id, at=at
        )
    await enqueue_event(
        session, principal.company_id, "lead.created", lead_subject(lead), occurred_at=at
    )
    if owner_id is None:
        await assign_new_leads(session, principal.user_id, pool, [lead.id])
    await session.flush()
    return lead, True


async def get_lead(session: AsyncSession, principal: Principal, lead_id: uuid.UUID) -> Lead:
    """One visible lead, or 404."""
    return await pools.load_lead(session, principal, lead_id)


def _list_statement(principal: Principal, filters: dict[str, Any]) -> Select[Lead]:
    stmt = select(Lead).where(lead_visibility(principal))
    owner = filters.get("owner")
    if owner == "me":
        stmt = stmt.where(Lead.owner_id == principal.user_id)
    elif owner == "none":
        stmt = stmt.where(Lead.owner_id.is_(None))
    elif owner is not None:
        stmt = stmt.where(Lead.owner_id == owner)
    for field in ("pool_id", "status", "source", "campaign"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(Lead, field) == filters[field])
    q = filters.get("q")
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Lead.name.ilike(pattern),
                Lead.company_name.ilike(pattern),
                Lead.phone.ilike(pattern),
                Lead.email.ilike(pattern),
            )
        )
    return stmt


async def list_leads(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[Lead], str | None]:
    """Visible leads, newest first."""
    stmt = _list_statement(principal, filters)
    rows = list((await session.execute(paginate(stmt, Lead.created_at, Lead.id, params))).scalars())
    return make_page(rows, params)


async def _check_may_edit(session: AsyncSession, principal: Principal, lead: Lead) -> None:
    """The owner, a manager above them, an admin; an unowned lead: admins and managers."""
    if lead.owner_id is None:
        if not (principal.is_admin or principal.is_manager):
            raise errors.lead_not_owned("This lead is in its pool: claim it first.")
        return
    if lead.owner_id != principal.user_id and not await pools.manages(
        session, principal, lead.owner_id
    ):
        raise forbidden("Only the owner or a manager above them may change this lead.")


async def update_lead(
    session: AsyncSession,
    principal: Principal,
    lead_id: uuid.UUID,
    data: LeadUpdate,
    if_match: str | None,
) -> Lead:
    """Edit a lead (If-Match); `converted` is set by conversion only (422)."""
    fields = data.model_fields_set
    if "status" in fields and data.status == "converted":
        raise errors.lead_status_not_settable()
    lead = await pools.load_lead(session, principal, lead_id, lock=True)
    await _check_may_edit(session, principal, lead)
    check_if_match(if_match, lead.version)
    if "status" in fields and data.status is not None and lead.status == "converted":
        raise errors.lead_already_converted(
            str(lead.converted_customer_id) if lead.converted_customer_id else None
        )
    keys_changed = False
    for name in fields:
        value = getattr(data, name)
        if value is None and name in ("name", "source", "status", "custom_fields"):
            continue  # not nullable: null means "leave it"
        if name in DUPLICATE_KEYS and value != getattr(lead, name):
            keys_changed = True
        setattr(lead, name, value)
    if keys_changed:
        _apply_keys(lead)
        matches = await find_duplicates(
            session,
            principal,
            phone=lead.phone if "phone" in fields else None,
            email=lead.email if "email" in fields else None,
            company_name=lead.company_name if "company_name" in fields else None,
            exclude_lead_id=lead.id,
        )
        if matches:
            raise duplicate_problem(matches)
    lead.version += 1
    lead.updated_at = now()
    await session.flush()
    return lead


async def delete_lead(session: AsyncSession, principal: Principal, lead_id: uuid.UUID) -> None:
    """Soft delete (the owner, a manager above them, an admin; pool leads: admins, managers)."""
    lead = await pools.load_lead(session, principal, lead_id, lock=True)
    await _check_may_edit(session, principal, lead)
    lead.deleted_at = now()
    lead.version += 1
    await session.flush()


async def check_duplicates(
    session: AsyncSession,
    principal: Principal,
    phone: str | None,
    email: str | None,
    company_name: str | None,
) -> list[dict[str, Any]]:
    """What a new lead with these keys would match."""
    return await find_duplicates(
        session, principal, phone=phone, email=email, company_name=company_name
    )


# ---------------------------------------------------------------------------------------
# Follow-ups on a lead (`app.fieldwork.followups` calls these)

_FOLLOWED_UP = text("""
UPDATE leads
SET last_followup_at = greatest(coalesce(last_followup_at, :at), :at),
    first_followup_at = coalesce(first_followup_at, :at),
    followup_count = followup_count + 1,
    status = CASE WHEN status = 'new' THEN 'contacted' ELSE status END,
    version = CASE WHEN status = 'new' THEN version + 1 ELSE version END,
    updated_at = :at
WHERE id = :lead_id AND company_id = :company_id
RETURNING id, status, version, last_followup_at, first_followup_at, followup_count
""").bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("lead_id", type_=Uuid()),
    bindparam("at", type_=DateTime(timezone=True)),
)


async def lead_for_followup(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID
) -> Lead:
    """The lead a follow-up is written on: visible (else 404) and owned by the caller, or
    by someone they manage (admins: any owned lead); a lead in its pool → 409
    `lead_not_owned` (claim it first), someone else's → 409 as well."""
    lead = await pools.load_lead(session, principal, lead_id, lock=True)
    if lead.owner_id is None:
        raise errors.lead_not_owned("This lead is in its pool: claim it first.")
    if lead.owner_id != principal.user_id and not await pools.manages(
        session, principal, lead.owner_id
    ):
        raise errors.lead_not_owned()
    return lead


async def lead_followed_up(
    session: AsyncSession, company_id: uuid.UUID, lead_id: uuid.UUID, at: datetime
) -> None:
    """Move the lead's clock for a follow-up at `at`: last/first follow-up, count, and
    status new → contacted."""
    row = (
        await session.execute(
            _FOLLOWED_UP, {"company_id": company_id, "lead_id": lead_id, "at": at}
        )
    ).first()
    if row is None:
        return
    lead = session.sync_session.identity_map.get(identity_key(Lead, lead_id))
    if isinstance(lead, Lead):
        for name in (
            "status",
            "version",
            "last_followup_at",
            "first_followup_at",
            "followup_count",
        ):
            set_committed_value(lead, name, getattr(row, name))
