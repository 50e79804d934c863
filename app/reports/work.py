"""The work-done report (工作量统计) and the visited-customers report (拜访客户统计), read-only.

**Work done**, per rep in the report's scope and rolled up the department tree (rows company →
department → rep, each with `parent_id` and `level`), in company dates [from, to]:

* `new_customers`, `followups` (split by `FollowupKind`), `visits` (check-ins that count),
  `leads_created`, `leads_converted`, `opportunities_won`: the target measures
  (`app.targets.measures`, credited and dated as they say).
* `new_contacts`: who added the contact (older ones without a creator: the customer's
  owner), by `created_at`.
* `customers_visited`: the distinct customers of those visits (distinct per row, not summed).
* `opportunities_created`: its creator (else its owner), by `created_at`.
* `opportunities_advanced`: a stage-history row to a later stage that is not lost, credited to
  who moved it (else the owner), by `at`.
* `logs_written`: the work logs' authors, by `created_at`.

Deleted records do not count. A department's figure counts what was made while its maker was
in its subtree (`department_memberships`, as the target measures do); a rep's row holds
everything credited to them. Two statements: `measures.actuals` with this module's extra facts
(one grouped UNION ALL), and the distinct customers visited per rep, per department (by the
ancestors of the department the rep was in) and in total (hashed distinct rows, one CTE).
Indexes: `ix_checkins_user_visits` (visits and their customers, index-only),
`ix_stage_history_company_at` (advanced, index-only), `ix_leads_company_converted`,
`ix_opportunities_won`; the user lists bound as one array (`measures.among`).

**Visited customers**: per customer visited (check-ins that count) by the scope's users in the
range, among the customers the caller may see: visits, last visit, the distinct visitors,
tier, owner; by visits desc, last visit desc. Capped at `VISITED_MAX` rows with the `total`
(one statement, `count(*) OVER ()`).
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Numeric,
    String,
    and_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Contact, Customer
from app.fieldwork.models import FOLLOWUP_KINDS, Checkin, Followup, WorkLog
from app.fieldwork.periods import local_midnight
from app.org import departments as org_departments
from app.org.models import Company, Department, User
from app.pipeline.models import Opportunity, Stage, StageChange
from app.reports import errors
from app.reports.visits import report_scope
from app.targets import measures
from app.targets.models import DepartmentMembership

MAX_DAYS = 366
VISITED_MAX = 500
VALUE = Numeric(16, 2)
# The target measures the report shows, by the report's name for them.
MEASURE_FIGURES = {
    "new_customers": "new_customers",
    "followups": "followups",
    "visits": "visits",
    "leads_created": "new_leads",
    "leads_converted": "converted_leads",
    "opportunities_won": "won_opportunities",
}
EXTRA_FIGURES = (
    "new_contacts",
    "opportunities_created",
    "opportunities_advanced",
    "logs_written",
    *(f"followups_{kind}" for kind in FOLLOWUP_KINDS),
)
FIGURES = (
    "new_customers",
    "new_contacts",
    "followups",
    *(f"followups_{kind}" for kind in FOLLOWUP_KINDS),
    "visits",
    "customers_visited",
    "leads_created",
    "leads_converted",
    "opportunities_created",
    "opportunities_advanced",
    "opportunities_won",
    "logs_written",
)


# ---------- scope ----------


def check_range(since: date, until: date) -> None:
    if until < since or (until - since).days >= MAX_DAYS:
        raise errors.invalid_range(MAX_DAYS)


async def scope(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> tuple[list[User], str | None, bool]:
    """(users, department path prefix, whole company?) of a report. Reps see themselves only
    (`report_scope` answers 404 for a peer or a department)."""
    users, prefix = await report_scope(session, principal, user_id, department_id)
    whole = principal.is_admin and user_id is None and department_id is None
    return users, prefix, whole


# ---------- work facts ----------


def _day(column: Any, time_zone: str) -> Any:
    return cast(func.timezone(time_zone, column), Date)


def work_facts(
    company_id: uuid.UUID,
    start: date,
    end: date,
    time_zone: str,
    user_ids: list[uuid.UUID] | None,
) -> dict[str, Any]:
    """SELECTs (measure, user_id, day, made_at, value) of the figures that are no target
    measure, in [start, end) company dates, by name (`followups` gives `followups_<kind>`) —
    `measures.actuals(..., extra=)` sums them."""
    lo, hi = local_midnight(start, time_zone), local_midnight(end, time_zone)
    one = literal(1, VALUE).label("value")

    def fact(name: Any, user: Any, made_at: Any) -> list[Any]:
        label = name if not isinstance(name, str) else literal(name, String())
        return [
            label.label("measure"),
            user.label("user_id"),
            _day(made_at, time_zone).label("day"),
            made_at.label("made_at"),
            one,
        ]

    def users(column: Any) -> list[Any]:
        return [] if user_ids is None else [measures.among(column, user_ids)]

    # Implied by `mover IN users`, but on stage_history alone: the rows of others are dropped
    # before their opportunity is looked up (1.6k lookups instead of 8.9k for 92 people).
    actor = (
        []
        if user_ids is None
        else [or_(StageChange.actor_id.is_(None), measures.among(StageChange.actor_id, user_ids))]
    )
    contact_user = func.coalesce(Contact.created_by, Customer.owner_id)
    contacts = (
        select(*fact("new_contacts", contact_user, Contact.created_at))
        .join(
            Customer,
            (Customer.company_id == Contact.company_id) & (Customer.id == Contact.customer_id),
        )
        .where(
            Contact.company_id == company_id,
            Contact.deleted_at.is_(None),
            Contact.created_at >= lo,
            Contact.created_at < hi,
            contact_user.is_not(None),
            *users(contact_user),
        )
    )
    followups = select(
        *fact(func.concat("followups_", Followup.kind), Followup.user_id, Followup.created_at)
    ).where(
        Followup.company_id == company_id,
        Followup.deleted_at.is_(None),
        Followup.created_at >= lo,
        Followup.created_at < hi,
        *users(Followup.user_id),
    )
    creator = func.coalesce(Opportunity.created_by, Opportunity.owner_id)
    created = select(*fact("opportunities_created", creator, Opportunity.created_at)).where(
        Opportunity.company_id == company_id,
        Opportunity.deleted_at.is_(None),
        Opportunity.created_at >= lo,
        Opportunity.created_at < hi,
        *users(creator),
    )
    before, after = aliased(Stage, name="before_stage"), aliased(Stage, name="after_stage")
    mover = func.coalesce(StageChange.actor_id, Opportunity.owner_id)
    advanced = (
        select(*fact("opportunities_advanced", mover, StageChange.at))
        .join(
            Opportunity,
            (Opportunity.company_id == StageChange.company_id)
            & (Opportunity.id == StageChange.opportunity_id),
        )
        .join(
            before,
            (before.company_id == StageChange.company_id)
            & (before.id == StageChange.from_stage_id),
        )
        .join(
            after,
            (after.company_id == StageChange.company_id) & (after.id == StageChange.to_stage_id),
        )
        .where(
            StageChange.company_id == company_id,
            StageChange.at >= lo,
            StageChange.at < hi,
            Opportunity.deleted_at.is_(None),
            after.position > before.position,
            after.kind != "lost",
            *actor,
            *users(mover),
        )
    )
    logs = select(*fact("logs_written", WorkLog.user_id, WorkLog.created_at)).where(
        WorkLog.company_id == company_id,
        WorkLog.deleted_at.is_(None),
        WorkLog.created_at >= lo,
        WorkLog.created_at < hi,
        *users(WorkLog.user_id),
    )
    return {
        "new_contacts": contacts,
        "followups": followups,
        "opportunities_created": created,
        "opportunities_advanced": advanced,
        "logs_written": logs,
    }


@dataclass(frozen=True)
class Visited:
    """Distinct customers visited: per user, per department (subtree, where the rep was) and
    in total."""

    users: dict[uuid.UUID, int]
    departments: dict[uuid.UUID, int]
    total: int


async def customers_visited(  # noqa: PLR0913
    session: AsyncSession,
    company_id: uuid.UUID,
    start: date,
    end: date,
    time_zone: str,
    user_ids: list[uuid.UUID] | None,
) -> Visited:
    """One statement, count(DISTINCT customer) of the check-ins that count per user, per
    department (each ancestor of the department the user was in at the visit) and in total:
    the distinct (user, department then, customer) first, then each count as distinct rows
    counted — hashed, where GROUPING SETS of count(DISTINCT) sorted ~30k rows per ancestor."""
    if user_ids is not None and not user_ids:
        return Visited({}, {}, 0)
    lo, hi = local_midnight(start, time_zone), local_midnight(end, time_zone)
    member = DepartmentMembership
    seen = (
        select(Checkin.user_id, member.department_id, Checkin.customer_id)
        .distinct()
        .select_from(Checkin)
        .outerjoin(
            member,
            and_(
                member.company_id == Checkin.company_id,
                member.user_id == Checkin.user_id,
                member.valid_from <= Checkin.client_recorded_at,
                or_(member.valid_to.is_(None), member.valid_to > Checkin.client_recorded_at),
            ),
        )
        .where(
            Checkin.company_id == company_id,
            Checkin.client_recorded_at >= lo,
            Checkin.client_recorded_at < hi,
            measures.counts_as_visit(),
            *([] if user_ids is None else [measures.among(Checkin.user_id, user_ids)]),
        )
        .cte("seen")
    )
    segment = (
        func.unnest(func.string_to_array(func.trim(Department.path, "/"), "/"))
        .table_valued("id")
        .render_derived(name="segment")
    )
    ancestors = (
        select(
            Department.id.label("department_id"),
            cast(segment.c.id, Department.id.type).label("ancestor_id"),
        )
        .select_from(Department)
        .join(segment, literal_column("true"))
        .where(Department.company_id == company_id)
        .cte("ancestors")
    )
    per_user = select(seen.c.user_id, seen.c.customer_id).distinct().subquery("per_user")
    per_department = (
        select(ancestors.c.ancestor_id, seen.c.customer_id)
        .distinct()
        .join_from(seen, ancestors, ancestors.c.department_id == seen.c.department_id)
        .subquery("per_department")
    )
    everyone = select(seen.c.customer_id).distinct().subquery("everyone")
    stmt = union_all(
        select(
            literal("user").label("kind"), per_user.c.user_id.label("id"), func.count()
        ).group_by(per_user.c.user_id),
        select(literal("department"), per_department.c.ancestor_id, func.count()).group_by(
            per_department.c.ancestor_id
        ),
        select(literal("total"), literal(None, Department.id.type), func.count()).select_from(
            everyone
        ),
    )
    by_user: dict[uuid.UUID, int] = {}
    by_department: dict[uuid.UUID, int] = {}
    total = 0
    for kind, key, visited in (await session.execute(stmt)).all():
        if kind == "user":
            by_user[key] = visited
        elif kind == "department":
            by_department[key] = visited
        else:
            total = visited
    return Visited(by_user, by_department, total)


# ---------- the work report ----------


def _empty_figures() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


def _figures(
    sums: Any,
    visited: int,
) -> dict[str, Any]:
    """The row's figures from a function measure → Decimal (user, department or company)."""
    figures: dict[str, Any] = {
        name: int(sums(measure)) for name, measure in MEASURE_FIGURES.items()
    }
    for name in EXTRA_FIGURES:
        figures[name] = int(sums(name))
    figures["customers_visited"] = visited
    by_kind = {kind: figures.pop(f"followups_{kind}") for kind in FOLLOWUP_KINDS}
    figures["followups_by_kind"] = by_kind
    return figures


