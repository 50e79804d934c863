"""The caller's dashboard: one request for the app's first screen.

Everything is the caller's own (their held customers, plans, opportunities, contracts,
notifications), in company time, plus this month's targets and — for managers (their subtree)
and admins (the company) — the team's achievement and who is most behind pace.

Few statements (five besides the settings and `measures.actuals`), each on an index that
starts with the company and the caller or the subject:

1. the caller's own counts and short lists (`_own_statement`, one UNION ALL): held, unread,
   the holding cap's pool rules, closing this month (`ix_opportunities_owner_closing`, index
   only), and with their counts (`count(*) OVER ()`) the first few recycling soon and overdue
   follow-ups (the caller's customers read once, `ix_customers_owner`) and birthdays;
2. payments due (`ix_contracts_owner`, only contracts still owed money, then
   `ix_payment_plans_contract`);
3. today's plans (`ix_visit_plans_user_date`);
4. the month's targets (by subject on `uq_targets_subject_measure_period`; admins the
   company's month), with every department's path and the members of the caller's subtree
   (what `measures.department_paths` / `members_during` answer) in the same statement;
5. their actuals (`measures.actuals`, one statement). No per-item query.

Caps: `LIST_CAP` items of recycling soon, overdue follow-ups and payments due,
`BIRTHDAYS_CAP` birthdays, `PLANS_CAP` plans, `TEAM_TARGETS_CAP` team targets,
`BEHIND_PACE_CAP` behind pace.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    String,
    Uuid,
    and_,
    any_,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.core.clock import now
from app.customers import rules
from app.customers.models import Contact, Customer, Pool, PoolSettings
from app.fieldwork.models import VisitPlan
from app.fieldwork.periods import local_date
from app.fieldwork.plans.service import ROUTE_ORDER, plan_status, status_columns
from app.money import ledger
from app.money.models import Contract, PaymentPlan
from app.notifications.models import Notification
from app.org.models import Department, User
from app.org.settings import CompanySettings, company_settings
from app.pipeline.models import Opportunity, Stage
from app.targets import measures, progress
from app.targets.models import MONEY_MEASURES, DepartmentMembership, Target
from app.targets.periods import Period, containing

LIST_CAP = 5
BIRTHDAYS_CAP = 10
PLANS_CAP = 50
TEAM_TARGETS_CAP = 100
BEHIND_PACE_CAP = 5
DEFAULT_HOLDING_CAP = 20  # pool_settings' own default
PAYING_STATUSES = ("active", "completed")  # contracts whose instalments are chased
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
ZERO = Decimal("0")


def figure(measure: str, value: Decimal) -> str:
    """A target figure as the API writes it: money two places, counts whole."""
    if measure in MONEY_MEASURES:
        return str(value.quantize(CENT, ROUND_HALF_UP))
    return str(value.to_integral_value(ROUND_HALF_UP))


def ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(RATE, ROUND_HALF_UP))


def birthday_days(today: date) -> list[tuple[int, int]]:
    """The (month, day) of birthdays celebrated today: 29 February on 28 February of a common
    year (pure)."""
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28):
        try:
            date(today.year, 2, 29)
        except ValueError:
            days.append((2, 29))
    return days


# ---------- the caller's own lists: one statement ----------


def _owned(principal: Principal) -> Any:
    return and_(
        Customer.company_id == principal.company_id,
        Customer.owner_id == principal.user_id,
        Customer.deleted_at.is_(None),
    )


# The columns of `_own`'s UNION ALL: each branch fills some, the rest are typed NULLs. The
# lists fill (id, name, at, reason, customer_id, customer_name, total); the one `counts` row
# the scalars.
_OWN_COLUMNS: dict[str, Any] = {
    "kind": String(),
    "id": Uuid(),
    "name": String(),
    "at": DateTime(timezone=True),
    "reason": String(),
    "customer_id": Uuid(),
    "customer_name": String(),
    "total": BigInteger(),
    "held": BigInteger(),
    "unread": BigInteger(),
    "closing_count": BigInteger(),
    "closing_amount": Numeric(),
    "closing_weighted": Numeric(),
    "holding_cap": Integer(),
    "department_caps": JSONB(),
}


def _row(kind: str, **columns: Any) -> list[Any]:
    """One branch's select list, in `_OWN_COLUMNS` order."""
    columns["kind"] = literal(kind, String())
    return [
        (columns[name] if name in columns else cast(null(), type_)).label(name)
        for name, type_ in _OWN_COLUMNS.items()
    ]


