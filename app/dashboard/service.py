"""The caller's dashboard: one request for the app's first screen.

Everything is the caller's own (their held customers, plans, opportunities, contracts,
notifications), in company time, plus this month's targets and — for managers (their subtree)
and admins (the company) — the team's achievement and who is most behind pace.

Few statements (two besides the settings and `measures.actuals`), each branch on an index
that starts with the company and the caller or the subject, each built once per shape
(`functools.cache` on bound parameters, `_params`):

1. the caller's own counts and short lists (`_own_statement`, one UNION ALL): held, unread,
   the holding cap's pool rules, closing this month (`ix_opportunities_owner_closing`, index
   only), and with their counts (`count(*) OVER ()`) the first few recycling soon and overdue
   follow-ups (the caller's customers read once, `ix_customers_owner`) and birthdays; payments
   due (`ix_contracts_owner`, only contracts still owed money, then
   `ix_payment_plans_contract`); today's plans (`ix_visit_plans_user_date`);
2. the month's targets (by subject on `uq_targets_subject_measure_period`; admins the
   company's month), with every department's path and the members of the caller's subtree
   (what `measures.department_paths` / `members_during` answer) in the same statement;
3. their actuals (`measures.actuals`, one statement). No per-item query.

Caps: `LIST_CAP` items of recycling soon, overdue follow-ups and payments due,
`BIRTHDAYS_CAP` birthdays, `PLANS_CAP` plans, `TEAM_TARGETS_CAP` team targets,
`BEHIND_PACE_CAP` behind pace.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Time,
    Uuid,
    and_,
    any_,
    bindparam,
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
from app.fieldwork.periods import local_date, local_midnight
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
from app.tasks.models import Task, TaskAssignee

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

# The statements are built once per shape (`functools.cache`) on these parameters; each
# request only binds its values (`_params`).
_COMPANY = bindparam("dash_company_id", type_=Uuid())
_USER = bindparam("dash_user_id", type_=Uuid())
_DEPARTMENT = bindparam("dash_department_id", type_=Uuid())
_AT = bindparam("dash_at", type_=DateTime(timezone=True))
_TODAY = bindparam("dash_today", type_=Date())
_DUE_BY = bindparam("dash_due_by", type_=Date())
_MONTH_KEY = bindparam("dash_month", type_=String())
_MONTH_START = bindparam("dash_month_start", type_=Date())
_MONTH_END = bindparam("dash_month_end", type_=Date())
_TOMORROW = bindparam("dash_tomorrow", type_=DateTime(timezone=True))  # company midnight
_TEAM_LIKE = bindparam("dash_team_like", type_=String())
_SUBTREE_LIKE = bindparam("dash_subtree_like", type_=String())
LIKE_ESCAPE = "/"


def prefix_pattern(prefix: str) -> str:
    """A LIKE pattern matching what starts with `prefix` (as `startswith(autoescape=True)`)."""
    escaped = (
        prefix.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return escaped + "%"


def _params(principal: Principal, **values: Any) -> dict[str, Any]:
    return {
        "dash_company_id": principal.company_id,
        "dash_user_id": principal.user_id,
        **{f"dash_{name}": value for name, value in values.items()},
    }


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


def _owned() -> Any:
    return and_(
        Customer.company_id == _COMPANY,
        Customer.owner_id == _USER,
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
    # payments due ("payment"; id, customer_id, customer_name, total too)
    "contract_id": Uuid(),
    "number": String(),
    "due_date": Date(),
    "amount": Numeric(),
    "paid": Numeric(),
    "status": String(),
    "outstanding": Numeric(),
    # today's plans ("plan"; id, customer_id, customer_name too)
    "planned_time": Time(),
    "sequence": Integer(),
    "purpose": String(),
    "plan_date": Date(),
    "checkin_id": Uuid(),
}


def _row(kind: str, **columns: Any) -> list[Any]:
    """One branch's select list, in `_OWN_COLUMNS` order."""
    columns["kind"] = literal(kind, String())
    return [
        (columns[name] if name in columns else cast(null(), type_)).label(name)
        for name, type_ in _OWN_COLUMNS.items()
    ]


