"""Work logs (日报/周报/月报): the rep's review, with the period's figures collected for them."""

import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import customer_visibility
from app.customers.models import Customer, OwnershipEvent
from app.db import savepoint
from app.feed import publish
from app.fieldwork import errors, periods
from app.fieldwork.files import service as files
from app.fieldwork.logs.schemas import LogCreate, LogUpdate
from app.fieldwork.models import Checkin, Followup, WorkLog, WorkLogCustomer
from app.fieldwork.visibility import log_visibility
from app.org.models import Company
from app.targets import measures
from app.targets.models import MONEY_MEASURES, Target
from app.targets.periods import containing
from app.targets.progress import ratio


async def period_figures(
    session: AsyncSession, user_id: uuid.UUID, start: datetime, end: datetime
) -> dict[str, Any]:
    """What the user did in [start, end): customers, follow-ups, visits, claims, releases."""
    new_customers = await session.scalar(
        select(func.count()).where(
            Customer.created_by == user_id,
            Customer.created_at >= start,
            Customer.created_at < end,
            Customer.deleted_at.is_(None),
        )
    )
    by_kind = dict(
        (
            await session.execute(
                select(Followup.kind, func.count())
                .where(
                    Followup.user_id == user_id,
                    Followup.created_at >= start,
                    Followup.created_at < end,
                    Followup.deleted_at.is_(None),
                )
                .group_by(Followup.kind)
            )
        ).all()
    )
    visits, visited = (
        await session.execute(
            select(func.count(), func.count(func.distinct(Checkin.customer_id))).where(
                Checkin.user_id == user_id,
                Checkin.client_recorded_at >= start,
                Checkin.client_recorded_at < end,
            )
        )
    ).one()
    claims = await session.scalar(
        select(func.count()).where(
            OwnershipEvent.to_user_id == user_id,
            OwnershipEvent.kind == "claimed",
            OwnershipEvent.created_at >= start,
            OwnershipEvent.created_at < end,
        )
    )
    releases = await session.scalar(
        select(func.count()).where(
            OwnershipEvent.from_user_id == user_id,
            OwnershipEvent.kind == "released",
            OwnershipEvent.created_at >= start,
            OwnershipEvent.created_at < end,
        )
    )
    return {
        "new_customers": new_customers,
        "followups": sum(by_kind.values()),
        "followups_by_kind": by_kind,
        "checkins": visits,
        "customers_visited": visited,
        "claims": claims,
        "releases": releases,
    }


TARGET_KINDS = {"daily": "day", "weekly": "week", "monthly": "month"}
FIGURE_MEASURES = ("contract_amount", "payment_amount", "won_opportunities")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


async def target_figures(
    session: AsyncSession,
    company_id: uuid.UUID,
    user_id: uuid.UUID,
    period: str,
    period_start: date,
    time_zone: str,
) -> dict[str, Any]:
    """The period's opportunities (new, advanced, won — as the work report counts them),
    contracted and received (the target measures, money strings) and the author's user
    targets of exactly the log's period (day, ISO week, month) with actual and rate."""
    # Imported here: the reports package reads the field-work models this package defines.
    from app.reports.work import work_facts  # noqa: PLC0415

    kind = TARGET_KINDS[period]
    target_period = containing(kind, period_start)
    targets = (
        await session.execute(
            select(Target.id, Target.measure, Target.value)
            .where(
                Target.company_id == company_id,
                Target.starts_on == target_period.start,
                Target.ends_on == target_period.end,
                Target.period_kind == kind,
                Target.subject == "user",
                Target.subject_id == user_id,
                Target.deleted_at.is_(None),
            )
            .order_by(Target.measure)
        )
    ).all()
    extra = work_facts(company_id, target_period.start, target_period.end, time_zone, [user_id])
    facts = await measures.actuals(
        session,
        company_id,
        [*FIGURE_MEASURES, *(t.measure for t in targets)],
        target_period.start,
        target_period.end,
        time_zone,
        user_ids=[user_id],
        extra=[extra["opportunities_created"], extra["opportunities_advanced"]],
    )
    done = measures.Actuals(facts)

    def figure(measure: str, value: Decimal) -> str | int:
        return _money(value) if measure in MONEY_MEASURES else int(value)

    return {
        "opportunities": {
            "new": int(done.user("opportunities_created", user_id)),
            "advanced": int(done.user("opportunities_advanced", user_id)),
            "won": int(done.user("won_opportunities", user_id)),
        },
        "contracted": _money(done.user("contract_amount", user_id)),
        "received": _money(done.user("payment_amount", user_id)),
        "targets": [
            {
                "target_id": str(t.id),
                "measure": t.measure,
                "period": target_period.key,
                "value": figure(t.measure, t.value),
                "actual": figure(t.measure, done.user(t.measure, user_id)),
                "rate": rate
                if (rate := ratio(done.user(t.measure, user_id), t.value)) is None
                else str(rate),
            }
            for t in targets
        ],
    }


