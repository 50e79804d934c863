"""The ticket report: per rep (the assignee) and per department (rolled up the tree), in the
company's time zone — tickets opened in the range and how many of them are open or overdue
now, tickets resolved in the range and the median hours from opening to resolution, the
satisfaction ratings given in the range and their average."""

import statistics
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.fieldwork import periods
from app.org.models import Company, Department, User
from app.reports import errors as report_errors
from app.reports.visits import MAX_DAYS, report_scope
from app.tickets.models import Ticket, TicketRating

TWO = Decimal("0.01")
FIGURES = (
    "created",
    "open",
    "overdue",
    "resolved",
    "median_hours_to_resolve",
    "ratings",
    "average_satisfaction",
)


def _figures(
    opened: list[tuple[str, datetime]], durations: list[Decimal], scores: list[int], at: datetime
) -> dict[str, Any]:
    still_open = [due for status, due in opened if status in ("open", "in_progress")]
    return {
        "created": len(opened),
        "open": len(still_open),
        "overdue": sum(1 for due in still_open if due < at),
        "resolved": len(durations),
        "median_hours_to_resolve": Decimal(statistics.median(durations)).quantize(
            TWO, ROUND_HALF_UP
        )
        if durations
        else None,
        "ratings": len(scores),
        "average_satisfaction": (Decimal(sum(scores)) / len(scores)).quantize(TWO, ROUND_HALF_UP)
        if scores
        else None,
    }


def _hours(start: datetime, end: datetime) -> Decimal:
    return Decimal((end - start).total_seconds()) / 3600


async def ticket_report(
    session: AsyncSession,
    principal: Principal,
    since: date,
    until: date,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The report's figures (reps: their own; managers: their subtree; admins: the company)."""
    if until < since or (until - since).days >= MAX_DAYS:
        raise report_errors.invalid_range(MAX_DAYS)
    company = await session.get_one(Company, principal.company_id)
    zone = company.time_zone
    start = periods.local_midnight(since, zone)
    end = periods.local_midnight(until + timedelta(days=1), zone)
    users, prefix = await report_scope(session, principal, user_id, department_id)
    user_ids = [u.id for u in users]
    at = now()
    opened: dict[uuid.UUID, list[tuple[str, datetime]]] = {u: [] for u in user_ids}
    for assignee, status, due in (
        await session.execute(
            select(Ticket.assignee_id, Ticket.status, Ticket.due_at).where(
                Ticket.company_id == principal.company_id,
                Ticket.assignee_id.in_(user_ids),
                Ticket.created_at >= start,
                Ticket.created_at < end,
            )
        )
    ).all():
        if assignee is not None:
            opened[assignee].append((status, due))
    durations: dict[uuid.UUID, list[Decimal]] = {u: [] for u in user_ids}
    for assignee, created, resolved in (
        await session.execute(
            select(Ticket.assignee_id, Ticket.created_at, Ticket.resolved_at).where(
                Ticket.company_id == principal.company_id,
                Ticket.assignee_id.in_(user_ids),
                Ticket.resolved_at >= start,
                Ticket.resolved_at < end,
            )
        )
    ).all():
        if assignee is not None and resolved is not None:
            durations[assignee].append(_hours(created, resolved))
    scores: dict[uuid.UUID, list[int]] = {u: [] for u in user_ids}
    for rated, score in (
        await session.execute(
            select(TicketRating.user_id, TicketRating.score).where(
                TicketRating.company_id == principal.company_id,
                TicketRating.user_id.in_(user_ids),
                TicketRating.created_at >= start,
                TicketRating.created_at < end,
            )
        )
    ).all():
        scores[rated].append(score)

    def rolled(members: Iterable[uuid.UUID]) -> dict[str, Any]:
        chosen = list(members)
        return _figures(
            [item for u in chosen for item in opened[u]],
            [item for u in chosen for item in durations[u]],
            [item for u in chosen for item in scores[u]],
            at,
        )

    user_rows = [
        {"id": u.id, "name": u.name, **rolled([u.id])} for u in sorted(users, key=lambda u: u.name)
    ]
    department_rows = []
    whole_tree = user_id is None and (principal.is_admin or principal.is_manager or department_id)
    if whole_tree:
        paths: dict[uuid.UUID, str] = {
            row.id: row.path
            for row in await session.execute(
                select(User.id, Department.path)
                .join(Department, Department.id == User.department_id)
                .where(User.id.in_(user_ids))
            )
        }
        departments = select(Department).where(Department.company_id == principal.company_id)
        if prefix:
            departments = departments.where(Department.path.startswith(prefix, autoescape=True))
        for department in (await session.scalars(departments.order_by(Department.path))).all():
            members = [u for u, path in paths.items() if path.startswith(department.path)]
            department_rows.append(
                {"id": department.id, "name": department.name, **rolled(members)}
            )
    return {"total": rolled(user_ids), "users": user_rows, "departments": department_rows}


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report as CSV rows under `CSV_HEADER`."""
    rows: list[list[Any]] = [["total", "", "", *(report["total"][f] for f in FIGURES)]]
    for scope, key in (("user", "users"), ("department", "departments")):
        rows += [[scope, row["id"], row["name"], *(row[f] for f in FIGURES)] for row in report[key]]
    return rows


CSV_HEADER = ["scope", "id", "name", *FIGURES]