def _own_statement(principal: Principal, month: Period, at: datetime, today: date) -> Any:
    """Held, unread, closing this month, the cap's pool rules (the `counts` row) and the first
    few of recycling soon, overdue follow-ups and birthdays, each with its count
    (`count(*) OVER ()`). The caller's customers are read once (`mine`, on
    `ix_customers_owner`) for held, recycling and overdue; open opportunities closing this
    month on `ix_opportunities_owner_closing` (index only)."""
    mine = (
        select(
            Customer.id,
            Customer.name,
            Customer.recycle_at,
            Customer.recycle_reason,
            Customer.next_followup_at,
            Pool.warning_days,
        )
        .outerjoin(Pool, (Pool.company_id == Customer.company_id) & (Pool.id == Customer.pool_id))
        .where(_owned(principal))
        .cte("mine")
        .prefix_with("MATERIALIZED")
    )
    recycling = (
        select(
            mine.c.id,
            mine.c.name,
            mine.c.recycle_at,
            mine.c.recycle_reason,
            func.count().over().label("total"),
        )
        .where(
            mine.c.recycle_at.is_not(None),
            mine.c.warning_days.is_not(None),  # a pool's customer (the inner join it was)
            mine.c.recycle_at <= literal(at) + func.make_interval(0, 0, 0, mine.c.warning_days),
        )
        .order_by(mine.c.recycle_at, mine.c.id)
        .limit(LIST_CAP)
        .subquery("recycling")
    )
    overdue = (
        select(mine.c.id, mine.c.name, mine.c.next_followup_at, func.count().over().label("total"))
        .where(mine.c.next_followup_at < at)
        .order_by(mine.c.next_followup_at, mine.c.id)
        .limit(LIST_CAP)
        .subquery("overdue")
    )
    born = tuple_(
        cast(func.extract("month", Contact.birthday), Integer),
        cast(func.extract("day", Contact.birthday), Integer),
    )
    birthdays = (
        select(
            Contact.id,
            Contact.name,
            Customer.id.label("customer_id"),
            Customer.name.label("customer_name"),
            func.count().over().label("total"),
        )
        .join(
            Contact,
            (Contact.company_id == Customer.company_id) & (Contact.customer_id == Customer.id),
        )
        .where(
            _owned(principal),
            Contact.deleted_at.is_(None),
            Contact.birthday.is_not(None),
            born.in_(birthday_days(today)),
        )
        .order_by(Customer.name, Contact.name, Contact.id)
        .limit(BIRTHDAYS_CAP)
        .subquery("birthdays")
    )
    unread = (
        select(func.count())
        .where(
            Notification.user_id == principal.user_id,
            Notification.company_id == principal.company_id,
            Notification.read_at.is_(None),
        )
        .scalar_subquery()
    )
    closing = (
        select(
            func.count().label("count"),
            func.coalesce(func.sum(Opportunity.amount), ZERO).label("amount"),
            func.coalesce(func.sum(Opportunity.amount * Stage.probability), ZERO).label("weighted"),
        )
        .join(
            Stage, (Stage.company_id == Opportunity.company_id) & (Stage.id == Opportunity.stage_id)
        )
        .where(
            Opportunity.company_id == principal.company_id,
            Opportunity.owner_id == principal.user_id,
            Opportunity.deleted_at.is_(None),
            Opportunity.status == "open",
            Opportunity.expected_close_date >= month.start,
            Opportunity.expected_close_date < month.end,
        )
        .subquery("closing")
    )
    rules_row = select(PoolSettings.holding_cap, PoolSettings.department_caps).where(
        PoolSettings.company_id == principal.company_id
    )
    counts = select(
        *_row(
            "counts",
            held=select(func.count()).select_from(mine).scalar_subquery(),
            unread=unread,
            closing_count=closing.c.count,
            closing_amount=closing.c.amount,
            closing_weighted=closing.c.weighted,
            holding_cap=rules_row.with_only_columns(PoolSettings.holding_cap).scalar_subquery(),
            department_caps=rules_row.with_only_columns(
                PoolSettings.department_caps
            ).scalar_subquery(),
        )
    ).select_from(closing)
    return union_all(
        counts,
        select(
            *_row(
                "recycling",
                id=recycling.c.id,
                name=recycling.c.name,
                at=recycling.c.recycle_at,
                reason=recycling.c.recycle_reason,
                total=recycling.c.total,
            )
        ),
        select(
            *_row(
                "overdue",
                id=overdue.c.id,
                name=overdue.c.name,
                at=overdue.c.next_followup_at,
                total=overdue.c.total,
            )
        ),
        select(
            *_row(
                "birthday",
                id=birthdays.c.id,
                name=birthdays.c.name,
                customer_id=birthdays.c.customer_id,
                customer_name=birthdays.c.customer_name,
                total=birthdays.c.total,
            )
        ),
    )


