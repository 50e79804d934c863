"""What each target measure counts — written once, for targets, achievement, ranking, the
dashboard, the suggestion, the period close and the work logs.

Every measure is a set of **facts**: (the user it is credited to, the company date it falls on,
the instant it was made, its value). In company time:

| measure             | credited to            | dated by                         | value  |
|---------------------|------------------------|----------------------------------|--------|
| `contract_amount`   | the contract's owner   | `signed_on` (active, completed)  | amount |
| `payment_amount`    | its contract's owner   | `received_on` (confirmed)        | amount |
| `new_customers`     | the new owner          | ownership event `created`/`assigned` | 1  |
| `won_opportunities` | the owner              | `closed_at` of a won one         | 1      |
| `visits`            | the rep                | `client_recorded_at` (see below) | 1      |
| `followups`         | the author             | `created_at`                     | 1      |
| `new_leads`         | the creator            | `created_at`                     | 1      |
| `converted_leads`   | who converted it       | `converted_at`                   | 1      |

New customers: not `claimed` (from the pool) nor `transferred`; a customer once per user and
period. Visits: check-ins not flagged far from the customer nor mocked. Deleted records do not
count. A payment counts net of reversals (a reversal of a confirmed
payment is a confirmed negative row, `app.money.ledger.received_sql`).

**Where a fact counts in the tree**: the department its user belonged to when the record was
made (`department_memberships`, kept by a trigger on users): a rep who moved in June has their
May contracts in the old department and their July ones in the new. `actuals` answers one row
per (measure, user, department[, day]); `Actuals` rolls them up a department subtree.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Numeric,
    String,
    Uuid,
    and_,
    any_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import OwnershipEvent
from app.fieldwork.checkins.rules import FAR_FROM_CUSTOMER, MOCK_LOCATION
from app.fieldwork.models import Checkin, Followup
from app.fieldwork.periods import local_midnight
from app.leads.models import Lead
from app.money import ledger
from app.money.models import Contract, Payment
from app.org.models import Department
from app.pipeline.models import Opportunity
from app.targets.models import MEASURES, MONEY_MEASURES, DepartmentMembership

SIGNED = ("active", "completed")
ZERO = Decimal("0")
VALUE = Numeric(16, 2)


def _flag(code: str) -> str:
    return f"'{json.dumps([{'code': code}])}'::jsonb"


# For the facts' statement, local to the transaction: the grouping of a department's month
# by day spills at the default 4 MB, and a company-wide UNION of eight measures costs more
# than `jit_above_cost` — compiling it took ~220 ms, more than running it.
TUNE = text("SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)")


def counts_as_visit() -> Any:
    """A check-in that counts as a visit: not flagged far from the customer, not mocked.
    `ix_checkins_user_visits` is partial on exactly this predicate; its constants are written
    inline (not bound), so that any plan — a cached statement's generic one too — proves it."""
    return and_(
        Checkin.mock_location.is_(False),
        ~Checkin.flags.op("@>", is_comparison=True)(literal_column(_flag(FAR_FROM_CUSTOMER))),
        ~Checkin.flags.op("@>", is_comparison=True)(literal_column(_flag(MOCK_LOCATION))),
    )


def among(column: Any, ids: Iterable[uuid.UUID]) -> Any:
    """`column = ANY($n::UUID[])`: the ids as one bound array — not one parameter each (a
    department's ~100 users in each of a dozen facts' SELECTs: ~1,200 parameters to bind and a
    statement text that changes with the count, so never reused from the prepared-statement
    cache). Plans as `IN (…)` does (same index conditions)."""
    return column == any_(literal(list(ids), ARRAY(Uuid())))


def _inline(*values: str) -> list[Any]:
    """Constants written into the SQL (not bound), for partial indexes' predicates."""
    return [literal_column(f"'{v}'") for v in values]


def _local_day(column: Any, time_zone: str) -> Any:
    return cast(func.timezone(time_zone, column), Date)


