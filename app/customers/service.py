"""Customers: create (with duplicate check and cap), read, list, edit, delete; contacts."""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import ProblemError
from app.core.pagination import PageParams, Ts, make_page, paginate
from app.customers import errors, rules, transitions
from app.customers.access import customer_visibility, forbid, load_customer
from app.customers.clock import refresh_recycle_clock
from app.customers.filters import CustomerFilters, PoolFilters
from app.customers.models import Customer, Pool
from app.customers.pools import lock_holder_and_check_cap, pool_for, pool_settings, recycle_rules
from app.customers.schemas import (
    CustomerCreate,
    CustomerUpdate,
    DuplicateMatch,
)
from app.db import AnyRow, savepoint, table_of
from app.notifications.webhooks.service import enqueue_event

# Statuses only a deal sets (`deals.close_deal`): a won customer may be exempt from
# recycling, so a rep could otherwise keep a customer out of the pool by saying so.
DEAL_STATUSES = frozenset({"won", "lost"})


def _request_hash(data: CustomerCreate) -> str:
    payload = data.model_dump(mode="json", exclude={"id"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def find_duplicates(
    session: AsyncSession,
    principal: Principal,
    name: str | None,
    phone: str | None,
    exclude_id: uuid.UUID | None = None,
) -> list[DuplicateMatch]:
    """Customers of the company whose normalised name or phone matches (查重)."""
    name_key = rules.normalise_name(name) if name else None
    phone_key = rules.normalise_phone(phone)
    conditions = []
    if name_key:
        conditions.append(Customer.name_normalized == name_key)
    if phone_key:
        conditions.append(Customer.phone_normalized == phone_key)
    if not conditions:
        return []
    visible = customer_visibility(principal).label("visible")
    stmt = select(
        Customer.id,
        Customer.name,
        Customer.owner_id,
        Customer.name_normalized,
        Customer.phone_normalized,
        visible,
    ).where(
        Customer.company_id == principal.company_id, Customer.deleted_at.is_(None), or_(*conditions)
    )
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    matches = []
    for row in (await session.execute(stmt.limit(10))).all():
        matched_on: list[Literal["name", "phone"]] = []
        if name_key and row.name_normalized == name_key:
            matched_on.append("name")
        if phone_key and row.phone_normalized == phone_key:
            matched_on.append("phone")
        in_pool = row.owner_id is None
        matches.append(
            DuplicateMatch(
                customer_id=row.id,
                matched_on=matched_on,
                visible=bool(row.visible),
                in_pool=in_pool,
                name=row.name if (row.visible or in_pool) else None,
            )
        )
    return matches


def _duplicate_problem(matches: list[DuplicateMatch]) -> ProblemError:
    first = matches[0]
    where = (
        "in the public pool: claim it instead"
        if first.in_pool
        else ("already yours or visible to you" if first.visible else "owned by a colleague")
    )
    return errors.duplicate_customer(
        where,
        existing_customer_id=str(first.customer_id),
        visible=first.visible,
        in_pool=first.in_pool,
        duplicates=[m.model_dump(mode="json") for m in matches],
    )


# The 409 of a duplicate, for the customer restore (`app.retention.restore`) too.
duplicate_problem = _duplicate_problem


@asynccontextmanager
async def _unique_customer(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    name: str,
    phone: str | None,
) -> AsyncIterator[None]:
    """The customer written in the block (name and phone as given), flushed in a savepoint:
    a concurrent create got there first when the unique index objects — the index is the real
    duplicate check — and the request, still in its transaction, answers which one."""
    try:
        async with savepoint(session):
            yield
    except IntegrityError as exc:
        matches = await find_duplicates(session, principal, name, phone, exclude_id=customer_id)
        if matches:
            raise _duplicate_problem(matches) from exc
        raise client_ids.id_conflict() from exc


def _apply_location(customer: Customer, data: Any) -> None:
    if data.location is None:
        customer.latitude = customer.longitude = None
    else:
        customer.latitude, customer.longitude = data.location.wgs84()


async def _initial_clock(session: AsyncSession, customer: Customer) -> None:
    """The clock of a customer not yet written (afterwards: `refresh_recycle_clock`)."""
    settings = await pool_settings(session, customer.company_id)
    governing = await session.get_one(Pool, customer.pool_id)
    clock = rules.recycle_clock(
        owned=customer.owner_id is not None,
        status=customer.status,
        claimed_at=customer.claimed_at,
        last_followup_at=customer.last_followup_at,
        last_deal_at=customer.last_deal_at,
        rules=recycle_rules(governing, settings),
    )
    customer.recycle_at, customer.recycle_reason = clock.recycle_at, clock.recycle_reason
    customer.recycle_check_at = rules.recycle_check_at(clock.recycle_at, governing.warning_days)


async def create_customer(
    session: AsyncSession, principal: Principal, data: CustomerCreate
) -> tuple[Customer, bool]:
    """A new customer owned by the caller (or in its pool); returns (customer, created)."""
    request_hash = _request_hash(data)
    if data.status in DEAL_STATUSES:
        raise errors.status_needs_deal(data.status)
    if data.id is not None:
        existing = await session.get(Customer, data.id)
        if existing is not None:
            if (
                existing.company_id == principal.company_id
                and existing.create_request_hash == request_hash
                and existing.deleted_at is None
            ):
                return existing, False
            raise client_ids.id_conflict()
    matches = await find_duplicates(session, principal, data.name, data.phone)
    if matches:
        raise _duplicate_problem(matches)
    at = now()
    owner_id = None if data.in_pool else principal.user_id
    if owner_id is not None:
        await lock_holder_and_check_cap(session, principal.company_id, owner_id)
    pool = await pool_for(session, principal.company_id, data.region, data.industry)
    customer = Customer(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        name_normalized=rules.normalise_name(data.name),
        industry=data.industry,
        size=data.size,
        tier=data.tier,
        source=data.source,
        region=data.region,
        address=data.address,
        phone=data.phone,
        phone_normalized=rules.normalise_phone(data.phone),
        status=data.status,
        tags=data.tags,
        custom_fields=data.custom_fields,
        owner_id=owner_id,
        pool_id=pool.id,
        claimed_at=at if owner_id else None,
        last_deal_at=None,
        pooled_at=None if owner_id else at,
        pool_entry_kind=None if owner_id else "created",
        created_by=principal.user_id,
        create_request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    _apply_location(customer, data)
    await _initial_clock(session, customer)
    async with _unique_customer(session, principal, customer.id, data.name, data.phone):
        session.add(customer)
    await transitions.publish(
        session,
        "created",
        [transitions.Changed.of(customer)],
        at=at,
        actor_id=principal.user_id,
    )
    await session.flush()
    await session.refresh(customer)
    await enqueue_event(
        session,
        customer.company_id,
        "customer.created",
        {**webhook_data(customer), "actor_id": str(principal.user_id)},
        occurred_at=at,
    )
    return customer, True


def webhook_data(customer: Customer) -> dict[str, Any]:
    """A customer's public fields in `customer.created` / `customer.updated` events (what an
    ERP mirrors; clocks and pool internals stay out)."""
    location = None
    if customer.latitude is not None and customer.longitude is not None:
        location = {"lat": customer.latitude, "lng": customer.longitude}
    return {
        "id": str(customer.id),
        "name": customer.name,
        "industry": customer.industry,
        "size": customer.size,
        "tier": customer.tier,
        "source": customer.source,
        "region": customer.region,
        "address": customer.address,
        "location": location,
        "phone": customer.phone,
        "status": customer.status,
        "tags": list(customer.tags or []),
        "custom_fields": dict(customer.custom_fields or {}),
        "owner_id": str(customer.owner_id) if customer.owner_id else None,
        "pool_id": str(customer.pool_id),
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def filtered(
    stmt: Select[*Ts],
    filters: CustomerFilters,
    principal: Principal,
    pool: PoolFilters | None = None,
) -> Select[*Ts]:
    """Apply the customer list filters shared by /customers and /pool/customers."""
    if filters.owner == "me":
        stmt = stmt.where(Customer.owner_id == principal.user_id)
    elif filters.owner is not None:
        stmt = stmt.where(Customer.owner_id == filters.owner)
    for column, value in (
        (Customer.industry, filters.industry),
        (Customer.size, filters.size),
        (Customer.tier, filters.tier),
        (Customer.status, filters.status),
        (Customer.region, filters.region),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(Customer.name.ilike(pattern))
    if filters.tag:
        stmt = stmt.where(Customer.tags.contains([filters.tag]))
    for key, value in filters.custom.items():
        stmt = stmt.where(Customer.custom_fields.contains({key: value}))
    if filters.near is not None:
        lat, lng, radius_m = filters.near
        point = func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326)
        stmt = stmt.where(func.ST_DWithin(Customer.location, func.Geography(point), radius_m))
    if pool is not None:
        if pool.pool_id is not None:
            stmt = stmt.where(Customer.pool_id == pool.pool_id)
        if pool.previous_owner_id is not None:
            stmt = stmt.where(Customer.previous_owner_id == pool.previous_owner_id)
        if pool.recycled_since is not None:
            stmt = stmt.where(
                Customer.pool_entry_kind == "recycled", Customer.pooled_at >= pool.recycled_since
            )
    return stmt


# Lists read plain rows (Core), not ORM instances: identity map and instance state cost more
# than the query itself on a 20-row page. The generated geography columns are left out.
LIST_COLUMNS = tuple(column for column in table_of(Customer).c if column.key != "location")
LIST_BASE = select(*LIST_COLUMNS)  # built once; .where() makes a copy


async def list_customers(
    session: AsyncSession, principal: Principal, params: PageParams, filters: CustomerFilters
) -> tuple[list[AnyRow], str | None]:
    """Visible customers, newest first, filtered (plain rows with the Customer attributes)."""
    stmt = filtered(LIST_BASE.where(customer_visibility(principal)), filters, principal)
    rows = list(
        (await session.execute(paginate(stmt, Customer.created_at, Customer.id, params))).all()
    )
    return make_page(rows, params)


async def list_pool_customers(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    filters: CustomerFilters,
    pool: PoolFilters,
) -> tuple[list[AnyRow], str | None]:
    """Customers in the pools, newest first, filtered (plain rows, as list_customers)."""
    stmt = LIST_BASE.where(customer_visibility(principal), Customer.owner_id.is_(None))
    stmt = filtered(stmt, filters, principal, pool)
    rows = list(
        (await session.execute(paginate(stmt, Customer.created_at, Customer.id, params))).all()
    )
    return make_page(rows, params)


async def _apply_update(
    session: AsyncSession, customer: Customer, data: CustomerUpdate, name: str, phone: str | None
) -> None:
    """Write the edit onto the customer (in the caller's savepoint)."""
    fields = data.model_fields_set
    if {"name", "phone"} & fields:
        customer.name = name
        customer.name_normalized = rules.normalise_name(name)
        customer.phone = phone
        customer.phone_normalized = rules.normalise_phone(phone)
    for field in (
        "industry",
        "size",
        "tier",
        "source",
        "region",
        "address",
        "tags",
        "custom_fields",
    ):
        if field in fields:
            value = getattr(data, field)
            if value is None and field in ("tags", "custom_fields"):
                value = [] if field == "tags" else {}
            setattr(customer, field, value)
    if "location" in fields:
        _apply_location(customer, data)
    if "status" in fields and data.status is not None and data.status != customer.status:
        customer.status = data.status
    if {"region", "industry"} & fields and customer.owner_id is not None:
        customer.pool_id = (
            await pool_for(session, customer.company_id, customer.region, customer.industry)
        ).id
    customer.version += 1


async def update_customer(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    data: CustomerUpdate,
    if_match: str | None,
) -> Customer:
    """Edit descriptive fields (If-Match required); owner and clocks are not editable here."""
    access = await load_customer(session, principal, customer_id, lock=True)
    if not access.can_edit:
        raise forbid("Only the owner, collaborators and their managers may edit this customer.")
    customer = access.customer
    check_if_match(if_match, customer.version)
    fields = data.model_fields_set
    if "status" in fields and data.status in DEAL_STATUSES and data.status != customer.status:
        raise errors.status_needs_deal(data.status)
    name = data.name if "name" in fields and data.name else customer.name
    phone = data.phone if "phone" in fields else customer.phone
    if {"name", "phone"} & fields:
        matches = await find_duplicates(session, principal, name, phone, exclude_id=customer.id)
        if matches:
            raise _duplicate_problem(matches)
    async with _unique_customer(session, principal, customer.id, name, phone):
        await _apply_update(session, customer, data, name, phone)
    await refresh_recycle_clock(session, customer.id)
    await session.flush()
    await session.refresh(customer)
    await enqueue_event(
        session,
        customer.company_id,
        "customer.updated",
        {
            **webhook_data(customer),
            "changed": sorted(data.model_fields_set),
            "actor_id": str(principal.user_id),
        },
        occurred_at=customer.updated_at,
    )
    return customer


async def delete_customer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID
) -> None:
    """Soft delete: the owner or someone above them (collaborators may not)."""
    access = await load_customer(session, principal, customer_id, lock=True)
    if not access.can_direct:
        raise forbid("Only the owner or their managers may delete this customer.")
    access.customer.deleted_at = now()
    access.customer.recycle_at = access.customer.recycle_check_at = None
    access.customer.version += 1
    await session.flush()
