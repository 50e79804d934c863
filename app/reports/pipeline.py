"""The funnel and the forecast (read-only; each one set-based statement over what the caller
may see: `opportunity_visibility`, optionally narrowed to a user or a department subtree).

Indexes they rely on (migration 0011):
- funnel: `ix_stage_history_opportunity` (company_id, opportunity_id, at, id) from the visible
  opportunities into their history, and for "reached a later stage"; `ix_stage_history_to_stage`
  (company_id, to_stage_id, at) when the window is narrow and the caller sees most of the
  company; `ix_opportunities_stage` (company_id, stage_id) for what is in a stage now;
- forecast: `ix_opportunities_close` (company_id, expected_close_date) for the open ones by
  month of expected close; the won ones by `closed_at` within the visible set.
Stages are joined by (company_id, id), their primary key's tenant twin.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, exists, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.core import limits
from app.core.clock import now
from app.core.errors import not_found, validation_failed
from app.fieldwork import periods
from app.org.models import Company
from app.pipeline.models import Opportunity, Pipeline, Stage, StageChange
from app.pipeline.pipelines import service as pipelines
from app.pipeline.visibility import opportunity_visibility
from app.reports import errors
from app.reports.visits import report_scope

MAX_FUNNEL_DAYS = 3660
MAX_FORECAST_MONTHS = 36
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_FEN = Decimal("0.01")
_RATIO = Decimal("0.0001")
SECONDS_PER_DAY = 86400


# ---------- pure figures ----------


def ratio(numerator: int, denominator: int) -> str | None:
    """An exact ratio with four places ("0.1000"), None when the denominator is 0."""
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(_RATIO, ROUND_HALF_UP))


def prospects_needed(target_deals: int, won: int, entered: int) -> int | None:
    """⌈target ÷ win rate⌉ with the exact win rate won ÷ entered (2 of 20 won: 1 → 10, 6 → 60);
    None when nothing was won (or nothing entered)."""
    if not won or not entered:
        return None
    return -(-target_deals * entered // won)


def days(mean_seconds: Decimal | None) -> str | None:
    """Mean seconds as days with two places, half-up."""
    if mean_seconds is None:
        return None
    return str((Decimal(mean_seconds) / SECONDS_PER_DAY).quantize(_FEN, ROUND_HALF_UP))


def weighted(amount_times_percent: Decimal | None) -> Decimal:
    """Σ amount × probability (percent) as money: ÷ 100, rounded half-up to the fen once."""
    return (Decimal(amount_times_percent or 0) / 100).quantize(_FEN, ROUND_HALF_UP)


def parse_month(value: str, name: str) -> date:
    """`YYYY-MM` as the first day of the month (years as the app bounds them), else 422."""
    match = _MONTH.match(value)
    if not match or not limits.MIN_YEAR <= int(match.group(1)) <= limits.MAX_YEAR:
        raise validation_failed(
            f"{name} is a month YYYY-MM ({limits.MIN_YEAR}–{limits.MAX_YEAR})",
            loc=("query", name),
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first` to `last`, inclusive."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# ---------- scope ----------


async def _owner_filter(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
) -> list[ColumnElement[bool]]:
    """`user=` / `department=` (its subtree) as a condition on the owner, within what the caller
    sees (404 for a user or department they may not see) — the visit report's scope."""
    if user_id is None and department_id is None:
        return []
    users, _ = await report_scope(session, principal, user_id, department_id)
    return [Opportunity.owner_id.in_([u.id for u in users])]


async def _time_zone(session: AsyncSession, principal: Principal) -> str:
    return (await session.get_one(Company, principal.company_id)).time_zone


# ---------- funnel ----------


@dataclass(frozen=True)
class FunnelQuery:
    pipeline_id: uuid.UUID | None
    since: date | None
    until: date | None
    target_deals: int | None
    user_id: uuid.UUID | None
    department_id: uuid.UUID | None


