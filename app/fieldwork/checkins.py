"""Check-ins (签到): recorded where they happen, judged honestly, filed under the customer."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.errors import ProblemError, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import load_customer
from app.customers.activity import record_followup_activity
from app.feed import publish
from app.fieldwork import files, rules
from app.fieldwork.models import Checkin, StoredFile
from app.fieldwork.schemas import CheckinCreate, CheckoutIn
from app.fieldwork.visibility import record_visibility
from app.org.models import Company


async def _previous(
    session: AsyncSession, user_id: uuid.UUID, before: datetime
) -> rules.PreviousCheckin | None:
    row = (
        await session.execute(
            select(Checkin.latitude, Checkin.longitude, Checkin.client_recorded_at)
            .where(Checkin.user_id == user_id, Checkin.client_recorded_at <= before)
            .order_by(Checkin.client_recorded_at.desc())
            .limit(1)
        )
    ).first()
    return rules.PreviousCheckin(*row) if row else None


async def _duplicate_position(
    session: AsyncSession, company: Company, key: str, customer_id: uuid.UUID, recorded_at: datetime
) -> bool:
    """Identical coordinates as an earlier check-in at another customer or on another day."""
    zone = ZoneInfo(company.time_zone)
    local_day = recorded_at.astimezone(zone).date()
    same_day = func.date(func.timezone(company.time_zone, Checkin.client_recorded_at)) == local_day
    found = await session.scalar(
        select(Checkin.id)
        .where(Checkin.company_id == company.id, Checkin.position_key == key)
        .where((Checkin.customer_id != customer_id) | ~same_day)
        .limit(1)
    )
    return found is not None


async def _photos(
    session: AsyncSession, principal: Principal, photo_ids: list[uuid.UUID]
) -> tuple[rules.Photo, ...]:
    if not photo_ids:
        return ()
    rows = (
        await session.execute(
            select(StoredFile).where(
                StoredFile.id.in_(photo_ids), StoredFile.company_id == principal.company_id
            )
        )
    ).scalars()
    return tuple(
        rules.Photo(f.taken_at, f.taken_latitude, f.taken_longitude)
        for f in rows
        if f.kind == "photo"
    )


async def create_checkin(
    session: AsyncSession, principal: Principal, data: CheckinCreate
) -> tuple[Checkin, bool]:
    """Record a check-in at a visible customer; flags are computed, never rejected."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Checkin,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.user_id == principal.user_id,
    )
    if existing is not None:
        return existing, False
    access = await load_customer(session, principal, data.customer_id)
    customer = access.customer
    company = await session.get(Company, principal.company_id)
    limits = rules.CheckinThresholds.from_settings(company.settings)
    received = now()
    latitude, longitude = data.location.wgs84()
    key = rules.position_key(latitude, longitude)
    facts = rules.CheckinFacts(
        latitude=latitude,
        longitude=longitude,
        accuracy_m=data.location.accuracy_m,
        client_recorded_at=data.client_recorded_at,
        received_at=received,
        offline=data.offline,
        mock_location=data.mock_location,
        customer_latitude=customer.latitude,
        customer_longitude=customer.longitude,
        previous=await _previous(session, principal.user_id, data.client_recorded_at),
        duplicate_position=await _duplicate_position(
            session, company, key, customer.id, data.client_recorded_at
        ),
        photos=await _photos(session, principal, data.photo_ids),
    )
    flags = rules.plausibility_flags(facts, limits)
    distance = rules.distance_to_customer(facts)
    counts = rules.counts_as_followup(flags, limits)
    checkin = Checkin(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        customer_id=customer.id,
        latitude=latitude,
        longitude=longitude,
        position_key=key,
        accuracy_m=data.location.accuracy_m,
        submitted_crs=data.location.crs.value,
        client_recorded_at=data.client_recorded_at,
        received_at=received,
        offline=data.offline,
        purpose=data.purpose,
        note=data.note,
        mock_location=data.mock_location,
        device_id=data.device_id,
        distance_m=round(distance, 1) if distance is not None else None,
        flags=flags,
        counts_as_followup=counts,
        request_hash=request_hash,
        created_at=received,
    )
    session.add(checkin)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ProblemError(409, "id_conflict", "A record with this id already exists.") from exc
    await files.attach_files(
        session, principal, data.photo_ids, "checkin", checkin.id, field="photo_ids"
    )
    if counts:
        # The visit happened at the phone's time, but never later than we heard of it.
        await record_followup_activity(session, customer.id, min(data.client_recorded_at, received))
    await publish.record_added(
        session,
        principal,
        kind="checkin",
        record_id=checkin.id,
        customer_id=customer.id,
        summary={
            "purpose": data.purpose,
            "distance_m": checkin.distance_m,
            "flags": [flag["code"] for flag in flags],
            "text": publish.excerpt(data.note),
        },
        event_type="checkin.created",
        created_at=received,
    )
    await session.commit()
    return checkin, True


async def get_checkin(
    session: AsyncSession, principal: Principal, checkin_id: uuid.UUID
) -> Checkin:
    """One visible check-in, or 404."""
    checkin = await session.scalar(
        select(Checkin).where(Checkin.id == checkin_id, record_visibility(principal, Checkin))
    )
    if checkin is None:
        raise not_found("check-in")
    return checkin


async def checkout(
    session: AsyncSession, principal: Principal, checkin_id: uuid.UUID, data: CheckoutIn
) -> Checkin:
    """Close the visit (author only); a repeated checkout returns the closed visit unchanged."""
    checkin = await get_checkin(session, principal, checkin_id)
    if checkin.user_id != principal.user_id:
        raise ProblemError(403, "forbidden", "Only the rep who checked in can check out.")
    if checkin.checked_out_at is not None:
        return checkin
    at = data.client_recorded_at or now()
    if at < checkin.client_recorded_at:
        raise ProblemError(
            422,
            "checkout_before_checkin",
            "Check-out cannot be earlier than the check-in.",
            errors=[
                {
                    "loc": ["body", "client_recorded_at"],
                    "msg": "before check-in",
                    "type": "value_error",
                }
            ],
        )
    checkin.checked_out_at = at
    checkin.duration_s = int((at - checkin.client_recorded_at).total_seconds())
    await session.commit()
    return checkin


async def list_checkins(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[Checkin], str | None]:
    """Visible check-ins, newest first; `flagged=true` is the manager's review queue."""
    stmt = select(Checkin).where(record_visibility(principal, Checkin))
    if filters.get("user_id"):
        stmt = stmt.where(Checkin.user_id == filters["user_id"])
    if filters.get("customer_id"):
        stmt = stmt.where(Checkin.customer_id == filters["customer_id"])
    if filters.get("since"):
        stmt = stmt.where(Checkin.client_recorded_at >= filters["since"])
    if filters.get("until"):
        stmt = stmt.where(Checkin.client_recorded_at < filters["until"])
    if filters.get("flagged") is True:
        stmt = stmt.where(func.jsonb_array_length(Checkin.flags) > 0)
    elif filters.get("flagged") is False:
        stmt = stmt.where(func.jsonb_array_length(Checkin.flags) == 0)
    rows = list(
        (await session.execute(paginate(stmt, Checkin.created_at, Checkin.id, params))).scalars()
    )
    return make_page(rows, params)
