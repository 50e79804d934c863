"""The sales report (read-only): per month, quarter, product line, product, owner or the owner's
department — contracts signed and their amount, payments received, and growth vs the previous
period of the same length and vs the same period a year before.

* Contracted: contracts `active` or `completed` by `signed_on`; received: payments counting as
  received (`app.money.ledger.received_sql`: confirmed, reversals of confirmed ones included)
  by `received_on` — both on contracts the caller may see (`contract_visibility`, like their
  customer), in company dates.
* Months and quarters follow the calendar: the range is widened to whole periods; each
  period's `prev` is the period before it and `yoy` the same period a year before. For the
  other groups, the range as asked, the same number of days just before it, and the same dates
  a year before (29 February → 28 February).
* Drill-down: `user_id` (contracts that user owns) or `department_id` (owned by the users now in
  that subtree), within what the caller sees — the visit report's scope (404 when invisible).
* By product or product line a contract is split by its lines' amounts (a contract without
  lines is one group `null`); a payment is shared out as its contract's lines are (amount ×
  line ÷ contract), the group's sum rounded half-up to the fen once.

Two statements (contracted, received), each one pass grouped by period — for months and
quarters `date_trunc` of the day; otherwise a three-row window set (current, previous,
year before) joined by date, with GROUPING SETS giving the total. Indexes:
`ix_contracts_signed` (company_id, signed_on) WHERE active/completed, `ix_payments_received`
(company_id, received_on), lines by `ix_contract_lines_contract`.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Numeric,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.money import ledger
from app.money.models import Contract, ContractLine, Payment, Product
from app.money.plans.service import company_today
from app.money.visibility import contract_visibility
from app.org.models import Department, User
from app.reports import errors
from app.reports.visits import report_scope

Stmt = Select[*tuple[Any, ...]]
MAX_DAYS = 1830  # about five years
TIME_GROUPS = {"month": 1, "quarter": 3}  # months per period
SIGNED = ("active", "completed")
ZERO = Decimal("0.00")
_FEN = Decimal("0.01")
_RATIO = Decimal("0.0001")
COLUMNS = (
    "key",
    "label",
    "since",
    "until",
    "contracts",
    "contracted",
    "received",
    "contracted_prev",
    "contracted_yoy",
    "growth_prev",
    "growth_yoy",
    "received_prev",
    "received_yoy",
    "received_growth_prev",
    "received_growth_yoy",
)


# ---------- pure figures ----------


def growth(current: Decimal, base: Decimal) -> str | None:
    """(current − base) ÷ base, exact, four places half-up; None when the base is 0."""
    if not base:
        return None
    return str(((current - base) / base).quantize(_RATIO, ROUND_HALF_UP))


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def year_before(day: date) -> date:
    """The same date a year before (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def period_start(day: date, months: int) -> date:
    """The first day of the calendar month (months=1) or quarter (3) holding `day`."""
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def period_key(start: date, months: int) -> str:
    if months == 3:
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year:04d}-{start.month:02d}"


# ---------- statements ----------


@dataclass(frozen=True)
class SalesQuery:
    group: str
    since: date | None
    until: date | None
    user_id: uuid.UUID | None = None  # only the contracts this user owns
    department_id: uuid.UUID | None = None  # only those owned in this subtree


_WINDOWS = (
    func.unnest(
        bindparam("w_labels", type_=ARRAY(Text())),
        bindparam("w_starts", type_=ARRAY(Date())),
        bindparam("w_ends", type_=ARRAY(Date())),
    )
    .table_valued(column("label", Text()), column("starts", Date()), column("ends", Date()))
    .render_derived(name="w", with_types=False)
)
_REPORT_SETTINGS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
_LO = bindparam("lo", type_=Date())
_HI = bindparam("hi", type_=Date())


def _trunc(unit: str, day: Any) -> Any:
    """The first day of the month or quarter of a date column, as a date."""
    return cast(func.date_trunc(unit, cast(day, DateTime())), Date)


def _group_columns(group: str) -> tuple[Any, Any]:
    """(key, label) of a non-time group."""
    if group == "product_line":
        return Product.product_line, cast(literal(None), String)
    if group == "product":
        return cast(ContractLine.product_id, String), func.max(Product.name)
    if group == "user":
        return cast(Contract.owner_id, String), func.max(User.name)
    return cast(User.department_id, String), func.max(Department.name)


def _joins(stmt: Stmt, group: str) -> Stmt:
    if group in ("product_line", "product"):
        stmt = stmt.outerjoin(
            ContractLine,
            (ContractLine.company_id == Contract.company_id)
            & (ContractLine.contract_id == Contract.id),
        ).outerjoin(
            Product,
            (Product.company_id == ContractLine.company_id)
            & (Product.id == ContractLine.product_id),
        )
    if group in ("user", "department"):
        stmt = stmt.join(
            User, (User.company_id == Contract.company_id) & (User.id == Contract.owner_id)
        )
    if group == "department":
        stmt = stmt.outerjoin(
            Department,
            (Department.company_id == User.company_id) & (Department.id == User.department_id),
        )
    return stmt


