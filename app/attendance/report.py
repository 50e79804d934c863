"""The monthly attendance sheet (考勤月报): per person, rolled up the department tree.

Per person in the report's scope (`app.reports.visits.report_scope`: reps themselves, managers
their subtree, admins the company), for a calendar month in company dates:

* `days_worked`: days with attendance — a clock-in or clock-out, or (company setting
  `checkins_count_as_attendance`) a check-in that counts as a visit — working days or not;
* `late`: working days whose first clock-in is after `workday_start`;
* `left_early`: working days whose last clock-out is before `workday_end` (a clock-out counts
  for the day of the clock-in it closes, so one after midnight closes the day before);
* `absent`: working days before today (company time), from the day the user was added and
  until they were deactivated, without attendance. **Derived here, not written by a job**: it
  follows the records and the settings as they are now (a late-synced offline clock-in, or a
  corrected working week, changes the sheet at once; nothing to backfill or keep idempotent);
* `hours`: per day worked, last clock-out − first clock-in (when both exist), summed;
* `flagged`: records with any flag.

A department row sums the people in scope now in its subtree; the company row (admins, whole
company) everyone. Two statements: the records per person and day (grouped), and — with the
setting — the days with a counted check-in.
"""

import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import errors
from app.attendance.models import AttendanceRecord
from app.attendance.rules import at_local
from app.auth.principal import Principal
from app.core.clock import now
from app.core.limits import MAX_YEAR, MIN_YEAR
from app.fieldwork.models import Checkin
from app.fieldwork.periods import local_date, local_midnight
from app.org import departments as org_departments
from app.org.models import Company, Department, User
from app.org.settings import CompanySettings, company_settings
from app.reports.visits import report_scope
from app.targets.measures import among, counts_as_visit

FIGURES = ("days_worked", "late", "left_early", "absent", "flagged")
CENT = Decimal("0.01")


def month_bounds(month: str | None, today: date) -> tuple[str, date, date]:
    """(`YYYY-MM`, first day, first day of the next month); default the month of `today`."""
    if month is None:
        first = today.replace(day=1)
    else:
        year = int(month[:4])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise errors.invalid_month(month)
        first = date(year, int(month[5:7]), 1)
    end = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.strftime("%Y-%m"), first, end


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days)]


def person_figures(
    user: User,
    days: dict[date, Any],
    checkin_days: set[date],
    settings: CompanySettings,
    month: tuple[date, date],
    today: date,
) -> dict[str, Any]:
    """One person's month from their days' records (first_in, last_out, flagged)."""
    since, end = month
    zone = settings.time_zone
    start_at, end_at = settings.workday_start, settings.workday_end
    late = early = flagged = 0
    seconds = 0.0
    for day, row in days.items():
        working = settings.is_working_day(day.isoweekday())
        first_in: datetime | None = row.first_in
        last_out: datetime | None = row.last_out
        flagged += row.flagged
        if working and first_in is not None:
            late += first_in > at_local(day, start_at, zone)
        if working and last_out is not None:
            early += last_out < at_local(day, end_at, zone)
        if first_in is not None and last_out is not None and last_out > first_in:
            seconds += (last_out - first_in).total_seconds()
    worked = set(days) | checkin_days
    first_day = max(since, local_date(user.created_at, zone))
    last_day = min(end, today)
    if user.deactivated_at is not None:
        last_day = min(last_day, local_date(user.deactivated_at, zone) + timedelta(days=1))
    absent = sum(
        1
        for day in _days(first_day, last_day)
        if settings.is_working_day(day.isoweekday()) and day not in worked
    )
    return {
        "days_worked": len(worked),
        "late": late,
        "left_early": early,
        "absent": absent,
        "flagged": flagged,
        "seconds": seconds,
    }


def _hours(seconds: float) -> str:
    return str((Decimal(round(seconds)) / 3600).quantize(CENT, rounding=ROUND_HALF_UP))


