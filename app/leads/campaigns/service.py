"""Campaigns: admins write them (name, source, cost), everyone reads them."""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import savepoint
from app.leads import errors
from app.leads.campaigns.schemas import CampaignCreate, CampaignUpdate
from app.leads.models import Campaign


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise forbidden("Only admins manage campaigns.")


async def create_campaign(
    session: AsyncSession, principal: Principal, data: CampaignCreate
) -> tuple[Campaign, bool]:
    """A new campaign (client id: a retry with the same body answers it, 200)."""
    _admin(principal)
    cost = data.cost if data.cost is not None else Decimal("0")
    if data.id is not None:
        existing = await session.get(Campaign, data.id)
        if existing is not None:
            same = (
                existing.company_id == principal.company_id
                and existing.deleted_at is None
                and (existing.name, existing.source, existing.cost)
                == (data.name, data.source, cost)
            )
            if same:
                return existing, False
            raise client_ids.id_conflict()
    at = now()
    campaign = Campaign(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        source=data.source,
        cost=cost,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(campaign)
    except IntegrityError as exc:
        raise errors.duplicate_campaign(data.name) from exc
    return campaign, True


async def get_campaign(
    session: AsyncSession, principal: Principal, campaign_id: uuid.UUID, *, lock: bool = False
) -> Campaign:
    stmt = select(Campaign).where(
        Campaign.id == campaign_id,
        Campaign.company_id == principal.company_id,
        Campaign.deleted_at.is_(None),
    )
    if lock:
        stmt = stmt.with_for_update()
    campaign = (await session.execute(stmt)).scalar_one_or_none()
    if campaign is None:
        raise not_found("campaign")
    return campaign


async def list_campaigns(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Campaign], str | None]:
    stmt = select(Campaign).where(
        Campaign.company_id == principal.company_id, Campaign.deleted_at.is_(None)
    )
    rows = list(
        (await session.execute(paginate(stmt, Campaign.created_at, Campaign.id, params))).scalars()
    )
    return make_page(rows, params)


async def update_campaign(
    session: AsyncSession,
    principal: Principal,
    campaign_id: uuid.UUID,
    data: CampaignUpdate,
    if_match: str | None,
) -> Campaign:
    _admin(principal)
    campaign = await get_campaign(session, principal, campaign_id, lock=True)
    check_if_match(if_match, campaign.version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    if "cost" in changes and changes["cost"] is None:
        changes["cost"] = Decimal("0")
    try:
        async with savepoint(session):
            for key, value in changes.items():
                setattr(campaign, key, value)
            campaign.version += 1
            campaign.updated_at = now()
    except IntegrityError as exc:
        raise errors.duplicate_campaign(str(changes.get("name"))) from exc
    return campaign


async def delete_campaign(
    session: AsyncSession, principal: Principal, campaign_id: uuid.UUID
) -> None:
    """Soft delete (leads keep the campaign's name)."""
    _admin(principal)
    campaign = await get_campaign(session, principal, campaign_id, lock=True)
    campaign.deleted_at = now()
    campaign.version += 1
    await session.flush()