@lru_cache(maxsize=128)
def _own_statement(birthday_count: int, time_zone: str) -> Any:
    """Held, unread, closing this month, the cap's pool rules (the `counts` row) and the first
    few of recycling soon, overdue follow-ups and birthdays, each with its count
    (`count(*) OVER ()`). The caller's customers are read once (`mine`, on
    `ix_customers_owner`) for held, recycling and overdue; open opportunities closing this
    month on `ix_opportunities_owner_closing` (index only). Payments due
    (`_payments_due_statement`) and today's plans (`_today_plans_statement`) ride along as
    two more branches, in their own order."""
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
        .where(_owned())
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
            mine.c.recycle_at <= _AT + func.make_interval(0, 0, 0, mine.c.warning_days),
        )
        .order_by(mine.c.recycle_at, mine.c.id)
        .limit(LIST_CAP)
        .subquery("recycling")
    )
    overdue = (
        select(mine.c.id, mine.c.name, mine.c.next_followup_at, func.count().over().label("total"))
        .where(mine.c.next_followup_at < _AT)
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
            _owned(),
            Contact.deleted_at.is_(None),
            Contact.birthday.is_not(None),
            born.in_(
                [
                    tuple_(
                        bindparam(f"dash_born_month_{k}", type_=Integer()),
                        bindparam(f"dash_born_day_{k}", type_=Integer()),
                    )
                    for k in range(birthday_count)
                ]
            ),
        )
        .order_by(Customer.name, Contact.name, Contact.id)
        .limit(BIRTHDAYS_CAP)
        .subquery("birthdays")
    )
    unread = (
        select(func.count())
        .where(
            Notification.user_id == _USER,
            Notification.company_id == _COMPANY,
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
            Opportunity.company_id == _COMPANY,
            Opportunity.owner_id == _USER,
            Opportunity.deleted_at.is_(None),
            Opportunity.status == "open",
            Opportunity.expected_close_date >= _MONTH_START,
            Opportunity.expected_close_date < _MONTH_END,
        )
        .subquery("closing")
    )
    rules_row = select(PoolSettings.holding_cap, PoolSettings.department_caps).where(
        PoolSettings.company_id == _COMPANY
    )
    due = _payments_due_statement().subquery("payments_due")
    plans = _today_plans_statement(time_zone).subquery("today_plans")

    def tasks(due_from: Any, due_until: Any, name: str) -> Any:
        """The caller's open tasks due in [from, until) — on `ix_task_assignees_user`."""
        window = [Task.due_at < due_until] + (
            [Task.due_at >= due_from] if due_from is not None else []
        )
        return (
            select(
                Task.id,
                Task.title,
                Task.due_at,
                Task.customer_id,
                func.count().over().label("total"),
            )
            .join(
                TaskAssignee,
                (TaskAssignee.company_id == Task.company_id) & (TaskAssignee.task_id == Task.id),
            )
            .where(
                TaskAssignee.user_id == _USER,
                Task.company_id == _COMPANY,
                Task.deleted_at.is_(None),
                Task.done_at.is_(None),
                *window,
            )
            .order_by(Task.due_at, Task.id)
            .limit(LIST_CAP)
            .subquery(name)
        )

    overdue_tasks = tasks(None, _AT, "overdue_tasks")
    today_tasks = tasks(_AT, _TOMORROW, "today_tasks")
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
        select(
            *_row(
                "payment",
                id=due.c.id,
                contract_id=due.c.contract_id,
                number=due.c.number,
                customer_id=due.c.customer_id,
                customer_name=due.c.customer_name,
                due_date=due.c.due_date,
                amount=due.c.amount,
                paid=due.c.paid,
                status=due.c.status,
                total=due.c.total,
                outstanding=due.c.outstanding,
            )
        ),
        *(
            select(
                *_row(
                    kind,
                    id=listed.c.id,
                    name=listed.c.title,
                    at=listed.c.due_at,
                    customer_id=listed.c.customer_id,
                    total=listed.c.total,
                )
            )
            for kind, listed in (("task_overdue", overdue_tasks), ("task_today", today_tasks))
        ),
        select(
            *_row(
                "plan",
                id=plans.c.id,
                customer_id=plans.c.customer_id,
                customer_name=plans.c.customer_name,
                planned_time=plans.c.planned_time,
                sequence=plans.c.sequence,
                purpose=plans.c.purpose,
                plan_date=plans.c.plan_date,
                checkin_id=plans.c.checkin_id,
            )
        ),
    )