async def _own(
    session: AsyncSession, principal: Principal, month: Period, at: datetime, today: date
) -> dict[str, Any]:
    """The caller's counts and short lists (`_own_statement`), one round trip."""
    listed: dict[str, list[Any]] = {"recycling": [], "overdue": [], "birthday": []}
    counts: Any = None
    for row in (await session.execute(_own_statement(principal, month, at, today))).all():
        if row.kind == "counts":
            counts = row
        else:
            listed[row.kind].append(row)
    assert counts is not None  # an aggregate's row: always there
    cap = rules.holding_cap_for(
        principal.department_path,
        DEFAULT_HOLDING_CAP if counts.holding_cap is None else counts.holding_cap,
        counts.department_caps or {},
    )

    def total(kind: str) -> int:
        return int(listed[kind][0].total) if listed[kind] else 0

    return {
        "customers_held": counts.held,
        "holding_cap": cap,
        "unread_notifications": counts.unread,
        "closing_this_month": {
            "count": counts.closing_count,
            "amount": counts.closing_amount,
            "weighted_amount": ledger.fen(Decimal(counts.closing_weighted) / 100),
        },
        "recycling_soon": {
            "count": total("recycling"),
            "items": [
                {
                    "customer_id": r.id,
                    "name": r.name,
                    "recycle_at": r.at,
                    "recycle_reason": r.reason,
                }
                for r in listed["recycling"]
            ],
        },
        "overdue_followups": {
            "count": total("overdue"),
            "items": [
                {"customer_id": r.id, "name": r.name, "next_followup_at": r.at}
                for r in listed["overdue"]
            ],
        },
        "birthdays": {
            "count": total("birthday"),
            "items": [
                {
                    "contact_id": r.id,
                    "name": r.name,
                    "customer_id": r.customer_id,
                    "customer_name": r.customer_name,
                }
                for r in listed["birthday"]
            ],
        },
    }


def _listed(rows: list[Any]) -> int:
    return int(rows[0].total) if rows else 0


async def _payments_due(
    session: AsyncSession, principal: Principal, today: date, due_days: int
) -> dict[str, Any]:
    """Instalments of the caller's contracts due by today + due_days (overdue ones included)
    and not fully paid (`ledger`: paid = received payments allocated to it). Only contracts
    still owed money (`received < amount`, the running total) are looked into: one fully
    received takes no further payment (received ≤ committed ≤ amount), so none of its
    instalments is there to chase — and the correlated `paid` is not computed for them."""
    paid = ledger.plan_paid_sql(PaymentPlan.id, PaymentPlan.company_id).label("paid")
    plans = (
        select(
            PaymentPlan.id,
            PaymentPlan.contract_id,
            PaymentPlan.due_date,
            PaymentPlan.amount,
            paid,
            Contract.number,
            Contract.customer_id,
        )
        .join(
            PaymentPlan,
            (PaymentPlan.company_id == Contract.company_id)
            & (PaymentPlan.contract_id == Contract.id),
        )
        .where(
            Contract.company_id == principal.company_id,
            Contract.owner_id == principal.user_id,
            Contract.deleted_at.is_(None),
            Contract.status.in_(PAYING_STATUSES),
            Contract.received < Contract.amount,
            PaymentPlan.deleted_at.is_(None),
            PaymentPlan.due_date <= today + timedelta(days=due_days),
        )
        # Materialized: `paid` (a correlated sum) is computed once per instalment, not once
        # per use (filter, status, window sum, columns).
        .cte("due_plans")
        .prefix_with("MATERIALIZED")
    )
    unpaid = plans.c.amount - plans.c.paid
    rows = list(
        (
            await session.execute(
                select(
                    plans,
                    Customer.name.label("customer_name"),
                    ledger.instalment_status_sql(
                        plans.c.amount, plans.c.paid, plans.c.due_date, today
                    ).label("status"),
                    func.count().over().label("total"),
                    func.sum(unpaid).over().label("outstanding"),
                )
                .join(
                    Customer,
                    (Customer.company_id == principal.company_id)
                    & (Customer.id == plans.c.customer_id),
                )
                .where(plans.c.paid < plans.c.amount)
                .order_by(plans.c.due_date, plans.c.id)
                .limit(LIST_CAP)
            )
        ).all()
    )
    return {
        "count": _listed(rows),
        "outstanding": rows[0].outstanding if rows else ZERO,
        "items": [
            {
                "plan_id": r.id,
                "contract_id": r.contract_id,
                "contract_number": r.number,
                "customer_id": r.customer_id,
                "customer_name": r.customer_name,
                "due_date": r.due_date,
                "amount": r.amount,
                "paid": r.paid,
                "outstanding": r.amount - r.paid,
                "status": r.status,
            }
            for r in rows
        ],
    }