def _sum(people: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {name: sum(p[name] for p in people) for name in FIGURES}
    total["seconds"] = sum(p["seconds"] for p in people)
    return total


async def _record_days(
    session: AsyncSession,
    company_id: uuid.UUID,
    user_ids: list[uuid.UUID] | None,
    since: date,
    end: date,
) -> dict[uuid.UUID, dict[date, Any]]:
    r = AttendanceRecord
    stmt = (
        select(
            r.user_id,
            r.work_date,
            func.min(r.client_recorded_at).filter(r.kind == "in").label("first_in"),
            func.max(r.client_recorded_at).filter(r.kind == "out").label("last_out"),
            func.count().filter(func.jsonb_array_length(r.flags) > 0).label("flagged"),
        )
        .where(r.company_id == company_id, r.work_date >= since, r.work_date < end)
        .group_by(r.user_id, r.work_date)
    )
    if user_ids is not None:
        stmt = stmt.where(among(r.user_id, user_ids))
    days: dict[uuid.UUID, dict[date, Any]] = {}
    for row in await session.execute(stmt):
        days.setdefault(row.user_id, {})[row.work_date] = row
    return days


async def _checkin_days(
    session: AsyncSession,
    company_id: uuid.UUID,
    user_ids: list[uuid.UUID] | None,
    since: date,
    end: date,
    zone: str,
) -> dict[uuid.UUID, set[date]]:
    day = cast(func.timezone(zone, Checkin.client_recorded_at), Date)
    stmt = (
        select(Checkin.user_id, day)
        .distinct()
        .where(
            Checkin.company_id == company_id,
            Checkin.client_recorded_at >= local_midnight(since, zone),
            Checkin.client_recorded_at < local_midnight(end, zone),
            counts_as_visit(),
        )
    )
    if user_ids is not None:
        stmt = stmt.where(among(Checkin.user_id, user_ids))
    found: dict[uuid.UUID, set[date]] = {}
    for user_id, visited_on in await session.execute(stmt):
        found.setdefault(user_id, set()).add(visited_on)
    return found


async def attendance_sheet(
    session: AsyncSession,
    principal: Principal,
    month: str | None,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The sheet's rows (company → departments → people, depth first)."""
    settings = await company_settings(session, principal.company_id)
    zone = settings.time_zone
    today = local_date(now(), zone)
    key, since, end = month_bounds(month, today)
    users, prefix = await report_scope(session, principal, user_id, department_id)
    whole = principal.is_admin and user_id is None and department_id is None
    ids = None if whole else [u.id for u in users]
    records = await _record_days(session, principal.company_id, ids, since, end)
    checkins: dict[uuid.UUID, set[date]] = {}
    if settings.checkins_count_as_attendance:
        checkins = await _checkin_days(session, principal.company_id, ids, since, end, zone)
    working_days = sum(1 for d in _days(since, end) if settings.is_working_day(d.isoweekday()))
    people = {
        u.id: person_figures(
            u, records.get(u.id, {}), checkins.get(u.id, set()), settings, (since, end), today
        )
        for u in users
    }

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
    paths = {d.id: d.path for d in departments}

    def row(
        kind: str,
        id_: uuid.UUID,
        name: str,
        parent: uuid.UUID | None,
        level: int,
        members: list[dict[str, Any]],
    ) -> dict[str, Any]:
        figures = _sum(members)
        return {
            "kind": kind,
            "id": id_,
            "name": name,
            "parent_id": parent,
            "level": level,
            "people": len(members),
            "working_days": working_days,
            **{name_: figures[name_] for name_ in FIGURES},
            "hours": _hours(figures["seconds"]),
        }

    def members_of(department: Department) -> list[dict[str, Any]]:
        return [
            people[u.id]
            for u in users
            if u.department_id in paths and paths[u.department_id].startswith(department.path)
        ]

    shown = {d.id: d for d in departments if d.deactivated_at is None or members_of(d)}
    by_department: dict[uuid.UUID | None, list[User]] = {}
    for user in sorted(users, key=lambda u: (u.name, str(u.id))):
        parent = user.department_id if user.department_id in shown else None
        by_department.setdefault(parent, []).append(user)
    children: dict[uuid.UUID | None, list[Department]] = {}
    for department in shown.values():
        parent = department.parent_id if department.parent_id in shown else None
        children.setdefault(parent, []).append(department)

    rows: list[dict[str, Any]] = []
    company = await session.get_one(Company, principal.company_id)
    if whole:
        rows.append(row("company", company.id, company.name, None, 0, list(people.values())))

    def walk(department: Department, parent: uuid.UUID | None, level: int) -> None:
        rows.append(
            row(
                "department",
                department.id,
                department.name,
                parent,
                level,
                members_of(department),
            )
        )
        for user in by_department.get(department.id, []):
            rows.append(
                row("user", user.id, user.name, department.id, level + 1, [people[user.id]])
            )
        for child in sorted(children.get(department.id, []), key=lambda d: (d.name, d.path)):
            walk(child, department.id, level + 1)

    top_parent = company.id if whole else None
    top_level = 1 if whole else 0
    for department in sorted(children.get(None, []), key=lambda d: (d.name, d.path)):
        walk(department, top_parent, top_level)
    for user in by_department.get(None, []):
        rows.append(row("user", user.id, user.name, top_parent, top_level, [people[user.id]]))
    return {"month": key, "since": since, "until": end - timedelta(days=1), "rows": rows}
