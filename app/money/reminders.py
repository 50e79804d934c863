"""The money reminders (the `money` job's body), each in the company's own time and once:

* `contract_expiring` — an active contract whose `end_date` is within `contract_expiring_days`
  (company setting, default 30) from today and not past: normally sent the day it is exactly
  that many days ahead; a contract signed (or whose end date moved) inside the window, or a
  day the worker missed, is told on the next run. Once per contract and end date.
* `payment_due` — an instalment not yet paid whose due date is within `payment_due_days`
  (default 3) from today and not past: the same window rule. Once per instalment and due date.
* `payment_overdue` — an instalment overdue (the ledger's status: not paid and its due date
  before today): the day after the due date, then every 7 days until paid. Once per
  instalment, due date and week overdue (week 0 = days 1–7, week 1 = days 8–14, …): a day the
  worker missed is made up within the same week.

Each goes to the contract's owner and their managers (the managers of the owner's department
and of every department above it, as a deal's audience). The windows and the reminder hour are
the company's settings (`app.org.settings.CompanySettings`); nothing is sent before the
company's reminder hour in its time zone.

Set-based and idempotent: one fixed-shape statement per reminder kind over every due company
(their local day and settings as arrays), in batches of `BATCH` in (date, id) order, each
batch its own short transaction. A candidate whose owner already has the notification of that
dedupe key is not picked again (an index probe on `uq_notifications_user_dedupe`), and the
dedupe keys make a retried or concurrent run tell nobody twice. What is paid comes from
`app.money.ledger` (the rules written once).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.clock import now
from app.customers.models import Customer
from app.db import AnyRow, session_factory
from app.money import ledger
from app.money.models import Contract, Payment, PaymentAllocation, PaymentPlan
from app.notifications.inbox.service import notify_many
from app.notifications.models import Notification
from app.org.models import Company, Department, User
from app.org.settings import CompanySettings

BATCH = 1000
PAYING_STATUSES = ("active", "completed")  # contracts whose instalments are chased
OVERDUE_REPEAT_DAYS = 7


def setting_days(settings: dict[str, Any] | None, key: str) -> int:
    """A reminder's days from `companies.settings`, as the company's settings read them
    (`app.org.settings.CompanySettings`: the default when absent or not a count)."""
    return int(getattr(CompanySettings.of(None, settings), key))


def overdue_week(due_date: date, today: date) -> int | None:
    """Which weekly overdue reminder is current (0 from the day after the due date, 1 a week
    later, …); None while not overdue. The SQL below computes the same."""
    days = (today - due_date).days
    if days < 1:
        return None
    return (days - 1) // OVERDUE_REPEAT_DAYS


@dataclass(frozen=True)
class DueCompany:
    id: uuid.UUID
    today: date
    expiring_days: int
    due_days: int


# -- statements, built once --------------------------------------------------------------------

# The due companies: ids, local day and settings as parallel arrays.
_COMPANIES = (
    func.unnest(
        bindparam("company_ids", type_=ARRAY(Uuid())),
        bindparam("todays", type_=ARRAY(Date())),
        bindparam("windows", type_=ARRAY(Integer())),
    )
    .table_valued(
        column("company_id", Uuid()), column("today", Date()), column("window_days", Integer())
    )
    .render_derived(name="co", with_types=False)
)
_AFTER_DATE = bindparam("after_date", type_=Date())
_AFTER_ID = bindparam("after_id", type_=Uuid())
_LO = bindparam("lo", type_=Date())
_HI = bindparam("hi", type_=Date())
_LIMIT = bindparam("batch", type_=Integer())


def _not_told(owner: Any, company: Any, key: Any) -> Any:
    return ~exists().where(
        Notification.user_id == owner,
        Notification.dedupe_key == key,
        Notification.company_id == company,
    )


def _expiring_statement() -> Select[*tuple[Any, ...]]:
    key = func.concat(literal("contract_expiring:"), Contract.id, ":", Contract.end_date)
    return (
        select(
            Contract.id,
            Contract.company_id,
            Contract.customer_id,
            Contract.owner_id,
            Contract.number,
            Contract.end_date.label("day"),
            Customer.name.label("customer"),
            User.department_id,
            key.label("dedupe_key"),
            (Contract.end_date - _COMPANIES.c.today).label("days"),
        )
        .join(_COMPANIES, _COMPANIES.c.company_id == Contract.company_id)
        .join(
            Customer,
            (Customer.company_id == Contract.company_id) & (Customer.id == Contract.customer_id),
        )
        .join(User, (User.company_id == Contract.company_id) & (User.id == Contract.owner_id))
        .where(
            # ix_contracts_end: (end_date) WHERE deleted_at IS NULL AND status = 'active'
            Contract.deleted_at.is_(None),
            Contract.status == "active",
            Contract.end_date.between(_LO, _HI),
            Contract.end_date >= _COMPANIES.c.today,
            Contract.end_date <= _COMPANIES.c.today + _COMPANIES.c.window_days,
            tuple_(Contract.end_date, Contract.id) > tuple_(_AFTER_DATE, _AFTER_ID),
            _not_told(Contract.owner_id, Contract.company_id, key),
        )
        .order_by(Contract.end_date, Contract.id)
        .limit(_LIMIT)
    )


def _instalment_statement(*, overdue: bool) -> Select[*tuple[Any, ...]]:
    plan = PaymentPlan
    today = _COMPANIES.c.today
    # What the instalment has been paid (Σ allocations of received payments: the ledger's
    # rule), computed once per row.
    pd = (
        select(
            func.coalesce(
                func.sum(PaymentAllocation.amount).filter(ledger.received_sql()),
                literal(ledger.ZERO),
            ).label("paid")
        )
        .select_from(PaymentAllocation)
        .join(
            Payment,
            (Payment.company_id == PaymentAllocation.company_id)
            & (Payment.id == PaymentAllocation.payment_id),
        )
        .where(
            PaymentAllocation.company_id == plan.company_id, PaymentAllocation.plan_id == plan.id
        )
        .lateral("pd")
    )
    paid = pd.c.paid
    status = ledger.instalment_status_sql(plan.amount, paid, plan.due_date, today)
    if overdue:
        week = (today - plan.due_date - 1) // OVERDUE_REPEAT_DAYS
        key = func.concat(
            literal("payment_overdue:"), plan.id, ":", plan.due_date, ":", cast(week, String)
        )
        window = [plan.due_date < today, status == "overdue"]
    else:
        key = func.concat(literal("payment_due:"), plan.id, ":", plan.due_date)
        window = [
            plan.due_date >= today,
            plan.due_date <= today + _COMPANIES.c.window_days,
            status.in_(("pending", "partial")),
        ]
    return (
        select(
            plan.id,
            plan.company_id,
            plan.contract_id,
            plan.due_date.label("day"),
            (plan.amount - paid).label("unpaid"),
            Contract.number,
            Contract.customer_id,
            Contract.owner_id,
            Customer.name.label("customer"),
            User.department_id,
            key.label("dedupe_key"),
            (today - plan.due_date).label("days"),
        )
        .join(_COMPANIES, _COMPANIES.c.company_id == plan.company_id)
        .join(
            Contract, (Contract.company_id == plan.company_id) & (Contract.id == plan.contract_id)
        )
        .join(
            Customer,
            (Customer.company_id == Contract.company_id) & (Customer.id == Contract.customer_id),
        )
        .join(User, (User.company_id == Contract.company_id) & (User.id == Contract.owner_id))
        .join(pd, literal(True))
        .where(
            # ix_payment_plans_due: (due_date) WHERE deleted_at IS NULL
            plan.deleted_at.is_(None),
            plan.due_date.between(_LO, _HI),
            Contract.deleted_at.is_(None),
            Contract.status.in_(PAYING_STATUSES),
            tuple_(plan.due_date, plan.id) > tuple_(_AFTER_DATE, _AFTER_ID),
            *window,
            _not_told(Contract.owner_id, Contract.company_id, key),
        )
        .order_by(plan.due_date, plan.id)
        .limit(_LIMIT)
    )


_OWNER_DEPARTMENT = aliased(Department)
# Per department: the active managers of it and of every department above it.
_MANAGERS = (
    select(_OWNER_DEPARTMENT.id.label("department_id"), User.id.label("user_id"))
    .join(
        Department,
        and_(
            Department.company_id == _OWNER_DEPARTMENT.company_id,
            _OWNER_DEPARTMENT.path.startswith(Department.path),
        ),
    )
    .join(User, (User.company_id == Department.company_id) & (User.department_id == Department.id))
    .where(
        _OWNER_DEPARTMENT.id.in_(bindparam("department_ids", expanding=True)),
        User.role == "manager",
        User.is_active.is_(True),
    )
)
# A generic plan (the prepared statement's, after five batches) cannot see the date range: a
# re-run took minutes with it, 11 s with custom plans. Custom plans for each batch.
_BATCH_SETTINGS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
_DUE_COMPANIES = select(Company.id, Company.time_zone, Company.settings)


@dataclass(frozen=True)
class Kind:
    """One reminder kind: its statement, which companies' window applies, its notice."""

    name: str
    statement: Select[*tuple[Any, ...]]
    window: str | None  # the DueCompany field giving the window (None: no window)
    subject_type: str