async def funnel(session: AsyncSession, principal: Principal, query: FunnelQuery) -> dict[str, Any]:
    """Per stage (by position): entered in the window, in it now (count, amount), reached a
    later stage that is not lost, conversion, mean days in it; and entered / won / lost, win
    rate, close rate and the prospects a target of deals needs."""
    since, until = query.since, query.until
    if since and until and (until < since or (until - since).days >= MAX_FUNNEL_DAYS):
        raise errors.invalid_range(MAX_FUNNEL_DAYS)
    if query.pipeline_id is not None:
        pipeline = await pipelines.get_pipeline(session, principal, query.pipeline_id)
    else:
        found = await pipelines.default_pipeline(session, principal.company_id)
        if found is None:
            raise not_found("pipeline")
        pipeline = found
    owner = await _owner_filter(session, principal, query.user_id, query.department_id)
    zone = await _time_zone(session, principal)
    company_id = principal.company_id

    vis = (
        select(Opportunity.id, Opportunity.stage_id, Opportunity.status, Opportunity.amount)
        .where(Opportunity.pipeline_id == pipeline.id, opportunity_visibility(principal), *owner)
        .cte("vis")
    )
    st = (
        select(Stage.id, Stage.position, Stage.kind)
        .where(Stage.company_id == company_id, Stage.pipeline_id == pipeline.id)
        .cte("st")
    )

    def window(at: Any) -> list[ColumnElement[bool]]:
        conditions = []
        if since is not None:
            conditions.append(at >= periods.local_midnight(since, zone))
        if until is not None:
            conditions.append(at < periods.local_midnight(until + timedelta(days=1), zone))
        return conditions

    # Entries into a stage in the window, each with whether the opportunity later entered a
    # stage further on that is not lost, and whether it is now closed as that stage says.
    entry = aliased(StageChange, name="entry")
    later = aliased(StageChange, name="later")
    ahead = st.alias("ahead")
    reached = exists(
        select(literal(1))
        .select_from(later)
        .join(ahead, ahead.c.id == later.to_stage_id)
        .where(
            later.company_id == company_id,
            later.opportunity_id == entry.opportunity_id,
            later.at > entry.at,
            ahead.c.position > st.c.position,
            ahead.c.kind != "lost",
        )
    )
    entries = (
        select(
            entry.to_stage_id.label("stage_id"),
            entry.opportunity_id,
            reached.label("reached"),
            (vis.c.status == st.c.kind).label("closed"),
        )
        .select_from(entry)
        .join(vis, vis.c.id == entry.opportunity_id)
        .join(st, st.c.id == entry.to_stage_id)
        .where(entry.company_id == company_id, *window(entry.at))
        .subquery("entries")
    )
    entered = (
        select(
            entries.c.stage_id,
            func.count(distinct(entries.c.opportunity_id)).label("entered"),
            func.count(distinct(entries.c.opportunity_id))
            .filter(entries.c.reached)
            .label("reached"),
            func.count(distinct(entries.c.opportunity_id)).filter(entries.c.closed).label("closed"),
        )
        .group_by(entries.c.stage_id)
        .subquery("entered")
    )
    leave = aliased(StageChange, name="leave")
    leaving = (
        select(
            leave.from_stage_id.label("stage_id"),
            func.avg(leave.seconds_in_previous).label("mean_seconds"),
        )
        .select_from(leave)
        .join(vis, vis.c.id == leave.opportunity_id)
        .where(
            leave.company_id == company_id,
            leave.from_stage_id.is_not(None),
            leave.seconds_in_previous.is_not(None),
            *window(leave.at),
        )
        .group_by(leave.from_stage_id)
        .subquery("leaving")
    )
    current = (
        select(
            vis.c.stage_id,
            func.count().label("count"),
            func.coalesce(func.sum(vis.c.amount), 0).label("amount"),
        )
        .select_from(vis)
        .join(st, st.c.id == vis.c.stage_id)
        .where(vis.c.status == st.c.kind)  # open in an open stage; won/lost in a won/lost one
        .group_by(vis.c.stage_id)
        .subquery("current")
    )
    stmt = (
        select(
            Stage.id,
            Stage.name,
            Stage.kind,
            Stage.position,
            Stage.probability,
            Stage.retired_at,
            func.coalesce(entered.c.entered, 0).label("entered"),
            func.coalesce(entered.c.reached, 0).label("reached"),
            func.coalesce(entered.c.closed, 0).label("closed"),
            leaving.c.mean_seconds,
            func.coalesce(current.c.count, 0).label("current_count"),
            func.coalesce(current.c.amount, 0).label("current_amount"),
        )
        .outerjoin(entered, entered.c.stage_id == Stage.id)
        .outerjoin(leaving, leaving.c.stage_id == Stage.id)
        .outerjoin(current, current.c.stage_id == Stage.id)
        .where(Stage.company_id == company_id, Stage.pipeline_id == pipeline.id)
        .order_by(Stage.position, Stage.created_at, Stage.id)
    )
    rows = (await session.execute(stmt)).all()

    stages = [
        {
            "stage_id": row.id,
            "name": row.name,
            "kind": row.kind,
            "position": row.position,
            "probability": row.probability,
            "retired": row.retired_at is not None,
            "entered": int(row.entered),
            "current_count": int(row.current_count),
            "current_amount": Decimal(row.current_amount).quantize(_FEN),
            "reached_next": int(row.reached),
            "conversion": ratio(int(row.reached), int(row.entered)),
            "avg_days_in_stage": days(row.mean_seconds),
        }
        for row in rows
    ]
    first = next((row for row in rows if row.retired_at is None), None)
    top_entered = int(first.entered) if first is not None else 0
    won = sum(int(row.closed) for row in rows if row.kind == "won")
    lost = sum(int(row.closed) for row in rows if row.kind == "lost")
    return {
        "pipeline_id": pipeline.id,
        "since": since,
        "until": until,
        "entered": top_entered,
        "won": won,
        "lost": lost,
        "win_rate": ratio(won, top_entered),
        "close_rate": ratio(won, won + lost),
        "target_deals": query.target_deals,
        "prospects_needed": (
            prospects_needed(query.target_deals, won, top_entered)
            if query.target_deals is not None
            else None
        ),
        "stages": stages,
    }