def _received(principal: Principal, window: Any, owned: tuple[Any, ...] = ()) -> Stmt:
    """Received payments on visible contracts, by `window` (a period start or a window label).
    Measured: joining payments to contracts and checking each row's visibility lets the planner
    hash the visible contracts once; summing per contract first made it probe per row."""
    return (
        select(window.label("window"))
        .select_from(Payment)
        .join(
            Contract,
            (Contract.company_id == Payment.company_id) & (Contract.id == Payment.contract_id),
        )
        .where(
            Payment.company_id == principal.company_id,
            ledger.received_sql(),
            Payment.received_on.between(_LO, _HI),
            contract_visibility(principal),
            *owned,
        )
    )


def _statements(
    principal: Principal, group: str, owners: list[uuid.UUID] | None = None
) -> tuple[Stmt, Stmt]:
    """(contracted, received) for the group. Columns: window (period start or window label),
    key, label, is_total, contracts, amount. `owners`: only contracts they own (None: all)."""
    visible = contract_visibility(principal)
    owned = () if owners is None else (Contract.owner_id.in_(owners),)
    signed_in_range = (
        visible,
        Contract.status.in_(SIGNED),
        Contract.signed_on.between(_LO, _HI),
        *owned,
    )
    months = TIME_GROUPS.get(group)
    if months is not None:
        unit = "month" if months == 1 else "quarter"
        signed = _trunc(unit, Contract.signed_on).label("window")
        contracted = (
            select(
                signed,
                literal(None).label("key"),
                literal(None).label("label"),
                literal(False).label("is_total"),
                func.count().label("contracts"),
                func.coalesce(func.sum(Contract.amount), ZERO).label("amount"),
            )
            .where(*signed_in_range)
            .group_by(signed)
        )
        day = _trunc(unit, Payment.received_on).label("window")
        received = (
            _received(principal, day, owned)
            .add_columns(
                literal(None).label("key"),
                literal(None).label("label"),
                literal(False).label("is_total"),
                literal(0).label("contracts"),
                func.coalesce(func.sum(Payment.amount), ZERO).label("amount"),
            )
            .group_by(day)
        )
        return contracted, received

    by_line = group in ("product_line", "product")
    key, label = _group_columns(group)
    is_total = func.grouping(key) == 1
    count = func.count(func.distinct(Contract.id)) if by_line else func.count()
    amount = func.coalesce(ContractLine.amount, Contract.amount) if by_line else Contract.amount
    contracted = _joins(
        select(
            _WINDOWS.c.label.label("window"),
            key.label("key"),
            label.label("label"),
            is_total.label("is_total"),
            count.label("contracts"),
            func.coalesce(func.sum(amount), ZERO).label("amount"),
        )
        .select_from(Contract)
        .join(
            _WINDOWS,
            and_(Contract.signed_on >= _WINDOWS.c.starts, Contract.signed_on <= _WINDOWS.c.ends),
        ),
        group,
    ).where(*signed_in_range)
    contracted = contracted.group_by(
        func.grouping_sets(tuple_(_WINDOWS.c.label), tuple_(_WINDOWS.c.label, key))
    )

    if by_line:
        share = case(
            (ContractLine.id.is_(None), Payment.amount),
            (Contract.amount == 0, ZERO),
            else_=Payment.amount * ContractLine.amount / Contract.amount,
        )
        received_amount = func.round(func.coalesce(func.sum(share), ZERO), 2)
    else:
        received_amount = func.coalesce(func.sum(Payment.amount), ZERO)
    received = _joins(
        _received(principal, _WINDOWS.c.label, owned)
        .add_columns(
            key.label("key"),
            label.label("label"),
            is_total.label("is_total"),
            literal(0).label("contracts"),
            cast(received_amount, Numeric(16, 2)).label("amount"),
        )
        .join(
            _WINDOWS,
            and_(Payment.received_on >= _WINDOWS.c.starts, Payment.received_on <= _WINDOWS.c.ends),
        ),
        group,
    )
    received = received.group_by(
        func.grouping_sets(tuple_(_WINDOWS.c.label), tuple_(_WINDOWS.c.label, key))
    )
    return contracted, received


# ---------- the report ----------


@dataclass
class _Cell:
    contracts: int = 0
    contracted: Decimal = ZERO
    received: Decimal = ZERO


def _figures(cur: _Cell, prev: _Cell, yoy: _Cell) -> dict[str, Any]:
    return {
        "contracts": cur.contracts,
        "contracted": cur.contracted,
        "received": cur.received,
        "contracted_prev": prev.contracted,
        "contracted_yoy": yoy.contracted,
        "received_prev": prev.received,
        "received_yoy": yoy.received,
        "growth_prev": growth(cur.contracted, prev.contracted),
        "growth_yoy": growth(cur.contracted, yoy.contracted),
        "received_growth_prev": growth(cur.received, prev.received),
        "received_growth_yoy": growth(cur.received, yoy.received),
    }


def _sum(cells: list[_Cell]) -> _Cell:
    return _Cell(
        sum((c.contracts for c in cells), 0),
        sum((c.contracted for c in cells), ZERO),
        sum((c.received for c in cells), ZERO),
    )