async def _today_plans(
    session: AsyncSession, principal: Principal, time_zone: str, today: date
) -> list[dict[str, Any]]:
    visited, _ = status_columns(time_zone)
    rows = (
        await session.execute(
            select(VisitPlan, visited.label("checkin_id"), Customer.name.label("customer_name"))
            .join(
                Customer,
                (Customer.company_id == VisitPlan.company_id)
                & (Customer.id == VisitPlan.customer_id),
            )
            .where(
                VisitPlan.company_id == principal.company_id,
                VisitPlan.user_id == principal.user_id,
                VisitPlan.plan_date == today,
                VisitPlan.deleted_at.is_(None),
            )
            .order_by(*ROUTE_ORDER)
            .limit(PLANS_CAP)
        )
    ).all()
    return [
        {
            "plan_id": plan.id,
            "customer_id": plan.customer_id,
            "customer_name": name,
            "planned_time": plan.planned_time,
            "sequence": plan.sequence,
            "purpose": plan.purpose,
            "status": plan_status(plan.plan_date, checkin_id, today),
            "checkin_id": checkin_id,
        }
        for plan, checkin_id, name in rows
    ]


# ---------- targets ----------


@dataclass(frozen=True)
class MonthTarget:
    id: uuid.UUID
    subject: str
    subject_id: uuid.UUID | None
    measure: str
    value: Decimal
    name: str  # the user's or the department's (the company's: "")
    user_department_id: uuid.UUID | None  # a user target's user's department
    department_path: str | None  # a department target's path


def _team_path(principal: Principal) -> str | None:
    """The subtree a manager's team is (admins: the company, '')."""
    if principal.is_admin:
        return ""
    if principal.is_manager and principal.department_path:
        return principal.department_path
    return None


@dataclass(frozen=True)
class MonthTargets:
    targets: list[MonthTarget]
    paths: dict[uuid.UUID, str]  # every department's (`measures.department_paths`)
    members: set[uuid.UUID]  # all ever in the caller's team or department subtree


# The unique index's subject expression (`uq_targets_subject_measure_period`), written as the
# index writes it so that the planner probes it.
_SUBJECT_KEY = func.coalesce(
    Target.subject_id, literal_column("'00000000-0000-0000-0000-000000000000'::uuid")
)


def _subjects(principal: Principal, team: str | None) -> Any:
    """Which targets are shown: the caller's, their department's users' (the rank) and the
    department's; a manager's subtree's users and departments. Each side an
    `ARRAY(SELECT …)` computed once (an InitPlan): an index condition on
    `uq_targets_subject_measure_period`, or at worst a filter on one scan of the month."""
    company_id = principal.company_id
    mine = User.id == principal.user_id
    peers = (
        mine
        if principal.department_id is None
        else mine | (User.department_id == principal.department_id)
    )
    users: Any = select(User.id).where(User.company_id == company_id, peers)
    departments: Any = select(Department.id).where(
        Department.company_id == company_id, Department.id == principal.department_id
    )
    if team:
        in_team = Department.path.startswith(team, autoescape=True)
        users = union(
            users,
            select(User.id)
            .join(
                Department,
                (Department.company_id == User.company_id) & (Department.id == User.department_id),
            )
            .where(User.company_id == company_id, in_team),
        )
        departments = select(Department.id).where(
            Department.company_id == company_id,
            in_team | (Department.id == principal.department_id),
        )
    key = _SUBJECT_KEY
    return or_(
        (Target.subject == "user") & (key == any_(func.array(users.scalar_subquery()))),
        (Target.subject == "department") & (key == any_(func.array(departments.scalar_subquery()))),
    )