# ---------- forecast ----------


@dataclass(frozen=True)
class ForecastQuery:
    since: str | None
    until: str | None
    include_stale: bool
    pipeline_id: uuid.UUID | None
    user_id: uuid.UUID | None
    department_id: uuid.UUID | None


async def forecast(
    session: AsyncSession, principal: Principal, query: ForecastQuery
) -> dict[str, Any]:
    """By month: open opportunities by month of expected close (count, amount, weighted by the
    stage's probability), and the ones won in that month (company time). Stale ones (open and
    older than their pipeline's stale_after_days) are left out unless `include_stale`."""
    zone = await _time_zone(session, principal)
    this_month = periods.local_date(now(), zone).replace(day=1)
    first = parse_month(query.since, "from") if query.since else this_month
    if query.until:
        last = parse_month(query.until, "to")
    else:
        last = first
        for _ in range(11):
            last = next_month(last)
    months = months_between(first, last)
    if not months or len(months) > MAX_FORECAST_MONTHS:
        raise errors.invalid_range(MAX_FORECAST_MONTHS, "months")
    after = next_month(last)
    pipeline_filter: list[ColumnElement[bool]] = []
    if query.pipeline_id is not None:
        pipeline = await pipelines.get_pipeline(session, principal, query.pipeline_id)
        pipeline_filter.append(Opportunity.pipeline_id == pipeline.id)
    owner = await _owner_filter(session, principal, query.user_id, query.department_id)
    visible = [opportunity_visibility(principal), *owner, *pipeline_filter]

    open_month = func.to_char(Opportunity.expected_close_date, "YYYY-MM")
    fresh: list[ColumnElement[bool]] = []
    if not query.include_stale:
        # Stale: open and created longer ago than its pipeline's stale_after_days.
        fresh.append(
            Opportunity.created_at + func.make_interval(0, 0, 0, Pipeline.stale_after_days) >= now()
        )
    open_part = (
        select(
            literal("open").label("part"),
            open_month.label("month"),
            func.count().label("count"),
            func.coalesce(func.sum(Opportunity.amount), 0).label("amount"),
            func.coalesce(func.sum(Opportunity.amount * Stage.probability), 0).label("weighted"),
        )
        .join(
            Stage,
            and_(Stage.company_id == Opportunity.company_id, Stage.id == Opportunity.stage_id),
        )
        .join(
            Pipeline,
            and_(
                Pipeline.company_id == Opportunity.company_id,
                Pipeline.id == Opportunity.pipeline_id,
            ),
        )
        .where(
            *visible,
            Opportunity.status == "open",
            Opportunity.expected_close_date >= first,
            Opportunity.expected_close_date < after,
            *fresh,
        )
        .group_by(open_month)
    )
    won_month = func.to_char(func.timezone(zone, Opportunity.closed_at), "YYYY-MM")
    won_part = (
        select(
            literal("won").label("part"),
            won_month.label("month"),
            func.count().label("count"),
            func.coalesce(func.sum(Opportunity.amount), 0).label("amount"),
            literal(0).label("weighted"),
        )
        .where(
            *visible,
            Opportunity.status == "won",
            Opportunity.closed_at >= periods.local_midnight(first, zone),
            Opportunity.closed_at < periods.local_midnight(after, zone),
        )
        .group_by(won_month)
    )
    rows = (await session.execute(union_all(open_part, won_part))).all()
    by_month: dict[tuple[str, str], Any] = {(row.part, row.month): row for row in rows}
    zero = Decimal("0.00")
    items = []
    for month in months:
        label = month_label(month)
        expected, won = by_month.get(("open", label)), by_month.get(("won", label))
        items.append(
            {
                "month": label,
                "count": int(expected.count) if expected else 0,
                "amount": Decimal(expected.amount) if expected else zero,
                "weighted_amount": weighted(expected.weighted) if expected else zero,
                "won_count": int(won.count) if won else 0,
                "won_amount": Decimal(won.amount) if won else zero,
            }
        )
    return {
        "since": month_label(first),
        "until": month_label(last),
        "pipeline_id": query.pipeline_id,
        "include_stale": query.include_stale,
        "items": items,
    }
