"""The achievement report (目标达成): per subject in the caller's view and per measure, the
target of the period, the actual, and how far it is (`app.targets.progress.progress`), with a
month's thirds (上旬/中旬/下旬) — drill-down company → departments → reps.

Who sees what: a rep themselves only (`user=` someone else, or any `department=` → 404); a
manager their department's subtree (its departments and the users now in it, themselves
included); an admin the company row, every department and every user. `department=` narrows to
a visible subtree (no company row), `user=` to one visible user.

Figures, written once in `app.targets.measures`: a user's actual is everything credited to them
in the period, wherever they were; a department's is the facts made while their user was in its
subtree (someone who moved mid-month has the first half in the old department, the second in
the new, and their user row — under their current department — shows the whole month).

Cost: one `actuals` call for the scope (all measures at once, the users who were ever in the
subtree plus those in it now — `members_during`; by day for a month), one read of the period's
targets, the department paths; the roll-up runs in Python over the facts (each fact is added to
its user and to the departments of the scope on its department's path). Measured (5M
check-ins, 2M follow-ups, 1M ownership events, 500 reps): the SQL of a 60-person month by day
takes ~60 ms; the company's month ~0.7 s — with `ix_checkins_company_recorded` and
`ix_ownership_events_company_gained` (4.8 s without: sequential scans). The bench's 92-person
month: the facts' statement 190 ms → 22–35 ms with `ix_checkins_user_visits` (index-only, no
heap block per check-in); users and targets read as columns (`Person`, `PeriodTarget`).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import not_found
from app.money.ledger import company_today
from app.org import departments as org_departments
from app.org import users as org_users
from app.org.models import Company, Department, User
from app.org.settings import CompanySettings, company_settings
from app.targets import errors as target_errors
from app.targets import measures as target_measures
from app.targets import periods
from app.targets.models import MEASURES, MONEY_MEASURES, Target
from app.targets.progress import CENT, THIRDS, progress, thirds

ZERO = Decimal("0")
WHOLE = Decimal("1")


# ---------- the period ----------


@dataclass(frozen=True)
class Context:
    settings: CompanySettings
    period: periods.Period
    today: date

    @property
    def zone(self) -> str:
        return self.settings.time_zone


async def context(session: AsyncSession, principal: Principal, key: str | None) -> Context:
    """The company's settings, the period asked (default: this month in company time), today."""
    settings = await company_settings(session, principal.company_id)
    today = company_today(settings.time_zone)
    fiscal = settings.fiscal_year_start_month
    if key is None:
        period = periods.containing("month", today, fiscal)
    else:
        try:
            period = periods.parse(key, fiscal)
        except ValueError as exc:
            raise target_errors.invalid_period(key, ("query", "period")) from exc
    return Context(settings, period, today)


def period_info(ctx: Context) -> dict[str, Any]:
    done = periods.elapsed_days(ctx.period, ctx.today)
    return {
        "period": ctx.period.key,
        "period_kind": ctx.period.kind,
        "since": ctx.period.start,
        "until": ctx.period.last_day,
        "today": ctx.today,
        "days": ctx.period.days,
        "days_elapsed": done,
        "days_left": ctx.period.days - done,
    }


# ---------- figures ----------


def unit(measure: str) -> str:
    return "money" if measure in MONEY_MEASURES else "count"


def amount(value: Decimal, measure: str) -> Decimal:
    """Money to the fen, a count whole (a count target is stored as NUMERIC(16, 2))."""
    return value.quantize(CENT if measure in MONEY_MEASURES else WHOLE)


def figures(
    measure: str, target: Decimal | None, actual: Decimal, period: periods.Period, today: date
) -> dict[str, Any]:
    """target, actual, rate, remaining, daily_needed, expected, pace, ahead of one subject."""
    if target is None:
        return {
            "target": None,
            "actual": amount(actual, measure),
            "rate": None,
            "remaining": None,
            "daily_needed": None,
            "expected": None,
            "pace": None,
            "ahead": None,
        }
    p = progress(target, actual, period, today)
    return {
        "target": amount(p.target, measure),
        "actual": amount(p.actual, measure),
        "rate": p.rate,
        "remaining": amount(p.remaining, measure),
        "daily_needed": p.daily_needed,
        "expected": p.expected,
        "pace": p.pace,
        "ahead": p.ahead.quantize(CENT),
    }


