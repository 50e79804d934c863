"""Visit statistics per user and rolled up the department tree (read-only, set-based SQL)."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import not_found
from app.fieldwork import periods
from app.fieldwork.models import Checkin, VisitPlan
from app.fieldwork.plans import service as plans
from app.org import departments as org_departments
from app.org import users as org_users
from app.org.models import Company, Department, User
from app.reports import errors

MAX_DAYS = 366


def _stats(
    visits: int, visited: int, duration: float | None, flagged: int, done: int, missed: int
) -> dict[str, int | float | None]:
    return {
        "visits": visits,
        "customers_visited": visited,
        "visits_per_customer": round(visits / visited, 2) if visited else None,
        "average_duration_s": round(duration, 1) if duration is not None else None,
        "flagged_share": round(flagged / visits, 4) if visits else None,
        "plans_done": done,
        "plans_missed": missed,
    }


def check_own_scope(
    principal: Principal, user_id: uuid.UUID | None, department_id: uuid.UUID | None
) -> None:
    """Every report's rule for reps: they see their own figures only — another user or any
    department is 404 to them (as if absent: a rep does not see a peer's numbers). Managers see
    their subtree, admins the company (checked by the org lookups)."""
    if principal.is_admin or principal.is_manager:
        return
    if user_id is not None and user_id != principal.user_id:
        raise not_found("user")
    if department_id is not None:
        raise not_found("department")


async def report_scope(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> tuple[list[User], str | None]:
    """The users the report covers, and the path prefix of its department (if any). A rep's
    figures are their own (`check_own_scope`)."""
    check_own_scope(principal, user_id, department_id)
    if user_id is not None:
        return [await org_users.get_user(session, principal, user_id)], None
    if department_id is not None:
        department = await org_departments.get_department(session, principal, department_id)
        prefix = department.path
    elif principal.is_admin:
        prefix = None
    elif principal.is_manager and principal.department_path:
        prefix = principal.department_path
    else:
        return [await org_users.get_user(session, principal, principal.user_id)], None
    stmt = select(User).where(User.company_id == principal.company_id)
    if prefix:
        stmt = stmt.join(Department, Department.id == User.department_id).where(
            Department.path.startswith(prefix, autoescape=True)
        )
    return list((await session.execute(stmt)).scalars()), prefix


async def visit_report(
    session: AsyncSession,
    principal: Principal,
    since: date,
    until: date,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Visits, distinct customers, visits per customer, average duration, flagged share, plans."""
    if until < since or (until - since).days >= MAX_DAYS:
        raise errors.invalid_range(MAX_DAYS)
    company = await session.get_one(Company, principal.company_id)
    zone = company.time_zone
    start = periods.local_midnight(since, zone)
    end = periods.local_midnight(until + timedelta(days=1), zone)
    users, prefix = await report_scope(session, principal, user_id, department_id)
    user_ids = [u.id for u in users]
    flagged = case((func.jsonb_array_length(Checkin.flags) > 0, 1), else_=0)
    # Plan vs actual exactly as the plans themselves say it (plans.plan_status).
    visited, today = plans.status_columns(zone)
    plan_done = case((visited.is_not(None), 1), else_=0)
    plan_missed = case((visited.is_(None) & (VisitPlan.plan_date < today), 1), else_=0)
    in_range = (
        Checkin.user_id.in_(user_ids),
        Checkin.client_recorded_at >= start,
        Checkin.client_recorded_at < end,
    )
    plans_in_range = (
        VisitPlan.user_id.in_(user_ids),
        VisitPlan.plan_date >= since,
        VisitPlan.plan_date <= until,
        VisitPlan.deleted_at.is_(None),
    )

    visit_rows = {
        row.user_id: row
        for row in (
            await session.execute(
                select(
                    Checkin.user_id,
                    func.count().label("visits"),
                    func.count(func.distinct(Checkin.customer_id)).label("visited"),
                    func.avg(Checkin.duration_s).label("duration"),
                    func.sum(flagged).label("flagged"),
                )
                .where(*in_range)
                .group_by(Checkin.user_id)
            )
        ).all()
    }
    plan_rows = {
        row.user_id: row
        for row in (
            await session.execute(
                select(
                    VisitPlan.user_id,
                    func.sum(plan_done).label("done"),
                    func.sum(plan_missed).label("missed"),
                )
                .where(*plans_in_range)
                .group_by(VisitPlan.user_id)
            )
        ).all()
    }

    def user_stats(uid: uuid.UUID) -> dict[str, int | float | None]:
        v, p = visit_rows.get(uid), plan_rows.get(uid)
        return _stats(
            v.visits if v else 0,
            v.visited if v else 0,
            float(v.duration) if v and v.duration else None,
            int(v.flagged or 0) if v else 0,
            int(p.done or 0) if p else 0,
            int(p.missed or 0) if p else 0,
        )

    # Roll up: every ancestor department on a user's path gets the user's records.
    ancestor = (
        func.unnest(func.string_to_array(func.trim(Department.path, "/"), "/"))
        .table_valued("id")
        .render_derived(name="ancestor")
    )
    anc_id = func.cast(ancestor.c.id, Department.id.type)
    visits_by_department = {
        row.department: row
        for row in (
            await session.execute(
                select(
                    anc_id.label("department"),
                    func.count().label("visits"),
                    func.count(func.distinct(Checkin.customer_id)).label("visited"),
                    func.avg(Checkin.duration_s).label("duration"),
                    func.sum(flagged).label("flagged"),
                )
                .select_from(Checkin)
                .join(User, User.id == Checkin.user_id)
                .join(Department, Department.id == User.department_id)
                .join(ancestor, literal_column("true"))
                .where(*in_range)
                .group_by(anc_id)
            )
        ).all()
    }
    plans_by_department = {
        row.department: row
        for row in (
            await session.execute(
                select(
                    anc_id.label("department"),
                    func.sum(plan_done).label("done"),
                    func.sum(plan_missed).label("missed"),
                )
                .select_from(VisitPlan)
                .join(User, User.id == VisitPlan.user_id)
                .join(Department, Department.id == User.department_id)
                .join(ancestor, literal_column("true"))
                .where(*plans_in_range)
                .group_by(anc_id)
            )
        ).all()
    }
    department_ids = {u.department_id for u in users if u.department_id}
    departments = []
    if department_ids and user_id is None:
        visible = list(
            (
                await session.execute(
                    select(Department).where(
                        Department.company_id == principal.company_id,
                        Department.id.in_(
                            set(visits_by_department) | set(plans_by_department) | department_ids
                        ),
                        org_departments.department_visibility(principal),
                        # Departments above the report's own would show only its part.
                        Department.path.startswith(prefix or "", autoescape=True),
                    )
                )
            ).scalars()
        )
        for department in sorted(visible, key=lambda d: d.path):
            v, p = visits_by_department.get(department.id), plans_by_department.get(department.id)
            departments.append(
                {
                    "department_id": department.id,
                    "name": department.name,
                    "parent_id": department.parent_id,
                    **_stats(
                        v.visits if v else 0,
                        v.visited if v else 0,
                        float(v.duration) if v and v.duration else None,
                        int(v.flagged or 0) if v else 0,
                        int(p.done or 0) if p else 0,
                        int(p.missed or 0) if p else 0,
                    ),
                }
            )
    totals = (
        await session.execute(
            select(
                func.count(),
                func.count(func.distinct(Checkin.customer_id)),
                func.avg(Checkin.duration_s),
                func.coalesce(func.sum(flagged), 0),
            ).where(*in_range)
        )
    ).one()
    plan_totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(plan_done), 0), func.coalesce(func.sum(plan_missed), 0)
            ).where(*plans_in_range)
        )
    ).one()
    return {
        "since": since,
        "until": until,
        "users": [
            {"user_id": u.id, "name": u.name, "department_id": u.department_id, **user_stats(u.id)}
            for u in sorted(users, key=lambda u: u.name)
        ],
        "departments": departments,
        "total": _stats(
            totals[0],
            totals[1],
            float(totals[2]) if totals[2] is not None else None,
            int(totals[3]),
            int(plan_totals[0]),
            int(plan_totals[1]),
        ),
    }