async def sales_report(
    session: AsyncSession, principal: Principal, query: SalesQuery
) -> dict[str, Any]:
    """The figures per group with their growth, and the total of the range."""
    until = query.until or await company_today(session, principal.company_id)
    since = query.since or date(until.year, 1, 1)
    if until < since or (until - since).days >= MAX_DAYS:
        raise errors.invalid_range(MAX_DAYS)
    owners = None
    if query.user_id is not None or query.department_id is not None:
        # The drill-down (company → department → rep): 404 for one the caller may not see.
        users, _ = await report_scope(session, principal, query.user_id, query.department_id)
        owners = [user.id for user in users]
    contracted_stmt, received_stmt = _statements(principal, query.group, owners)
    # A generic plan (the prepared statement's, after five runs) cannot see the range and was
    # measured 3× slower: custom plans for this transaction (JIT is off app-wide, app/db.py).
    await session.execute(_REPORT_SETTINGS)
    months = TIME_GROUPS.get(query.group)
    if months is not None:
        return await _by_period(
            session, query.group, months, since, until, contracted_stmt, received_stmt
        )

    length = (until - since).days + 1
    windows = {
        "cur": (since, until),
        "prev": (since - timedelta(days=length), since - timedelta(days=1)),
        "yoy": (year_before(since), year_before(until)),
    }
    params = {
        "w_labels": list(windows),
        "w_starts": [w[0] for w in windows.values()],
        "w_ends": [w[1] for w in windows.values()],
        "lo": min(w[0] for w in windows.values()),
        "hi": until,
    }
    cells: dict[tuple[str, str | None, bool], _Cell] = {}
    labels: dict[str | None, str | None] = {}
    for row in (await session.execute(contracted_stmt, params)).all():
        found = cells.setdefault((row.window, row.key, row.is_total), _Cell())
        found.contracts, found.contracted = row.contracts, row.amount
        if not row.is_total:
            labels[row.key] = row.label
    for row in (await session.execute(received_stmt, params)).all():
        cells.setdefault((row.window, row.key, row.is_total), _Cell()).received = row.amount
        if not row.is_total:
            labels.setdefault(row.key, row.label)
    empty = _Cell()

    def cell(window: str, key: str | None, total: bool = False) -> _Cell:
        return cells.get((window, None if total else key, total), empty)

    # Groups with figures in the range (not those only seen in the earlier periods).
    keys = {k for (w, k, t) in cells if w == "cur" and not t}
    items = [
        {
            "key": key,
            "label": labels.get(key) if query.group != "product_line" else key,
            "since": since,
            "until": until,
            **_figures(cell("cur", key), cell("prev", key), cell("yoy", key)),
        }
        for key in keys
    ]
    items.sort(key=lambda i: (-i["contracted"], -i["received"], i["label"] or "", i["key"] or ""))
    return {
        "group": query.group,
        "since": since,
        "until": until,
        "previous_since": windows["prev"][0],
        "previous_until": windows["prev"][1],
        "yoy_since": windows["yoy"][0],
        "yoy_until": windows["yoy"][1],
        "items": items,
        "total": _figures(
            cell("cur", None, True), cell("prev", None, True), cell("yoy", None, True)
        ),
    }


async def _by_period(  # noqa: PLR0913
    session: AsyncSession,
    group: str,
    months: int,
    since: date,
    until: date,
    contracted_stmt: Stmt,
    received_stmt: Stmt,
) -> dict[str, Any]:
    first = period_start(since, months)
    last = period_start(until, months)
    periods = []
    start = first
    while start <= last:
        periods.append(start)
        start = add_months(start, months)
    count = len(periods)
    per_year = 12 // months
    # Data from far enough back for every period's previous one, the same a year before, and
    # the total's previous run of as many periods.
    earliest = add_months(first, -months * max(count, per_year))
    end = add_months(last, months) - timedelta(days=1)
    params = {"lo": earliest, "hi": end}
    cells: dict[date, _Cell] = {}
    for row in (await session.execute(contracted_stmt, params)).all():
        found = cells.setdefault(row.window, _Cell())
        found.contracts, found.contracted = row.contracts, row.amount
    for row in (await session.execute(received_stmt, params)).all():
        cells.setdefault(row.window, _Cell()).received = row.amount
    empty = _Cell()

    def at(start: date, shift: int) -> _Cell:
        return cells.get(add_months(start, shift * months), empty)

    items = [
        {
            "key": period_key(p, months),
            "label": None,
            "since": p,
            "until": add_months(p, months) - timedelta(days=1),
            **_figures(at(p, 0), at(p, -1), at(p, -per_year)),
        }
        for p in periods
    ]
    total = _figures(
        _sum([at(p, 0) for p in periods]),
        _sum([at(p, -count) for p in periods]),
        _sum([at(p, -per_year) for p in periods]),
    )
    return {
        "group": group,
        "since": first,
        "until": end,
        "previous_since": add_months(first, -months * count),
        "previous_until": first - timedelta(days=1),
        "yoy_since": add_months(first, -12),
        "yoy_until": add_months(last, months - 12) - timedelta(days=1),
        "items": items,
        "total": total,
    }