async def _link_customers(
    session: AsyncSession, principal: Principal, log_id: uuid.UUID, customer_ids: list[uuid.UUID]
) -> None:
    await session.execute(delete(WorkLogCustomer).where(WorkLogCustomer.log_id == log_id))
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return
    visible = set(
        (
            await session.execute(
                select(Customer.id).where(Customer.id.in_(ids), customer_visibility(principal))
            )
        ).scalars()
    )
    missing = [index for index, cid in enumerate(ids) if cid not in visible]
    if missing:
        raise errors.unknown_customer(missing)
    await session.execute(
        insert(WorkLogCustomer).values(
            [
                {"log_id": log_id, "customer_id": cid, "company_id": principal.company_id}
                for cid in ids
            ]
        )
    )


async def _refresh_figures(session: AsyncSession, log: WorkLog, time_zone: str) -> None:
    _, start, end = periods.utc_range(log.period, log.period_start, time_zone)
    log.figures = await period_figures(session, log.user_id, start, end) | await target_figures(
        session, log.company_id, log.user_id, log.period, log.period_start, time_zone
    )


async def create_log(
    session: AsyncSession, principal: Principal, data: LogCreate
) -> tuple[WorkLog, bool]:
    """The caller's log for a period (one per period: a second one is 409 `log_exists`)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session, WorkLog, data.id, request_hash, lambda row: row.user_id == principal.user_id
    )
    if existing is not None:
        return existing, False
    company = await session.get_one(Company, principal.company_id)
    day = data.day or periods.local_date(now(), company.time_zone)
    start = periods.period_start(data.period, day)
    log = WorkLog(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        period=data.period,
        period_start=start,
        text=data.text,
        figures={},
        request_hash=request_hash,
        version=1,
        created_at=now(),
        updated_at=now(),
    )
    try:
        async with savepoint(session):
            session.add(log)
    except IntegrityError as exc:
        other = await session.scalar(
            select(WorkLog.id).where(
                WorkLog.user_id == principal.user_id,
                WorkLog.period == data.period,
                WorkLog.period_start == start,
                WorkLog.deleted_at.is_(None),
            )
        )
        raise errors.log_exists(str(other) if other else None) from exc
    await _link_customers(session, principal, log.id, data.customer_ids)
    await files.attach_files(
        session, principal, data.attachment_ids, "log", log.id, field="attachment_ids"
    )
    await _refresh_figures(session, log, company.time_zone)
    await publish.log_added(session, principal, log.id, log.period, log.text, log.created_at)
    await session.flush()
    return log, True


async def get_log(session: AsyncSession, principal: Principal, log_id: uuid.UUID) -> WorkLog:
    """One visible log (figures refreshed), or 404."""
    log = await session.scalar(
        select(WorkLog).where(
            WorkLog.id == log_id, WorkLog.deleted_at.is_(None), log_visibility(principal)
        )
    )
    if log is None:
        raise not_found("log")
    return log


async def update_log(
    session: AsyncSession,
    principal: Principal,
    log_id: uuid.UUID,
    data: LogUpdate,
    if_match: str | None,
) -> WorkLog:
    """The author edits text or linked customers (If-Match required); figures are collected
    again."""
    log = await get_log(session, principal, log_id)
    if log.user_id != principal.user_id:
        raise forbidden("Only the author may edit a log.")
    check_if_match(if_match, log.version)
    if data.text:
        log.text = data.text
    if data.customer_ids is not None:
        await _link_customers(session, principal, log.id, data.customer_ids)
    company = await session.get_one(Company, principal.company_id)
    await _refresh_figures(session, log, company.time_zone)
    log.version += 1
    log.updated_at = now()
    await session.flush()
    return log


async def delete_log(session: AsyncSession, principal: Principal, log_id: uuid.UUID) -> None:
    """Soft delete by the author."""
    log = await get_log(session, principal, log_id)
    if log.user_id != principal.user_id:
        raise forbidden("Only the author may delete a log.")
    log.deleted_at = now()
    await session.flush()


async def list_logs(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[WorkLog], str | None]:
    """Visible logs, newest first."""
    stmt = select(WorkLog).where(WorkLog.deleted_at.is_(None), log_visibility(principal))
    if filters.get("user_id"):
        stmt = stmt.where(WorkLog.user_id == filters["user_id"])
    if filters.get("period"):
        stmt = stmt.where(WorkLog.period == filters["period"])
    if filters.get("since"):
        stmt = stmt.where(WorkLog.period_start >= filters["since"])
    if filters.get("until"):
        stmt = stmt.where(WorkLog.period_start <= filters["until"])
    rows = list(
        (await session.execute(paginate(stmt, WorkLog.created_at, WorkLog.id, params))).scalars()
    )
    return make_page(rows, params)


async def linked_customers(
    session: AsyncSession, log_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Customer ids linked to each log, in one query."""
    linked: dict[uuid.UUID, list[uuid.UUID]] = {}
    if log_ids:
        rows = await session.execute(
            select(WorkLogCustomer.log_id, WorkLogCustomer.customer_id).where(
                WorkLogCustomer.log_id.in_(log_ids)
            )
        )
        for log_id, customer_id in rows:
            linked.setdefault(log_id, []).append(customer_id)
    return linked