async def _month_targets(
    session: AsyncSession, principal: Principal, month: Period
) -> MonthTargets:
    """The live month targets the dashboard shows — the caller's own, their department peers'
    (for the rank), their department's, and the team's (managers: subtree; admins: all) —
    with every department's path and the members of the caller's subtree, in one statement.
    Callers below admin name their subjects (`_subjects`); admins read the company's month
    (`ix_targets_company_period`)."""
    user = aliased(User, name="target_user")
    department = aliased(Department, name="target_department")
    team = _team_path(principal)
    month_targets = select(
        Target.id,
        Target.subject,
        Target.subject_id,
        Target.measure,
        Target.value,
        Target.starts_on,
        Target.ends_on,
    ).where(
        Target.company_id == principal.company_id,
        Target.period == month.key,
        Target.period_kind == "month",
        Target.deleted_at.is_(None),
    )
    if team != "":
        month_targets = month_targets.where(_subjects(principal, team))
    picked = month_targets.subquery("month_targets")
    shown = (
        select(
            literal("target", String()).label("kind"),
            picked.c.id,
            picked.c.subject,
            picked.c.subject_id,
            picked.c.measure,
            picked.c.value,
            func.coalesce(user.name, department.name, "").label("name"),
            user.department_id.label("user_department_id"),
            department.path.label("department_path"),
        )
        .select_from(picked)
        .where(picked.c.starts_on == month.start, picked.c.ends_on == month.end)
        .outerjoin(
            user,
            (picked.c.subject == "user")
            & (user.company_id == principal.company_id)
            & (user.id == picked.c.subject_id),
        )
        .outerjoin(
            department,
            (picked.c.subject == "department")
            & (department.company_id == principal.company_id)
            & (department.id == picked.c.subject_id),
        )
    )

    def extra(kind: str, subject_id: Any, path: Any) -> Any:
        return [
            literal(kind, String()),
            cast(null(), Uuid()),
            cast(null(), String()),
            subject_id,
            cast(null(), String()),
            cast(null(), Numeric()),
            cast(null(), String()),
            cast(null(), Uuid()),
            path,
        ]

    parts: list[Any] = [
        shown,
        select(*extra("path", Department.id, Department.path)).where(
            Department.company_id == principal.company_id
        ),
    ]
    subtree = principal.department_path if team is None else team
    if subtree:
        # `measures.members_during`: all who were ever in the subtree.
        member = DepartmentMembership
        parts.append(
            select(*extra("member", member.user_id, cast(null(), String())))
            .join(
                Department,
                (Department.company_id == member.company_id)
                & (Department.id == member.department_id),
            )
            .where(
                member.company_id == principal.company_id,
                Department.path.startswith(subtree, autoescape=True),
            )
        )
    found = MonthTargets([], {}, set())
    for row in (await session.execute(union_all(*parts))).all():
        if row.kind == "target":
            found.targets.append(MonthTarget(*row[1:]))
        elif row.kind == "path":
            found.paths[row.subject_id] = row.department_path
        else:
            found.members.add(row.subject_id)
    return found


def _progress_fields(
    target: MonthTarget, actual: Decimal, month: Period, today: date
) -> tuple[dict[str, Any], progress.Progress]:
    figures = progress.progress(target.value, actual, month, today)
    return {
        "target_id": target.id,
        "measure": target.measure,
        "value": figure(target.measure, target.value),
        "actual": figure(target.measure, actual),
        "rate": ratio(figures.rate),
        "expected": str(figures.expected.quantize(CENT, ROUND_HALF_UP)),
        "pace": ratio(figures.pace),
        "days_left": figures.days_left,
    }, figures


def _fact_users(principal: Principal, found: MonthTargets) -> list[uuid.UUID] | None:
    """Whose facts the month's figures need (None: the whole company's)."""
    team = _team_path(principal)
    if team == "":
        return None
    wanted = {t.subject_id for t in found.targets if t.subject == "user" and t.subject_id}
    wanted.add(principal.user_id)
    if team or any(t.subject == "department" for t in found.targets):
        wanted.update(found.members)
    return sorted(wanted)


