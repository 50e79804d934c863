"""The caller's dashboard: one request for the app's first screen.

Everything is the caller's own (their held customers, plans, opportunities, contracts,
notifications), in company time, plus this month's targets and — for managers (their subtree)
and admins (the company) — the team's achievement and who is most behind pace.

Few statements, each on an index that starts with the company and the caller
(`ix_customers_owner`, `ix_opportunities_owner`, `ix_contracts_owner`,
`ix_visit_plans_user_date`, `ix_notifications_unread`): the settings (1); the counts — held,
unread, closing this month, the holding cap's pool rules — in one (2); each list with its
count (`count(*) OVER ()`) and its first few: recycling soon, overdue follow-ups, payments
due, birthdays, today's plans (5); the month's targets (1) and their actuals
(`measures.actuals`, one statement, plus the members of the department during the month and
the departments' paths when a department target needs them). No per-item query.

Caps: `LIST_CAP` items of recycling soon, overdue follow-ups and payments due,
`BIRTHDAYS_CAP` birthdays, `PLANS_CAP` plans, `TEAM_TARGETS_CAP` team targets,
`BEHIND_PACE_CAP` behind pace.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Integer, and_, cast, func, literal, or_, select, tuple_
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
from app.targets.models import MONEY_MEASURES, Target
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


# ---------- the caller's own lists ----------


def _owned(principal: Principal) -> Any:
    return and_(
        Customer.company_id == principal.company_id,
        Customer.owner_id == principal.user_id,
        Customer.deleted_at.is_(None),
    )


async def _counts(
    session: AsyncSession, principal: Principal, month: Period, at: datetime
) -> dict[str, Any]:
    """Held, unread, closing this month and the pool rules of the cap: one statement."""
    held = select(func.count()).where(_owned(principal)).scalar_subquery()
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
    row = (
        await session.execute(
            select(
                held.label("held"),
                unread.label("unread"),
                closing.c.count,
                closing.c.amount,
                closing.c.weighted,
                rules_row.with_only_columns(PoolSettings.holding_cap)
                .scalar_subquery()
                .label("holding_cap"),
                rules_row.with_only_columns(PoolSettings.department_caps)
                .scalar_subquery()
                .label("department_caps"),
            ).select_from(closing)
        )
    ).one()
    cap = rules.holding_cap_for(
        principal.department_path,
        DEFAULT_HOLDING_CAP if row.holding_cap is None else row.holding_cap,
        row.department_caps or {},
    )
    return {
        "customers_held": row.held,
        "holding_cap": cap,
        "unread_notifications": row.unread,
        "closing_this_month": {
            "count": row.count,
            "amount": row.amount,
            "weighted_amount": ledger.fen(Decimal(row.weighted) / 100),
        },
    }


def _listed(rows: list[Any]) -> int:
    return int(rows[0].total) if rows else 0


async def _recycling(session: AsyncSession, principal: Principal, at: datetime) -> dict[str, Any]:
    warning = func.make_interval(0, 0, 0, Pool.warning_days)
    rows = list(
        (
            await session.execute(
                select(
                    Customer.id,
                    Customer.name,
                    Customer.recycle_at,
                    Customer.recycle_reason,
                    func.count().over().label("total"),
                )
                .join(
                    Pool, (Pool.company_id == Customer.company_id) & (Pool.id == Customer.pool_id)
                )
                .where(
                    _owned(principal),
                    Customer.recycle_at.is_not(None),
                    Customer.recycle_at <= literal(at) + warning,
                )
                .order_by(Customer.recycle_at, Customer.id)
                .limit(LIST_CAP)
            )
        ).all()
    )
    return {
        "count": _listed(rows),
        "items": [
            {
                "customer_id": r.id,
                "name": r.name,
                "recycle_at": r.recycle_at,
                "recycle_reason": r.recycle_reason,
            }
            for r in rows
        ],
    }


async def _overdue(session: AsyncSession, principal: Principal, at: datetime) -> dict[str, Any]:
    rows = list(
        (
            await session.execute(
                select(
                    Customer.id,
                    Customer.name,
                    Customer.next_followup_at,
                    func.count().over().label("total"),
                )
                .where(_owned(principal), Customer.next_followup_at < at)
                .order_by(Customer.next_followup_at, Customer.id)
                .limit(LIST_CAP)
            )
        ).all()
    )
    return {
        "count": _listed(rows),
        "items": [
            {"customer_id": r.id, "name": r.name, "next_followup_at": r.next_followup_at}
            for r in rows
        ],
    }


async def _payments_due(
    session: AsyncSession, principal: Principal, today: date, due_days: int
) -> dict[str, Any]:
    """Instalments of the caller's contracts due by today + due_days (overdue ones included)
    and not fully paid (`ledger`: paid = received payments allocated to it)."""
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


async def _birthdays(session: AsyncSession, principal: Principal, today: date) -> dict[str, Any]:
    born = tuple_(
        cast(func.extract("month", Contact.birthday), Integer),
        cast(func.extract("day", Contact.birthday), Integer),
    )
    rows = list(
        (
            await session.execute(
                select(
                    Contact.id,
                    Contact.name,
                    Customer.id.label("customer_id"),
                    Customer.name.label("customer_name"),
                    func.count().over().label("total"),
                )
                .join(
                    Contact,
                    (Contact.company_id == Customer.company_id)
                    & (Contact.customer_id == Customer.id),
                )
                .where(
                    _owned(principal),
                    Contact.deleted_at.is_(None),
                    Contact.birthday.is_not(None),
                    born.in_(birthday_days(today)),
                )
                .order_by(Customer.name, Contact.name, Contact.id)
                .limit(BIRTHDAYS_CAP)
            )
        ).all()
    )
    return {
        "count": _listed(rows),
        "items": [
            {
                "contact_id": r.id,
                "name": r.name,
                "customer_id": r.customer_id,
                "customer_name": r.customer_name,
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


async def _month_targets(
    session: AsyncSession, principal: Principal, month: Period
) -> list[MonthTarget]:
    """The live month targets the dashboard shows: the caller's own, their department peers'
    (for the rank), their department's, and the team's (managers: subtree; admins: all)."""
    user = aliased(User, name="target_user")
    user_department = aliased(Department, name="user_department")
    department = aliased(Department, name="target_department")
    is_user = Target.subject == "user"
    is_department = Target.subject == "department"
    shown: list[Any] = [is_user & (Target.subject_id == principal.user_id)]
    if principal.department_id is not None:
        shown.append(is_user & (user.department_id == principal.department_id))
        shown.append(is_department & (Target.subject_id == principal.department_id))
    team = _team_path(principal)
    if team == "":
        shown.append(literal(True))
    elif team:
        shown.append(is_user & user_department.path.startswith(team, autoescape=True))
        shown.append(is_department & department.path.startswith(team, autoescape=True))
    rows = (
        await session.execute(
            select(
                Target.id,
                Target.subject,
                Target.subject_id,
                Target.measure,
                Target.value,
                func.coalesce(user.name, department.name, "").label("name"),
                user.department_id.label("user_department_id"),
                department.path.label("department_path"),
            )
            .outerjoin(
                user,
                is_user & (user.company_id == Target.company_id) & (user.id == Target.subject_id),
            )
            .outerjoin(
                user_department,
                (user_department.company_id == user.company_id)
                & (user_department.id == user.department_id),
            )
            .outerjoin(
                department,
                is_department
                & (department.company_id == Target.company_id)
                & (department.id == Target.subject_id),
            )
            .where(
                Target.company_id == principal.company_id,
                Target.starts_on == month.start,
                Target.ends_on == month.end,
                Target.period_kind == "month",
                Target.deleted_at.is_(None),
                or_(*shown),
            )
        )
    ).all()
    return [MonthTarget(*row) for row in rows]


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


async def _fact_users(
    session: AsyncSession,
    principal: Principal,
    targets: Iterable[MonthTarget],
    month: Period,
    time_zone: str,
) -> list[uuid.UUID] | None:
    """Whose facts the month's figures need (None: the whole company's)."""
    team = _team_path(principal)
    if team == "":
        return None
    wanted = {t.subject_id for t in targets if t.subject == "user" and t.subject_id}
    wanted.add(principal.user_id)
    path = team or (
        principal.department_path if any(t.subject == "department" for t in targets) else None
    )
    if path:
        wanted.update(
            await measures.members_during(
                session, principal.company_id, path, month.start, month.end, time_zone
            )
        )
    return sorted(wanted)


async def _targets(
    session: AsyncSession,
    principal: Principal,
    settings: CompanySettings,
    month: Period,
    today: date,
) -> dict[str, Any]:
    targets = await _month_targets(session, principal, month)
    if not targets:
        empty: dict[str, list[Any]] | None = (
            None if _team_path(principal) is None else {"targets": [], "behind_pace": []}
        )
        return {"targets": [], "department_targets": [], "team": empty}
    zone = settings.time_zone
    user_ids = await _fact_users(session, principal, targets, month, zone)
    facts = await measures.actuals(
        session,
        principal.company_id,
        {t.measure for t in targets},
        month.start,
        month.end,
        zone,
        user_ids=user_ids,
    )
    paths: dict[uuid.UUID, str] = {}
    if any(t.subject != "user" for t in targets):
        paths = await measures.department_paths(session, principal.company_id)
    rollup = measures.Actuals(facts, paths)

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
    counts = await _counts(session, principal, month, at)
    return {
        "today": today,
        "month": month.key,
        **await _targets(session, principal, settings, month, today),
        **counts,
        "recycling_soon": await _recycling(session, principal, at),
        "today_plans": await _today_plans(session, principal, settings.time_zone, today),
        "overdue_followups": await _overdue(session, principal, at),
        "payments_due": await _payments_due(session, principal, today, settings.payment_due_days),
        "birthdays": await _birthdays(session, principal, today),
    }