KINDS = (
    Kind("contract_expiring", _expiring_statement(), "expiring_days", "contract"),
    Kind("payment_due", _instalment_statement(overdue=False), "due_days", "payment_plan"),
    Kind("payment_overdue", _instalment_statement(overdue=True), None, "payment_plan"),
)


# -- the run -----------------------------------------------------------------------------------


def due_companies(
    rows: Sequence[AnyRow], at: datetime, hour: int | None = None
) -> list[DueCompany]:
    """The companies whose local clock has passed their reminder hour (`hour` instead, when
    given), with today's date there and their windows (the company's settings)."""
    due = []
    for row in rows:
        settings = CompanySettings.of(row.time_zone, row.settings)
        local = at.astimezone(ZoneInfo(settings.time_zone))
        if local.time() < time(settings.reminder_hour if hour is None else hour):
            continue
        due.append(
            DueCompany(
                row.id,
                local.date(),
                settings.contract_expiring_days,
                settings.payment_due_days,
            )
        )
    return due


def _params(kind: Kind, companies: list[DueCompany]) -> dict[str, Any]:
    todays = [c.today for c in companies]
    windows = [getattr(c, kind.window) if kind.window else 0 for c in companies]
    lo = min(todays) - timedelta(days=1) if kind.window else date(1900, 1, 1)
    hi = (
        max(t + timedelta(days=w) for t, w in zip(todays, windows, strict=True))
        if kind.window
        else max(todays)
    )
    return {
        "company_ids": [c.id for c in companies],
        "todays": todays,
        "windows": windows,
        "lo": lo,
        "hi": hi,
        "batch": BATCH,
    }