async def _own(
    session: AsyncSession,
    principal: Principal,
    settings: CompanySettings,
    month: Period,
    at: datetime,
    today: date,
) -> dict[str, Any]:
    """The caller's counts and short lists, payments due and today's plans
    (`_own_statement`), one round trip."""
    listed: dict[str, list[Any]] = {
        "recycling": [],
        "overdue": [],
        "birthday": [],
        "payment": [],
        "plan": [],
        "task_overdue": [],
        "task_today": [],
    }
    counts: Any = None
    days = birthday_days(today)
    params = _params(
        principal,
        at=at,
        today=today,
        due_by=today + timedelta(days=settings.payment_due_days),
        month_start=month.start,
        month_end=month.end,
        tomorrow=local_midnight(today + timedelta(days=1), settings.time_zone),
    )
    for k, (born_month, born_day) in enumerate(days):
        params[f"dash_born_month_{k}"] = born_month
        params[f"dash_born_day_{k}"] = born_day
    statement = _own_statement(len(days), settings.time_zone)
    for row in (await session.execute(statement, params)).all():
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
        "payments_due": _payments_due(listed["payment"]),
        "today_plans": _today_plans(listed["plan"], today),
        **{
            field: {
                "count": total(kind),
                "items": [
                    {"task_id": r.id, "title": r.name, "due_at": r.at, "customer_id": r.customer_id}
                    for r in listed[kind]
                ],
            }
            for field, kind in (("tasks_today", "task_today"), ("tasks_overdue", "task_overdue"))
        },
    }


def _listed(rows: list[Any]) -> int:
    return int(rows[0].total) if rows else 0


@cache
def _payments_due_statement() -> Any:
    """Instalments of the caller's contracts due by `dash_due_by` (overdue ones included) and
    not fully paid (`ledger`: paid = received payments allocated to it). Only contracts still
    owed money (`received < amount`, the running total) are looked into: one fully received
    takes no further payment (received ≤ committed ≤ amount), so none of its instalments is
    there to chase — and the correlated `paid` is not computed for them."""
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
            Contract.company_id == _COMPANY,
            Contract.owner_id == _USER,
            Contract.deleted_at.is_(None),
            Contract.status.in_(PAYING_STATUSES),
            Contract.received < Contract.amount,
            PaymentPlan.deleted_at.is_(None),
            PaymentPlan.due_date <= _DUE_BY,
        )
        # Materialized: `paid` (a correlated sum) is computed once per instalment, not once
        # per use (filter, status, window sum, columns).
        .cte("due_plans")
        .prefix_with("MATERIALIZED")
    )
    unpaid = plans.c.amount - plans.c.paid
    return (
        select(
            plans,
            Customer.name.label("customer_name"),
            ledger.instalment_status_sql(
                plans.c.amount, plans.c.paid, plans.c.due_date, _TODAY
            ).label("status"),
            func.count().over().label("total"),
            func.sum(unpaid).over().label("outstanding"),
        )
        .join(
            Customer,
            (Customer.company_id == _COMPANY) & (Customer.id == plans.c.customer_id),
        )
        .where(plans.c.paid < plans.c.amount)
        .order_by(plans.c.due_date, plans.c.id)
        .limit(LIST_CAP)
    )


def _payments_due(rows: list[Any]) -> dict[str, Any]:
    """Payments due from `_own_statement`'s "payment" rows."""
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


@lru_cache(maxsize=64)
def _today_plans_statement(time_zone: str) -> Any:
    """Today's plans (`ix_visit_plans_user_date`) as plain columns, in route order."""
    visited, _ = status_columns(time_zone)
    return (
        select(
            VisitPlan.id,
            VisitPlan.customer_id,
            Customer.name.label("customer_name"),
            VisitPlan.planned_time,
            VisitPlan.sequence,
            VisitPlan.purpose,
            VisitPlan.plan_date,
            visited.label("checkin_id"),
        )
        .join(
            Customer,
            (Customer.company_id == VisitPlan.company_id) & (Customer.id == VisitPlan.customer_id),
        )
        .where(
            VisitPlan.company_id == _COMPANY,
            VisitPlan.user_id == _USER,
            VisitPlan.plan_date == _TODAY,
            VisitPlan.deleted_at.is_(None),
        )
        .order_by(*ROUTE_ORDER)
        .limit(PLANS_CAP)
    )