def _facts(  # noqa: PLR0911
    measure: str,
    company_id: uuid.UUID,
    start: date,
    end: date,
    time_zone: str,
    user_ids: Sequence[uuid.UUID] | None,
) -> Any:
    """SELECT measure, user_id, day, made_at, value for one measure in [start, end)."""
    lo, hi = local_midnight(start, time_zone), local_midnight(end, time_zone)
    name = literal(measure, String()).label("measure")
    one = literal(1, VALUE).label("value")

    def users(column: Any) -> list[Any]:
        return [] if user_ids is None else [among(column, user_ids)]

    if measure == "contract_amount":
        return select(
            name,
            Contract.owner_id.label("user_id"),
            Contract.signed_on.label("day"),
            Contract.created_at.label("made_at"),
            cast(Contract.amount, VALUE).label("value"),
        ).where(
            Contract.company_id == company_id,
            Contract.deleted_at.is_(None),
            Contract.status.in_(_inline(*SIGNED)),  # ix_contracts_signed
            Contract.signed_on >= start,
            Contract.signed_on < end,
            *users(Contract.owner_id),
        )
    if measure == "payment_amount":
        return (
            select(
                name,
                Contract.owner_id.label("user_id"),
                Payment.received_on.label("day"),
                Payment.created_at.label("made_at"),
                cast(Payment.amount, VALUE).label("value"),
            )
            .join(
                Contract,
                (Contract.company_id == Payment.company_id) & (Contract.id == Payment.contract_id),
            )
            .where(
                Payment.company_id == company_id,
                ledger.received_sql(),
                Payment.received_on >= start,
                Payment.received_on < end,
                Contract.deleted_at.is_(None),
                *users(Contract.owner_id),
            )
        )
    if measure == "new_customers":
        first = (
            select(
                OwnershipEvent.to_user_id.label("user_id"),
                OwnershipEvent.customer_id,
                func.min(OwnershipEvent.created_at).label("made_at"),
            )
            .where(
                OwnershipEvent.company_id == company_id,
                OwnershipEvent.kind.in_(_inline("created", "assigned")),
                OwnershipEvent.to_user_id.is_not(None),
                OwnershipEvent.created_at >= lo,
                OwnershipEvent.created_at < hi,
                *users(OwnershipEvent.to_user_id),
            )
            .group_by(OwnershipEvent.to_user_id, OwnershipEvent.customer_id)
            .subquery("first_owned")
        )
        return select(
            name,
            first.c.user_id,
            _local_day(first.c.made_at, time_zone).label("day"),
            first.c.made_at,
            one,
        )
    if measure == "won_opportunities":
        return select(
            name,
            Opportunity.owner_id.label("user_id"),
            _local_day(Opportunity.closed_at, time_zone).label("day"),
            Opportunity.closed_at.label("made_at"),
            one,
        ).where(
            Opportunity.company_id == company_id,
            Opportunity.deleted_at.is_(None),
            Opportunity.status == _inline("won")[0],  # ix_opportunities_won
            Opportunity.closed_at >= lo,
            Opportunity.closed_at < hi,
            *users(Opportunity.owner_id),
        )
    if measure == "visits":
        return select(
            name,
            Checkin.user_id,
            _local_day(Checkin.client_recorded_at, time_zone).label("day"),
            Checkin.client_recorded_at.label("made_at"),
            one,
        ).where(
            Checkin.company_id == company_id,
            Checkin.client_recorded_at >= lo,
            Checkin.client_recorded_at < hi,
            counts_as_visit(),
            *users(Checkin.user_id),
        )
    if measure == "followups":
        return select(
            name,
            Followup.user_id,
            _local_day(Followup.created_at, time_zone).label("day"),
            Followup.created_at.label("made_at"),
            one,
        ).where(
            Followup.company_id == company_id,
            Followup.deleted_at.is_(None),
            Followup.created_at >= lo,
            Followup.created_at < hi,
            *users(Followup.user_id),
        )
    if measure == "new_leads":
        return select(
            name,
            Lead.created_by.label("user_id"),
            _local_day(Lead.created_at, time_zone).label("day"),
            Lead.created_at.label("made_at"),
            one,
        ).where(
            Lead.company_id == company_id,
            Lead.deleted_at.is_(None),
            Lead.created_by.is_not(None),
            Lead.created_at >= lo,
            Lead.created_at < hi,
            *users(Lead.created_by),
        )
    if measure == "converted_leads":
        return select(
            name,
            Lead.converted_by.label("user_id"),
            _local_day(Lead.converted_at, time_zone).label("day"),
            Lead.converted_at.label("made_at"),
            one,
        ).where(
            Lead.company_id == company_id,
            Lead.deleted_at.is_(None),
            Lead.converted_by.is_not(None),
            Lead.converted_at >= lo,
            Lead.converted_at < hi,
            *users(Lead.converted_by),
        )
    raise ValueError(f"unknown measure {measure!r}")


@dataclass(frozen=True)
class Fact:
    measure: str
    user_id: uuid.UUID
    department_id: uuid.UUID | None  # where the user was when the record was made
    day: date | None  # set when asked `by_day`
    value: Decimal