def _notice_params(kind: Kind, row: AnyRow) -> dict[str, Any]:
    day = row.day.isoformat()
    if kind.name == "contract_expiring":
        return {"customer": row.customer, "number": row.number, "end_date": day, "days": row.days}
    return {
        "customer": row.customer,
        "number": row.number,
        "amount": str(row.unpaid),
        "due_date": day,
        "days": row.days if kind.name == "payment_overdue" else -row.days,
    }


async def _managers(
    session: AsyncSession, cache: dict[uuid.UUID, list[uuid.UUID]], departments: set[uuid.UUID]
) -> None:
    missing = [d for d in departments if d not in cache]
    if not missing:
        return
    for department in missing:
        cache[department] = []
    for row in (await session.execute(_MANAGERS, {"department_ids": missing})).all():
        cache[row.department_id].append(row.user_id)


async def remind_batch(
    session: AsyncSession,
    kind: Kind,
    params: dict[str, Any],
    after: tuple[date, uuid.UUID],
    managers: dict[uuid.UUID, list[uuid.UUID]],
) -> tuple[list[AnyRow], int]:
    """One batch of one kind after (date, id); commits. Returns (rows looked at, told)."""
    await session.execute(_BATCH_SETTINGS)
    rows = (
        await session.execute(
            kind.statement, {**params, "after_date": after[0], "after_id": after[1]}
        )
    ).all()
    if not rows:
        await session.commit()
        return [], 0
    await _managers(session, managers, {r.department_id for r in rows if r.department_id})
    notices = []
    for row in rows:
        contract_id = row.id if kind.subject_type == "contract" else row.contract_id
        audience = dict.fromkeys([row.owner_id, *managers.get(row.department_id, [])])
        for user_id in audience:
            notices.append(
                {
                    "company_id": row.company_id,
                    "user_id": user_id,
                    "kind": kind.name,
                    "params": _notice_params(kind, row),
                    "dedupe_key": row.dedupe_key,
                    "subject_type": kind.subject_type,
                    "subject_id": row.id,
                    "customer_id": row.customer_id,
                    "deep_link": f"outfield://contracts/{contract_id}",
                }
            )
    told = await notify_many(session, notices)
    await session.commit()
    return list(rows), told


async def money_reminders(counts: dict[str, int], *, batch: int = BATCH) -> None:
    """The job body: every due company's reminders of every kind, batch by batch."""
    at = now()
    counts.update(companies=0, examined=0, notified=0, batches=0)
    async with session_factory()() as session:
        rows = (await session.execute(_DUE_COMPANIES)).all()
        await session.commit()
        companies = due_companies(rows, at)
        counts["companies"] = len(companies)
        if not companies:
            return
        managers: dict[uuid.UUID, list[uuid.UUID]] = {}
        for kind in KINDS:
            params = {**_params(kind, companies), "batch": batch}
            after: tuple[date, uuid.UUID] = (date(1900, 1, 1), uuid.UUID(int=0))
            counts[kind.name] = 0
            while True:
                looked, told = await remind_batch(session, kind, params, after, managers)
                counts["batches"] += 1
                counts["examined"] += len(looked)
                counts["notified"] += told
                counts[kind.name] += told
                if len(looked) < batch:
                    break
                after = (looked[-1].day, looked[-1].id)