def _today_plans(rows: list[Any], today: date) -> list[dict[str, Any]]:
    """Today's plans from `_own_statement`'s "plan" rows, with their status."""
    return [
        {
            "plan_id": r.id,
            "customer_id": r.customer_id,
            "customer_name": r.customer_name,
            "planned_time": r.planned_time,
            "sequence": r.sequence,
            "purpose": r.purpose,
            "status": plan_status(r.plan_date, r.checkin_id, today),
            "checkin_id": r.checkin_id,
        }
        for r in rows
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


def _subjects(has_department: bool, in_team: bool) -> Any:
    """Which targets are shown: the caller's, their department's users' (the rank) and the
    department's; a manager's subtree's users and departments. Each side an
    `ARRAY(SELECT …)` computed once (an InitPlan): an index condition on
    `uq_targets_subject_measure_period`, or at worst a filter on one scan of the month.
    `in_team`: a manager's subtree (`dash_team_like`)."""
    company_id = _COMPANY
    mine = User.id == _USER
    peers = mine | (User.department_id == _DEPARTMENT) if has_department else mine
    users: Any = select(User.id).where(User.company_id == company_id, peers)
    departments: Any = select(Department.id).where(
        Department.company_id == company_id,
        Department.id == _DEPARTMENT if has_department else Department.id.is_(None),
    )
    if in_team:
        team = Department.path.like(_TEAM_LIKE, escape=LIKE_ESCAPE)
        users = union(
            users,
            select(User.id)
            .join(
                Department,
                (Department.company_id == User.company_id) & (Department.id == User.department_id),
            )
            .where(User.company_id == company_id, team),
        )
        departments = select(Department.id).where(
            Department.company_id == company_id,
            team | (Department.id == _DEPARTMENT if has_department else Department.id.is_(None)),
        )
    key = _SUBJECT_KEY
    return or_(
        (Target.subject == "user") & (key == any_(func.array(users.scalar_subquery()))),
        (Target.subject == "department") & (key == any_(func.array(departments.scalar_subquery()))),
    )


@cache
def _month_targets_statement(team: str | None, has_department: bool, in_subtree: bool) -> Any:
    """`_month_targets`' statement for one shape: `team` None (below manager), "" (admins)
    or "team" (a manager's subtree, `dash_team_like`); `in_subtree`: the members of
    `dash_subtree_like` too."""
    user = aliased(User, name="target_user")
    department = aliased(Department, name="target_department")
    month_targets = select(
        Target.id,
        Target.subject,
        Target.subject_id,
        Target.measure,
        Target.value,
        Target.starts_on,
        Target.ends_on,
    ).where(
        Target.company_id == _COMPANY,
        Target.period == _MONTH_KEY,
        Target.period_kind == "month",
        Target.deleted_at.is_(None),
    )
    if team != "":
        month_targets = month_targets.where(_subjects(has_department, bool(team)))
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
        .where(picked.c.starts_on == _MONTH_START, picked.c.ends_on == _MONTH_END)
        .outerjoin(
            user,
            (picked.c.subject == "user")
            & (user.company_id == _COMPANY)
            & (user.id == picked.c.subject_id),
        )
        .outerjoin(
            department,
            (picked.c.subject == "department")
            & (department.company_id == _COMPANY)
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
            Department.company_id == _COMPANY
        ),
    ]
    if in_subtree:
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
                member.company_id == _COMPANY,
                Department.path.like(_SUBTREE_LIKE, escape=LIKE_ESCAPE),
            )
        )
    return union_all(*parts)


async def _month_targets(
    session: AsyncSession, principal: Principal, month: Period
) -> MonthTargets:
    """The live month targets the dashboard shows — the caller's own, their department peers'
    (for the rank), their department's, and the team's (managers: subtree; admins: all) —
    with every department's path and the members of the caller's subtree, in one statement
    (`_month_targets_statement`). Callers below admin name their subjects (`_subjects`);
    admins read the company's month (`ix_targets_company_period`)."""
    team = _team_path(principal)
    subtree = principal.department_path if team is None else team
    statement = _month_targets_statement(
        None if team is None else ("team" if team else ""),
        principal.department_id is not None,
        bool(subtree),
    )
    params = _params(
        principal,
        department_id=principal.department_id,
        month=month.key,
        month_start=month.start,
        month_end=month.end,
        team_like=prefix_pattern(team or ""),
        subtree_like=prefix_pattern(subtree or ""),
    )
    found = MonthTargets([], {}, set())
    for row in (await session.execute(statement, params)).all():
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
    own = await _own(session, principal, settings, month, at, today)
    return {
        "today": today,
        "month": month.key,
        **await _targets(session, principal, settings, month, today),
        **own,
    }