async def actuals(  # noqa: PLR0913
    session: AsyncSession,
    company_id: uuid.UUID,
    measures: Iterable[str],
    start: date,
    end: date,
    time_zone: str,
    *,
    user_ids: Sequence[uuid.UUID] | None = None,
    by_day: bool = False,
    extra: Sequence[Any] = (),
) -> list[Fact]:
    """The facts of the measures in [start, end) (company dates), summed per measure, user and
    department (and day when `by_day`). `user_ids`: only facts credited to them (None: all).
    `extra`: more SELECTs of the same shape (measure, user_id, day, made_at, value; counts),
    for figures that are no target measure (the work report's), in the same statement."""
    wanted = [m for m in dict.fromkeys(measures) if m in MEASURES]
    if not (wanted or extra) or (user_ids is not None and not user_ids):
        return []
    parts: list[Any] = [_facts(m, company_id, start, end, time_zone, user_ids) for m in wanted]
    parts.extend(extra)
    await session.execute(TUNE)
    union: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    facts = union.subquery("facts")
    member = DepartmentMembership
    keys: list[Any] = [facts.c.measure, facts.c.user_id, member.department_id]
    if by_day:
        keys.append(facts.c.day)
    stmt = (
        select(*keys, func.sum(facts.c.value).label("value"))
        .select_from(facts)
        .outerjoin(
            member,
            and_(
                member.company_id == company_id,
                member.user_id == facts.c.user_id,
                member.valid_from <= facts.c.made_at,
                or_(member.valid_to.is_(None), member.valid_to > facts.c.made_at),
            ),
        )
        .group_by(*keys)
    )
    return [
        Fact(
            row.measure,
            row.user_id,
            row.department_id,
            row.day if by_day else None,
            row.value if row.measure in MONEY_MEASURES else Decimal(int(row.value)),
        )
        for row in (await session.execute(stmt)).all()
        if row.user_id is not None
    ]


@dataclass
class Actuals:
    """Facts rolled up: per user, per department subtree (by path), per company. The facts are
    indexed once, on the first question (per measure; per measure and user; per measure and
    department): a report asks hundreds of questions of thousands of facts."""

    facts: list[Fact]
    department_paths: dict[uuid.UUID, str] = field(default_factory=dict)
    _index: "_Index | None" = field(default=None, init=False, repr=False, compare=False)

    def _indexed(self) -> "_Index":
        if self._index is None:
            self._index = _Index(self.facts)
        return self._index

    def user(
        self,
        measure: str,
        user_id: uuid.UUID,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> Decimal:
        """What is credited to the user (wherever they were)."""
        return _sum(self._indexed().by_user.get((measure, user_id), ()), day_from, day_to)

    def department(
        self, measure: str, path: str, day_from: date | None = None, day_to: date | None = None
    ) -> Decimal:
        """Σ over facts made while their user was in the subtree at `path`."""
        total = ZERO
        for department_id, facts in self._indexed().by_department.get(measure, {}).items():
            own = self.department_paths.get(department_id) if department_id else None
            if own is not None and own.startswith(path):
                total += _sum(facts, day_from, day_to)
        return total

    def company(
        self, measure: str, day_from: date | None = None, day_to: date | None = None
    ) -> Decimal:
        return _sum(self._indexed().by_measure.get(measure, ()), day_from, day_to)

    def per_user(self, measure: str) -> dict[uuid.UUID, Decimal]:
        totals: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
        for fact in self._indexed().by_measure.get(measure, ()):
            totals[fact.user_id] += fact.value
        return dict(totals)


class _Index:
    def __init__(self, facts: Iterable[Fact]) -> None:
        self.by_measure: dict[str, list[Fact]] = defaultdict(list)
        self.by_user: dict[tuple[str, uuid.UUID], list[Fact]] = defaultdict(list)
        self.by_department: dict[str, dict[uuid.UUID | None, list[Fact]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for fact in facts:
            self.by_measure[fact.measure].append(fact)
            self.by_user[(fact.measure, fact.user_id)].append(fact)
            self.by_department[fact.measure][fact.department_id].append(fact)


def _sum(facts: Iterable[Fact], day_from: date | None, day_to: date | None) -> Decimal:
    total = ZERO
    for fact in facts:
        if fact.day is not None and (
            (day_from is not None and fact.day < day_from)
            or (day_to is not None and fact.day >= day_to)
        ):
            continue
        total += fact.value
    return total


async def department_paths(session: AsyncSession, company_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Every department's path (deactivated ones too: old facts may sit in them)."""
    rows = await session.execute(
        select(Department.id, Department.path).where(Department.company_id == company_id)
    )
    return {row.id: row.path for row in rows.all()}


async def members_during(
    session: AsyncSession,
    company_id: uuid.UUID,
    path: str,
    start: date,
    end: date,
    time_zone: str,
) -> list[uuid.UUID]:
    """Users whose facts of [start, end) a department's figure may hold: all who were ever in
    the subtree at `path` (`Actuals.department` keeps only facts made while inside). Not only
    those inside during the period: a fact is placed by when its record was made, which may lie
    outside the days it is dated in (a contract signed on 31 March entered on 2 April by a rep
    who joined on 1 April counts for the new department's March). The period's arguments are
    kept for the callers; they do not narrow the answer."""
    del start, end, time_zone
    member = DepartmentMembership
    rows = await session.execute(
        select(member.user_id)
        .distinct()
        .join(
            Department,
            (Department.company_id == member.company_id) & (Department.id == member.department_id),
        )
        .where(
            member.company_id == company_id,
            Department.path.startswith(path, autoescape=True),
        )
    )
    return list(rows.scalars())