async def _targets(
    session: AsyncSession,
    principal: Principal,
    settings: CompanySettings,
    month: Period,
    today: date,
) -> dict[str, Any]:
    found = await _month_targets(session, principal, month)
    targets = found.targets
    if not targets:
        empty: dict[str, list[Any]] | None = (
            None if _team_path(principal) is None else {"targets": [], "behind_pace": []}
        )
        return {"targets": [], "department_targets": [], "team": empty}
    zone = settings.time_zone
    facts = await measures.actuals(
        session,
        principal.company_id,
        {t.measure for t in targets},
        month.start,
        month.end,
        zone,
        user_ids=_fact_users(principal, found),
    )
    rollup = measures.Actuals(facts, found.paths)

    def actual(target: MonthTarget) -> Decimal:
        if target.subject == "user" and target.subject_id:
            return rollup.user(target.measure, target.subject_id)
        if target.subject == "department":
            return rollup.department(target.measure, target.department_path or "\x00")
        return rollup.company(target.measure)

    mine: list[dict[str, Any]] = []
    for target in sorted(targets, key=lambda t: t.measure):
        if target.subject != "user" or target.subject_id != principal.user_id:
            continue
        fields, _ = _progress_fields(target, actual(target), month, today)
        peers = [
            t
            for t in targets
            if t.subject == "user"
            and t.measure == target.measure
            and (
                t.subject_id == principal.user_id
                or (
                    principal.department_id is not None
                    and t.user_department_id == principal.department_id
                )
            )
        ]
        entries = []
        for peer in peers:
            peer_actual = actual(peer)
            assert peer.subject_id is not None
            entries.append(
                (peer.subject_id, peer.name, progress.ratio(peer_actual, peer.value), peer_actual)
            )
        ranked = progress.rank(entries)
        rank = next((r.rank for r in ranked if r.key == principal.user_id), None)
        mine.append({**fields, "rank": rank, "ranked": len(ranked)})

    def department_row(target: MonthTarget) -> dict[str, Any]:
        fields, _ = _progress_fields(target, actual(target), month, today)
        return {**fields, "department_id": target.subject_id, "name": target.name}

    own_department = [
        department_row(t)
        for t in sorted(targets, key=lambda t: t.measure)
        if t.subject == "department" and t.subject_id == principal.department_id
    ]
    team_path = _team_path(principal)
    team: dict[str, Any] | None = None
    if team_path is not None:
        team_targets = sorted(
            (
                t
                for t in targets
                if t.subject == "company"
                or (
                    t.subject == "department"
                    and (t.department_path or "\x00").startswith(team_path)
                )
            ),
            key=lambda t: (t.subject != "company", t.department_path or "", t.measure),
        )[:TEAM_TARGETS_CAP]
        behind: list[tuple[Decimal, str, dict[str, Any]]] = []
        for target in targets:
            # Every user target fetched besides the caller's is in the team.
            if target.subject != "user" or target.subject_id == principal.user_id:
                continue
            fields, figures = _progress_fields(target, actual(target), month, today)
            if figures.pace is None:
                continue
            behind.append(
                (
                    figures.pace,
                    target.name,
                    {
                        "user_id": target.subject_id,
                        "name": target.name,
                        "target_id": target.id,
                        "measure": target.measure,
                        "value": fields["value"],
                        "actual": fields["actual"],
                        "expected": fields["expected"],
                        "pace": fields["pace"],
                    },
                )
            )
        behind.sort(key=lambda item: (item[0], item[1], str(item[2]["target_id"])))
        team = {
            "targets": [department_row(t) for t in team_targets],
            "behind_pace": [item[2] for item in behind[:BEHIND_PACE_CAP]],
        }
    return {"targets": mine, "department_targets": own_department, "team": team}


# ---------- the whole screen ----------


async def dashboard(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """The caller's dashboard (see the module's docstring)."""
    settings = await company_settings(session, principal.company_id)
    at = now()
    today = local_date(at, settings.time_zone)
    month = containing("month", today, settings.fiscal_year_start_month)
    own = await _own(session, principal, month, at, today)
    return {
        "today": today,
        "month": month.key,
        **await _targets(session, principal, settings, month, today),
        **own,
        "today_plans": await _today_plans(session, principal, settings.time_zone, today),
        "payments_due": await _payments_due(session, principal, today, settings.payment_due_days),
    }