class Rollup:
    """Facts summed per (measure, user), (measure, department of the scope — by path) and
    (measure, company); slot 0 the period, 1–3 a month's thirds (facts by day)."""

    def __init__(
        self,
        facts: Iterable[target_measures.Fact],
        paths: dict[uuid.UUID, str],
        scope_departments: Iterable[uuid.UUID],
        period: periods.Period,
    ) -> None:
        wanted = {str(d): d for d in scope_departments}
        ancestors: dict[uuid.UUID | None, list[uuid.UUID]] = {None: []}
        bounds = [end for _, _, end in thirds(period)] if period.kind == "month" else []
        self.users: dict[tuple[str, uuid.UUID], list[Decimal]] = defaultdict(_slots)
        self.departments: dict[tuple[str, uuid.UUID], list[Decimal]] = defaultdict(_slots)
        self.company: dict[str, list[Decimal]] = defaultdict(_slots)
        for fact in facts:
            slot = 0
            if bounds and fact.day is not None:
                slot = 1 + next((i for i, end in enumerate(bounds) if fact.day < end), 2)
            above = ancestors.get(fact.department_id)
            if above is None:
                path = paths.get(fact.department_id) if fact.department_id else None
                above = [wanted[p] for p in (path or "").strip("/").split("/") if p in wanted]
                ancestors[fact.department_id] = above
            targets = [self.users[(fact.measure, fact.user_id)], self.company[fact.measure]]
            targets.extend(self.departments[(fact.measure, d)] for d in above)
            for sums in targets:
                sums[0] += fact.value
                if slot:
                    sums[slot] += fact.value


def _slots() -> list[Decimal]:
    return [ZERO, ZERO, ZERO, ZERO]


# ---------- scope ----------


@dataclass(frozen=True, slots=True)
class Person:
    """What the reports need of a user (read as columns: a company is ~500 of them, and ORM
    objects cost ~10 µs each to build, plus the collector's time)."""

    id: uuid.UUID
    name: str
    department_id: uuid.UUID | None
    is_active: bool
    role: str

    @classmethod
    def of(cls, user: User) -> "Person":
        return cls(user.id, user.name, user.department_id, user.is_active, user.role)


PERSON_COLUMNS = (User.id, User.name, User.department_id, User.is_active, User.role)


@dataclass
class Scope:
    company: Company | None  # the company row (admins, unnarrowed)
    departments: list[Department]  # by path
    users: list[Person]
    path: str | None  # the subtree's path; None: the company or one user
    fact_users: list[uuid.UUID] | None  # whose facts to read (None: the company's)


async def _departments_under(
    session: AsyncSession, company_id: uuid.UUID, path: str | None
) -> list[Department]:
    stmt = select(Department).where(
        Department.company_id == company_id, Department.deactivated_at.is_(None)
    )
    if path is not None:
        stmt = stmt.where(Department.path.startswith(path, autoescape=True))
    return list((await session.execute(stmt.order_by(Department.path))).scalars())


async def users_under(
    session: AsyncSession,
    company_id: uuid.UUID,
    path: str | None,
    *,
    exact: uuid.UUID | None = None,
) -> list[Person]:
    """The users now in the subtree at `path` (None: the company; `exact`: that department only)."""
    stmt = select(*PERSON_COLUMNS).where(User.company_id == company_id)
    if exact is not None:
        stmt = stmt.where(User.department_id == exact)
    elif path is not None:
        stmt = stmt.join(
            Department,
            (Department.company_id == User.company_id) & (Department.id == User.department_id),
        ).where(Department.path.startswith(path, autoescape=True))
    return [Person(*row) for row in (await session.execute(stmt)).all()]