async def work_report(
    session: AsyncSession,
    principal: Principal,
    since: date,
    until: date,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The rows (company → departments → reps, depth first) of the work-done report."""
    check_range(since, until)
    users, prefix, whole = await scope(session, principal, user_id, department_id)
    company = await session.get_one(Company, principal.company_id)
    zone = company.time_zone
    end = until + timedelta(days=1)
    fact_users: list[uuid.UUID] | None
    if whole:
        fact_users = None
    elif prefix is not None:
        during = await measures.members_during(
            session, principal.company_id, prefix, since, end, zone
        )
        fact_users = list(dict.fromkeys([*during, *(u.id for u in users)]))
    else:
        fact_users = [u.id for u in users]
    facts = await measures.actuals(
        session,
        principal.company_id,
        MEASURE_FIGURES.values(),
        since,
        end,
        zone,
        user_ids=fact_users,
        extra=list(work_facts(principal.company_id, since, end, zone, fact_users).values()),
    )
    visited = await customers_visited(session, principal.company_id, since, end, zone, fact_users)
    departments: list[Department] = []
    if whole or prefix is not None:
        departments = list(
            (
                await session.execute(
                    select(Department)
                    .where(
                        Department.company_id == principal.company_id,
                        org_departments.department_visibility(principal),
                        Department.path.startswith(prefix or "", autoescape=True),
                    )
                    .order_by(Department.path)
                )
            ).scalars()
        )
    rollup = measures.Actuals(facts, {d.id: d.path for d in departments})

    rows: list[dict[str, Any]] = []
    if whole:
        rows.append(
            {
                "kind": "company",
                "id": company.id,
                "name": company.name,
                "parent_id": None,
                "level": 0,
                **_figures(rollup.company, visited.total),
            }
        )

    def department_figures(department: Department) -> dict[str, Any]:
        return _figures(
            lambda m: rollup.department(m, department.path),
            visited.departments.get(department.id, 0),
        )

    # Deactivated departments only when something was made in them.
    shown: dict[uuid.UUID, tuple[Department, dict[str, Any]]] = {}
    for department in departments:
        figures = department_figures(department)
        if department.deactivated_at is None or any(
            value for value in figures.values() if isinstance(value, int)
        ):
            shown[department.id] = (department, figures)
    users_by_department: dict[uuid.UUID | None, list[User]] = {}
    for user in sorted(users, key=lambda u: (u.name, str(u.id))):
        parent = user.department_id if user.department_id in shown else None
        users_by_department.setdefault(parent, []).append(user)
    children: dict[uuid.UUID | None, list[Department]] = {}
    for department, _ in shown.values():
        parent = department.parent_id if department.parent_id in shown else None
        children.setdefault(parent, []).append(department)

    def user_row(user: User, parent: uuid.UUID | None, level: int) -> dict[str, Any]:
        return {
            "kind": "user",
            "id": user.id,
            "name": user.name,
            "parent_id": parent,
            "level": level,
            **_figures(lambda m: rollup.user(m, user.id), visited.users.get(user.id, 0)),
        }

    def walk(department: Department, parent: uuid.UUID | None, level: int) -> None:
        rows.append(
            {
                "kind": "department",
                "id": department.id,
                "name": department.name,
                "parent_id": parent,
                "level": level,
                **shown[department.id][1],
            }
        )
        for user in users_by_department.get(department.id, []):
            rows.append(user_row(user, department.id, level + 1))
        for child in sorted(children.get(department.id, []), key=lambda d: (d.name, d.path)):
            walk(child, department.id, level + 1)

    top_parent = company.id if whole else None
    top_level = 1 if whole else 0
    for department in sorted(children.get(None, []), key=lambda d: (d.name, d.path)):
        walk(department, top_parent, top_level)
    for user in users_by_department.get(None, []):
        rows.append(user_row(user, top_parent, top_level))
    return {"since": since, "until": until, "rows": rows}


# ---------- visited customers ----------


@dataclass(frozen=True)
class VisitedQuery:
    since: date
    until: date
    user_id: uuid.UUID | None
    department_id: uuid.UUID | None
    tier: str | None


async def visited_customers(
    session: AsyncSession, principal: Principal, query: VisitedQuery
) -> dict[str, Any]:
    """The customers visited in the range by the scope's users, among the visible ones."""
    check_range(query.since, query.until)
    users, _, whole = await scope(session, principal, query.user_id, query.department_id)
    company = await session.get_one(Company, principal.company_id)
    zone = company.time_zone
    lo = local_midnight(query.since, zone)
    hi = local_midnight(query.until + timedelta(days=1), zone)
    visitor = aliased(User, name="visitor")
    owner = aliased(User, name="owner")
    conditions: list[Any] = [
        Checkin.company_id == principal.company_id,
        Checkin.client_recorded_at >= lo,
        Checkin.client_recorded_at < hi,
        measures.counts_as_visit(),
        customer_visibility(principal),
    ]
    if not whole:
        conditions.append(Checkin.user_id.in_([u.id for u in users]))
    if query.tier == "untiered":
        conditions.append(Customer.tier.is_(None))
    elif query.tier is not None:
        conditions.append(Customer.tier == query.tier)
    visits = func.count().label("visits")
    last = func.max(Checkin.client_recorded_at).label("last_visit_at")
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.tier,
            Customer.owner_id,
            func.max(owner.name).label("owner_name"),
            visits,
            last,
            func.array_agg(func.distinct(visitor.name)).label("visitors"),
            func.count().over().label("total"),
        )
        .select_from(Checkin)
        .join(
            Customer,
            (Customer.company_id == Checkin.company_id) & (Customer.id == Checkin.customer_id),
        )
        .join(visitor, (visitor.company_id == Checkin.company_id) & (visitor.id == Checkin.user_id))
        .outerjoin(
            owner, (owner.company_id == Customer.company_id) & (owner.id == Customer.owner_id)
        )
        .where(*conditions)
        .group_by(Customer.id)
        .order_by(visits.desc(), last.desc(), Customer.id)
        .limit(VISITED_MAX)
    )
    rows = (await session.execute(stmt)).all()
    items = [
        {
            "customer_id": row.id,
            "name": row.name,
            "tier": row.tier,
            "owner_id": row.owner_id,
            "owner_name": row.owner_name,
            "visits": row.visits,
            "last_visit_at": row.last_visit_at,
            "visitors": sorted(row.visitors),
        }
        for row in rows
    ]
    total = rows[0].total if rows else 0
    return {
        "since": query.since,
        "until": query.until,
        "total": total,
        "truncated": total > len(items),
        "items": items,
    }
