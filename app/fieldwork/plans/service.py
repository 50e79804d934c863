"""Visit plans (拜访计划): the day's route, and plan vs actual."""

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.customers.access import load_customer
from app.customers.models import Customer
from app.db import savepoint
from app.fieldwork import periods
from app.fieldwork.models import Checkin, VisitPlan
from app.fieldwork.plans.schemas import PlanCreate, PlanUpdate
from app.org import users as org_users
from app.org.models import Company, User


async def plannable_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID | None
) -> uuid.UUID:
    """Reps plan for themselves; managers for users of their subtree; admins for anyone."""
    if user_id is None or user_id == principal.user_id:
        return principal.user_id
    if not (principal.is_manager or principal.is_admin):
        raise forbidden("Reps plan their own visits.")
    return (await org_users.get_user(session, principal, user_id)).id


def status_columns(time_zone: str) -> tuple[Any, Any]:
    """(checkin id of the day's visit, local date of today) for plan-vs-actual."""
    visited = (
        select(Checkin.id)
        .where(
            Checkin.user_id == VisitPlan.user_id,
            Checkin.customer_id == VisitPlan.customer_id,
            func.date(func.timezone(time_zone, Checkin.client_recorded_at)) == VisitPlan.plan_date,
        )
        .order_by(Checkin.client_recorded_at)
        .limit(1)
        .scalar_subquery()
    )
    return visited, periods.local_date(now(), time_zone)


def plan_status(plan_date: date, checkin_id: uuid.UUID | None, today: date) -> str:
    """done when visited that day; missed once the day is over; planned before."""
    if checkin_id is not None:
        return "done"
    return "missed" if plan_date < today else "planned"


async def create_plan(
    session: AsyncSession, principal: Principal, data: PlanCreate
) -> tuple[VisitPlan, bool]:
    """Plan a visit (a retried client id returns the same plan)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session, VisitPlan, data.id, request_hash, lambda row: row.created_by == principal.user_id
    )
    if existing is not None:
        return existing, False
    user_id = await plannable_user(session, principal, data.user_id)
    await load_customer(session, principal, data.customer_id)
    plan = VisitPlan(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=user_id,
        customer_id=data.customer_id,
        plan_date=data.plan_date,
        planned_time=data.planned_time,
        sequence=data.sequence,
        purpose=data.purpose,
        purposes=list(data.purposes),
        created_by=principal.user_id,
        request_hash=request_hash,
        version=1,
        created_at=now(),
        updated_at=now(),
    )
    try:
        async with savepoint(session):
            session.add(plan)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    return plan, True


async def _plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> VisitPlan:
    plan = await session.scalar(
        select(VisitPlan).where(
            VisitPlan.id == plan_id,
            VisitPlan.company_id == principal.company_id,
            VisitPlan.deleted_at.is_(None),
        )
    )
    if plan is None or not await _can_see(session, principal, plan):
        raise not_found("visit plan")  # 404, not 403, for a plan the caller may not see
    return plan


async def _can_see(session: AsyncSession, principal: Principal, plan: VisitPlan) -> bool:
    """A plan is seen by its planner, whoever wrote it, and managers above the planner (and
    admins): who may plan for that user."""
    if principal.user_id in (plan.user_id, plan.created_by):
        return True
    if not (principal.is_manager or principal.is_admin):
        return False
    return bool(
        await session.scalar(
            select(exists().where(User.id == plan.user_id, org_users.user_visibility(principal)))
        )
    )


async def update_plan(
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    data: PlanUpdate,
    if_match: str | None,
) -> VisitPlan:
    """Move, reorder or re-purpose a plan (If-Match required); a plan moved to another day
    or time is reminded again (`plans.reminders`)."""
    plan = await _plan(session, principal, plan_id)
    check_if_match(if_match, plan.version)
    when = (plan.plan_date, plan.planned_time)
    for field in data.model_fields_set:
        value = getattr(data, field)
        if field == "purposes":
            plan.purposes = list(value or [])
        elif value is not None or field in ("planned_time", "purpose"):
            setattr(plan, field, value)
    if (plan.plan_date, plan.planned_time) != when:
        plan.reminded_at = None
    plan.version += 1
    plan.updated_at = now()
    await session.flush()
    return plan


async def delete_plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> None:
    """Cancel a plan."""
    plan = await _plan(session, principal, plan_id)
    plan.deleted_at = now()
    await session.flush()


def day_version(plans: Iterable[VisitPlan]) -> int:
    """The version of a user's day of plans (its ETag is `etag_for` of it): a 48-bit digest
    of every live plan's (id, version), so any create, change or cancel of a plan that day
    moves it."""
    digest = hashlib.sha256()
    for plan_id, version in sorted((str(p.id), p.version) for p in plans):
        digest.update(f"{plan_id}:{version};".encode())
    return int(digest.hexdigest()[:12], 16)


ROUTE_ORDER = (VisitPlan.sequence, VisitPlan.planned_time.nulls_last(), VisitPlan.created_at)


async def day_route(
    session: AsyncSession,
    principal: Principal,
    day: date | None,
    user_id: uuid.UUID | None,
    purpose: str | None = None,
) -> tuple[date, uuid.UUID, list[Any], int]:
    """The user's plans of a day in planned order, each with its status and customer name
    (only those with `purpose` among their purposes, when given), and the day's version."""
    target = await plannable_user(session, principal, user_id)
    company = await session.get_one(Company, principal.company_id)
    day = day or periods.local_date(now(), company.time_zone)
    visited, today = status_columns(company.time_zone)
    rows = (
        await session.execute(
            select(VisitPlan, visited.label("checkin_id"), Customer.name.label("customer_name"))
            .join(Customer, and_(Customer.id == VisitPlan.customer_id))
            .where(
                VisitPlan.user_id == target,
                VisitPlan.plan_date == day,
                VisitPlan.deleted_at.is_(None),
            )
            .order_by(*ROUTE_ORDER)
        )
    ).all()
    version = day_version(plan for plan, _, _ in rows)
    return (
        day,
        target,
        [
            (plan, checkin_id, name, plan_status(plan.plan_date, checkin_id, today))
            for plan, checkin_id, name in rows
            if purpose is None or purpose in plan.purposes
        ],
        version,
    )


async def get_plan(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID
) -> tuple[Any, ...]:
    """One plan with its status."""
    plan = await _plan(session, principal, plan_id)
    company = await session.get_one(Company, principal.company_id)
    visited, today = status_columns(company.time_zone)
    checkin_id, name = (
        await session.execute(
            select(visited, Customer.name)
            .select_from(VisitPlan)
            .join(Customer, Customer.id == VisitPlan.customer_id)
            .where(VisitPlan.id == plan.id)
        )
    ).one()
    return plan, checkin_id, name, plan_status(plan.plan_date, checkin_id, today)