async def achievement_scope(
    session: AsyncSession,
    principal: Principal,
    ctx: Context,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> Scope:
    """The subjects the caller may see, narrowed by `user=` / `department=` (404 when invisible:
    a rep sees only themselves)."""
    sees_tree = principal.is_admin or (principal.is_manager and bool(principal.department_path))
    if user_id is not None:
        if not sees_tree and user_id != principal.user_id:
            raise not_found("user")
        user = await org_users.get_user(session, principal, user_id)
        return Scope(None, [], [Person.of(user)], None, [user.id])
    if department_id is not None:
        if not sees_tree:
            raise not_found("department")
        path: str | None = (
            await org_departments.get_department(session, principal, department_id)
        ).path
    elif principal.is_admin:
        path = None
    elif sees_tree:
        path = principal.department_path
    else:
        user = await org_users.get_user(session, principal, principal.user_id)
        return Scope(None, [], [Person.of(user)], None, [user.id])
    departments = await _departments_under(session, principal.company_id, path)
    users = await users_under(session, principal.company_id, path)
    if path is None:
        company = await session.get_one(Company, principal.company_id)
        return Scope(company, departments, users, None, None)
    during = await target_measures.members_during(
        session, principal.company_id, path, ctx.period.start, ctx.period.end, ctx.zone
    )
    fact_users = list(dict.fromkeys([*during, *(u.id for u in users)]))
    return Scope(None, departments, users, path, fact_users)


# ---------- targets ----------


@dataclass(frozen=True, slots=True)
class PeriodTarget:
    id: uuid.UUID
    value: Decimal


async def period_targets(
    session: AsyncSession,
    company_id: uuid.UUID,
    period: periods.Period,
    measures: Sequence[str] | None,
) -> dict[tuple[str, uuid.UUID | None, str], PeriodTarget]:
    """The live targets of exactly this period, by (subject, subject_id, measure): their id
    and value (columns, not objects: a company's month is ~1,000 of them)."""
    stmt = select(Target.id, Target.subject, Target.subject_id, Target.measure, Target.value).where(
        Target.company_id == company_id,
        Target.deleted_at.is_(None),
        Target.starts_on == period.start,
        Target.ends_on == period.end,
        Target.period == period.key,
    )
    if measures is not None:
        stmt = stmt.where(Target.measure.in_(list(measures)))
    rows = (await session.execute(stmt)).all()
    return {(t.subject, t.subject_id, t.measure): PeriodTarget(t.id, t.value) for t in rows}


def depth(path: str | None) -> int:
    """A department's depth by its path (the root 1); 0 without one."""
    return len(path.strip("/").split("/")) if path else 0


# ---------- the report ----------


async def achievement_report(  # noqa: PLR0913
    session: AsyncSession,
    principal: Principal,
    period_key: str | None,
    measure: str | None,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    ctx = await context(session, principal, period_key)
    period = ctx.period
    scope = await achievement_scope(session, principal, ctx, user_id, department_id)
    targets = await period_targets(
        session, principal.company_id, period, [measure] if measure else None
    )
    subjects: list[tuple[str, uuid.UUID | None]] = [
        *([("company", None)] if scope.company is not None else []),
        *(("department", d.id) for d in scope.departments),
        *(("user", u.id) for u in scope.users),
    ]
    if measure is not None:
        measures = [measure]
    else:
        wanted = set(subjects)
        present = {m for (s, sid, m) in targets if (s, sid) in wanted}
        measures = [m for m in MEASURES if m in present]
    facts = await target_measures.actuals(
        session,
        principal.company_id,
        measures,
        period.start,
        period.end,
        ctx.zone,
        user_ids=scope.fact_users,
        by_day=period.kind == "month",
    )
    paths = await target_measures.department_paths(session, principal.company_id)
    rollup = Rollup(facts, paths, [d.id for d in scope.departments], period)
    parts = thirds(period) if period.kind == "month" else []

    def rows_of(
        subject: str,
        subject_id: uuid.UUID | None,
        name: str,
        parent_id: uuid.UUID | None,
        level: int,
        sums_of: Any,
    ) -> list[dict[str, Any]]:
        out = []
        for m in measures:
            sums = sums_of(m)
            target = targets.get((subject, subject_id, m))
            out.append(
                {
                    "subject": subject,
                    "subject_id": subject_id,
                    "name": name,
                    "parent_id": parent_id,
                    "level": level,
                    "measure": m,
                    "unit": unit(m),
                    "target_id": target.id if target else None,
                    **figures(m, target.value if target else None, sums[0], period, ctx.today),
                    "thirds": [
                        {
                            "third": third,
                            "since": start,
                            "until": end - timedelta(days=1),
                            "actual": amount(sums[i + 1], m),
                        }
                        for i, (third, start, end) in enumerate(parts)
                    ]
                    if parts
                    else None,
                }
            )
        return out

    items: list[dict[str, Any]] = []
    if scope.company is not None:
        items += rows_of("company", None, scope.company.name, None, 0, rollup.company.__getitem__)
    for d in scope.departments:
        items += rows_of(
            "department",
            d.id,
            d.name,
            d.parent_id,
            depth(d.path),
            lambda m, d=d: rollup.departments[(m, d.id)],
        )
    users = sorted(scope.users, key=lambda u: (u.name, str(u.id)))
    for u in users:
        has_target = any(("user", u.id, m) in targets for m in measures)
        has_facts = any(rollup.users.get((m, u.id), [ZERO])[0] for m in measures)
        if not u.is_active and not has_target and not has_facts:
            continue
        level = depth(paths.get(u.department_id) if u.department_id else None)
        items += rows_of(
            "user",
            u.id,
            u.name,
            u.department_id,
            level + 1,
            lambda m, u=u: rollup.users[(m, u.id)],
        )
    return {**period_info(ctx), "measures": measures, "items": items}


CSV_COLUMNS = (
    "subject",
    "subject_id",
    "name",
    "parent_id",
    "level",
    "measure",
    "unit",
    "period",
    "target",
    "actual",
    "rate",
    "remaining",
    "days_left",
    "daily_needed",
    "expected",
    "pace",
    "ahead",
    *THIRDS,
)
