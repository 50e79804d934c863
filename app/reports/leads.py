"""The lead report: per source, campaign or owner, of the leads the caller may see (the one
lead visibility rule) created in the range — leads, contacted, converted, conversion, median
hours to the first follow-up, follow-ups per lead, the campaign's cost and cost per
conversion, and the amount won on opportunities opened from those leads.

One statement: the visible leads of the range, their follow-up counts and first follow-up
(`ix_followups_lead_created`), and their won opportunities, grouped with GROUPING SETS so
the total comes from the same rows. Figures are exact: counts are integers, ratios and
hours decimal strings (half-up), money NUMERIC; the median is the exact middle (the mean of
the two middle values for an even count: `percentile_disc` up and down, no floats).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.fieldwork import periods
from app.fieldwork.models import Followup
from app.leads.models import Campaign, Lead
from app.leads.visibility import lead_visibility
from app.org.models import Company, User
from app.pipeline.models import Opportunity
from app.reports import errors

MAX_DAYS = 731
_FEN = Decimal("0.01")
_RATIO = Decimal("0.0001")
COLUMNS = (
    "key",
    "label",
    "leads",
    "contacted",
    "converted",
    "conversion",
    "median_hours_to_first_followup",
    "followups_per_lead",
    "cost",
    "cost_per_conversion",
    "won_amount",
)


def ratio(numerator: int, denominator: int, places: Decimal = _RATIO) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(places, ROUND_HALF_UP))


def median_hours(lower: Decimal | None, upper: Decimal | None) -> str | None:
    """The exact median of seconds (its two middle values) as hours, two places."""
    if lower is None or upper is None:
        return None
    return str(((Decimal(lower) + Decimal(upper)) / 2 / 3600).quantize(_FEN, ROUND_HALF_UP))


def figures(row: Any, cost: Decimal | None) -> dict[str, Any]:
    leads, converted = int(row.leads), int(row.converted)
    per_conversion = None
    if cost is not None and converted:
        per_conversion = (cost / converted).quantize(_FEN, ROUND_HALF_UP)
    return {
        "leads": leads,
        "contacted": int(row.contacted),
        "converted": converted,
        "conversion": ratio(converted, leads),
        "median_hours_to_first_followup": median_hours(row.lower_mid, row.upper_mid),
        "followups_per_lead": ratio(int(row.followups), leads, _FEN),
        "cost": cost,
        "cost_per_conversion": per_conversion,
        "won_amount": Decimal(row.won or 0).quantize(_FEN),
    }


@dataclass(frozen=True)
class LeadReportQuery:
    group: str
    since: date | None
    until: date | None


def _key(group: str) -> Any:
    if group == "source":
        return Lead.source
    if group == "campaign":
        return Lead.campaign
    return Lead.owner_id


async def lead_report(
    session: AsyncSession, principal: Principal, query: LeadReportQuery
) -> dict[str, Any]:
    if (
        query.since
        and query.until
        and (query.until < query.since or (query.until - query.since).days >= MAX_DAYS)
    ):
        raise errors.invalid_range(MAX_DAYS)
    zone = (await session.get_one(Company, principal.company_id)).time_zone
    window: list[ColumnElement[bool]] = []
    if query.since:
        window.append(Lead.created_at >= periods.local_midnight(query.since, zone))
    if query.until:
        end = periods.local_midnight(query.until + timedelta(days=1), zone)
        window.append(Lead.created_at < end)

    leads = (
        select(Lead.id, Lead.created_at, Lead.status, _key(query.group).label("key"))
        .where(lead_visibility(principal), *window)
        .cte("l")
    )
    visible_ids = select(leads.c.id)
    followups = (
        select(
            Followup.lead_id,
            func.count().label("n"),
            func.min(Followup.created_at).label("first_at"),
        )
        .where(
            Followup.company_id == principal.company_id,
            Followup.deleted_at.is_(None),
            Followup.lead_id.in_(visible_ids),
        )
        .group_by(Followup.lead_id)
        .cte("f")
    )
    won = (
        select(Opportunity.lead_id, func.sum(Opportunity.amount).label("won"))
        .where(
            Opportunity.company_id == principal.company_id,
            Opportunity.deleted_at.is_(None),
            Opportunity.status == "won",
            Opportunity.lead_id.in_(visible_ids),
        )
        .group_by(Opportunity.lead_id)
        .cte("w")
    )
    seconds = func.extract("epoch", followups.c.first_at - leads.c.created_at)
    stmt = (
        select(
            leads.c.key,
            func.grouping(leads.c.key).label("is_total"),
            func.count().label("leads"),
            func.count(followups.c.lead_id).label("contacted"),
            func.count().filter(leads.c.status == "converted").label("converted"),
            func.coalesce(func.sum(followups.c.n), 0).label("followups"),
            func.percentile_disc(0.5).within_group(seconds).label("lower_mid"),
            func.percentile_disc(0.5).within_group(seconds.desc()).label("upper_mid"),
            func.coalesce(func.sum(won.c.won), 0).label("won"),
        )
        .select_from(leads)
        .outerjoin(followups, followups.c.lead_id == leads.c.id)
        .outerjoin(won, won.c.lead_id == leads.c.id)
        .group_by(func.grouping_sets(leads.c.key, text("()")))
    )
    result = (await session.execute(stmt)).all()
    groups = {row.key: row for row in result if not row.is_total}
    total = next((row for row in result if row.is_total), None)

    campaigns: dict[str, Any] = {}
    labels: dict[Any, str] = {}
    if query.group == "campaign":
        campaigns = {
            row.name: row
            for row in (
                await session.execute(
                    select(Campaign.id, Campaign.name, Campaign.cost).where(
                        Campaign.company_id == principal.company_id,
                        Campaign.deleted_at.is_(None),
                    )
                )
            ).all()
        }
    if query.group == "user":
        owner_ids = [key for key in groups if key is not None]
        if owner_ids:
            labels = {
                row.id: row.name
                for row in (
                    await session.execute(
                        select(User.id, User.name).where(
                            User.company_id == principal.company_id, User.id.in_(owner_ids)
                        )
                    )
                ).all()
            }

    empty = _Empty()
    keys: list[Any] = list(groups)
    if query.group == "campaign":
        # A campaign that brought no (visible) lead in the range still shows its cost.
        keys += [name for name in campaigns if name not in groups]
    items = []
    total_cost = Decimal("0")
    for key in keys:
        campaign = campaigns.get(key) if key is not None else None
        cost = Decimal(campaign.cost) if campaign is not None else None
        if cost is not None:
            total_cost += cost
        items.append(
            {
                "key": None if key is None else str(key),
                "label": labels.get(key) if query.group == "user" else None,
                "campaign_id": campaign.id if campaign is not None else None,
                **figures(groups.get(key, empty), cost),
            }
        )
    items.sort(key=lambda item: (-item["leads"], item["key"] is None, item["key"] or ""))
    return {
        "group": query.group,
        "since": query.since,
        "until": query.until,
        "items": items,
        "total": figures(total or empty, total_cost if query.group == "campaign" else None),
    }


class _Empty:
    """The figures of a group without leads."""

    leads = contacted = converted = followups = 0
    lower_mid = upper_mid = None
    won = Decimal("0")
