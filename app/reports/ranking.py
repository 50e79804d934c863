"""The ranking report (排行): users — or departments — of the caller's view ranked by rate or
actual on one measure and period (`app.targets.progress.rank`: equal figures share a rank,
ties listed by name then id; entries without a target after those with one, by actual).

Who is ranked (`level=user`):
* an admin: the company's users; a manager: the users now in their subtree (themselves too);
* a rep: the users of **their own department** — peers' actual and rate included: a rep must
  see "my rank" and a rank means nothing without the figures above it (the people are those a
  rep may already list, `app.org.users.user_visibility`). Only themselves without a department;
* `department=` narrows to a visible subtree (a rep: only their own department, else 404);
* who: active reps and managers, and anyone else in scope (an admin) with a target of their
  own for the measure and period. A user's figure is everything credited to them.

`level=department`: the sub-departments of `department=` (default: the caller's own; an
admin's: the departments under the top one), each with its rolled-up figure (facts made while
their user was in its subtree) and its department target — only departments the caller may
see, so a rep (who sees no department below their own) gets an empty ranking.

`me`: the caller's entry (department level: the ranked department holding the caller) wherever
it falls on the pages; null when the caller has no place (an admin without a target).

Cost: one `actuals` call (one measure, the ranked users — or for departments the users who were
in the subtree during the period), the period's targets, the paths; ranks in Python.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import not_found
from app.org import departments as org_departments
from app.org.models import Department, User
from app.reports.achievement import (
    PERSON_COLUMNS,
    Context,
    Person,
    Rollup,
    amount,
    context,
    period_info,
    period_targets,
    unit,
    users_under,
)
from app.targets import measures as target_measures
from app.targets.progress import Ranked, rank, ratio

RANKED_ROLES = ("rep", "manager")


async def _scope_department(
    session: AsyncSession, principal: Principal, department_id: uuid.UUID | None
) -> Department | None:
    """The department whose part is ranked (None: the company, for an admin)."""
    if department_id is not None:
        department = await org_departments.get_department(session, principal, department_id)
        if not (principal.is_admin or principal.is_manager) and department.id != (
            principal.department_id
        ):
            raise not_found("department")
        return department
    if principal.is_admin or principal.department_id is None:
        return None
    return await session.get_one(Department, principal.department_id)


def _entry(
    ranked: Ranked, subject: str, parent_id: uuid.UUID | None, target: Any, measure: str
) -> dict[str, Any]:
    return {
        "rank": ranked.rank,
        "subject": subject,
        "subject_id": ranked.key,
        "name": ranked.name,
        "parent_id": parent_id,
        "target": amount(target, measure) if target is not None else None,
        "actual": amount(ranked.actual, measure),
        "rate": ranked.rate,
    }


async def _user_entries(
    session: AsyncSession,
    principal: Principal,
    ctx: Context,
    measure: str,
    by: str,
    scope: Department | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    company_id = principal.company_id
    if scope is None and not principal.is_admin:
        candidates = [
            Person(*row)
            for row in await session.execute(
                select(*PERSON_COLUMNS).where(
                    User.company_id == company_id, User.id == principal.user_id
                )
            )
        ]
    elif scope is None:
        candidates = await users_under(session, company_id, None)
    elif principal.is_admin or principal.is_manager:
        candidates = await users_under(session, company_id, scope.path)
    else:  # a rep: their own department, not the subtree below it
        candidates = await users_under(session, company_id, None, exact=scope.id)
    targets = await period_targets(session, company_id, ctx.period, [measure])
    users = [
        u
        for u in candidates
        if u.is_active and (u.role in RANKED_ROLES or ("user", u.id, measure) in targets)
    ]
    facts = await target_measures.actuals(
        session,
        company_id,
        [measure],
        ctx.period.start,
        ctx.period.end,
        ctx.zone,
        user_ids=[u.id for u in users],
    )
    totals = Rollup(facts, {}, [], ctx.period).users
    entries = []
    for u in users:
        target = targets.get(("user", u.id, measure))
        actual = totals[(measure, u.id)][0]
        entries.append((u.id, u.name, ratio(actual, target.value) if target else None, actual))
    home = {u.id: u.department_id for u in users}
    ranked = [
        _entry(
            r,
            "user",
            home[r.key],
            t.value if (t := targets.get(("user", r.key, measure))) else None,
            measure,
        )
        for r in rank(entries, by)
    ]
    me = next((e for e in ranked if e["subject_id"] == principal.user_id), None)
    return ranked, me


async def _department_entries(
    session: AsyncSession,
    principal: Principal,
    ctx: Context,
    measure: str,
    by: str,
    scope: Department | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    company_id = principal.company_id
    # Only departments the caller may see: a rep's own department has none below it to show.
    active = select(Department).where(
        Department.company_id == company_id,
        Department.deactivated_at.is_(None),
        org_departments.department_visibility(principal),
    )
    if scope is not None:
        parents = [scope.id]
    elif not principal.is_admin:
        return [], None
    else:
        roots = (await session.execute(active.where(Department.parent_id.is_(None)))).scalars()
        parents = [d.id for d in roots]
    children = list(
        (await session.execute(active.where(Department.parent_id.in_(parents)))).scalars()
    )
    if not children:
        return [], None
    user_ids: list[uuid.UUID] | None = None
    if scope is not None:
        user_ids = await target_measures.members_during(
            session, company_id, scope.path, ctx.period.start, ctx.period.end, ctx.zone
        )
    facts = await target_measures.actuals(
        session,
        company_id,
        [measure],
        ctx.period.start,
        ctx.period.end,
        ctx.zone,
        user_ids=user_ids,
    )
    paths = await target_measures.department_paths(session, company_id)
    totals = Rollup(facts, paths, [d.id for d in children], ctx.period).departments
    targets = await period_targets(session, company_id, ctx.period, [measure])
    entries = []
    for d in children:
        target = targets.get(("department", d.id, measure))
        actual = totals[(measure, d.id)][0]
        entries.append((d.id, d.name, ratio(actual, target.value) if target else None, actual))
    by_id = {d.id: d for d in children}
    ranked = [
        _entry(
            r,
            "department",
            by_id[r.key].parent_id,
            t.value if (t := targets.get(("department", r.key, measure))) else None,
            measure,
        )
        for r in rank(entries, by)
    ]
    own = principal.department_path or ""
    me = next((e for e in ranked if own.startswith(by_id[e["subject_id"]].path)), None)
    return ranked, me


async def ranking_report(  # noqa: PLR0913
    session: AsyncSession,
    principal: Principal,
    period_key: str | None,
    measure: str,
    by: str,
    level: str,
    department_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    ctx = await context(session, principal, period_key)
    scope = await _scope_department(session, principal, department_id)
    build = _user_entries if level == "user" else _department_entries
    ranked, me = await build(session, principal, ctx, measure, by, scope)
    end = offset + limit
    return {
        **period_info(ctx),
        "measure": measure,
        "unit": unit(measure),
        "by": by,
        "level": level,
        "department_id": scope.id if scope is not None else None,
        "total": len(ranked),
        "items": ranked[offset:end],
        "me": me,
        "next_offset": end if end < len(ranked) else None,
    }
