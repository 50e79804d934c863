"""Check-ins (签到): recorded where they happen, judged honestly, filed under the customer."""

import uuid
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Uuid,
    bindparam,
    exists,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import customer_visibility
from app.customers.clock import refresh_recycle_clock
from app.customers.models import Collaborator, Customer
from app.db import AnyRow, AnySelect, table_of
from app.feed import publish
from app.fieldwork import errors
from app.fieldwork.checkins import rules
from app.fieldwork.checkins.schemas import CheckinCreate, CheckoutIn
from app.fieldwork.files import service as files
from app.fieldwork.models import Checkin, StoredFile
from app.fieldwork.visibility import record_visibility
from app.org.models import Company, User
from app.org.settings import CompanySettings


@lru_cache(maxsize=256)
def _context_statement(role: str, department_path: str | None, with_id: bool) -> AnySelect:
    """Everything a check-in decides on, in one round trip: the customer (under the one
    visibility rule, else no row), the company's time zone and thresholds, the caller's
    previous check-in (impossible speed), whether the position repeats an earlier check-in
    at another customer or on another local day, whether the client id is already taken, the
    caller's name and the customer's collaborators (the feed item and the alert).

    Built once per shape (building it costs more than running it): the caller's ids are
    parameters (user_id, company_id), the role and department path shape the visibility
    rule; also customer_id, position_key, recorded_at and, `with_id`, checkin_id.
    """
    # The visibility rules only compare the caller's ids with columns, so bind parameters
    # stand in for them here.
    caller = Principal(
        user_id=cast(uuid.UUID, bindparam("user_id", type_=Uuid())),
        company_id=cast(uuid.UUID, bindparam("company_id", type_=Uuid())),
        role=role,
        department_id=None,
        department_path=department_path,
        locale="en",
    )
    recorded_at = bindparam("recorded_at", type_=DateTime(timezone=True))
    previous = (
        select(Checkin.latitude, Checkin.longitude, Checkin.client_recorded_at)
        .where(Checkin.user_id == caller.user_id, Checkin.client_recorded_at <= recorded_at)
        .order_by(Checkin.client_recorded_at.desc())
        .limit(1)
        .lateral("previous")
    )
    same_day = func.date(func.timezone(Company.time_zone, Checkin.client_recorded_at)) == func.date(
        func.timezone(Company.time_zone, recorded_at)
    )
    duplicate_position = exists().where(
        Checkin.company_id == caller.company_id,
        Checkin.position_key == bindparam("position_key", type_=String()),
        (Checkin.customer_id != Customer.id) | ~same_day,
    )
    replayed = (
        exists().where(Checkin.id == bindparam("checkin_id", type_=Uuid())) if with_id else false()
    )
    return (
        select(
            Customer.id,
            Customer.name,
            Customer.latitude,
            Customer.longitude,
            Customer.owner_id,
            Company.time_zone,
            Company.settings,
            previous.c.latitude.label("previous_latitude"),
            previous.c.longitude.label("previous_longitude"),
            previous.c.client_recorded_at.label("previous_recorded_at"),
            duplicate_position.label("duplicate_position"),
            replayed.label("replayed"),
            select(User.name).where(User.id == caller.user_id).scalar_subquery().label("actor"),
            select(func.array_agg(Collaborator.user_id))
            .where(Collaborator.customer_id == Customer.id)
            .scalar_subquery()
            .label("collaborators"),
        )
        .select_from(Customer)
        .join(Company, Company.id == Customer.company_id)
        .outerjoin(previous, true())
        .where(Customer.id == bindparam("customer_id", type_=Uuid()), customer_visibility(caller))
    )


async def _context(
    session: AsyncSession, principal: Principal, data: CheckinCreate, key: str
) -> AnyRow | None:
    path = principal.department_path if principal.is_manager else None
    statement = _context_statement(principal.role, path, data.id is not None)
    params = {
        "user_id": principal.user_id,
        "company_id": principal.company_id,
        "customer_id": data.customer_id,
        "position_key": key,
        "recorded_at": data.client_recorded_at,
    }
    if data.id is not None:
        params["checkin_id"] = data.id
    return (await session.execute(statement, params)).first()


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


_INSERT_CHECKIN = (
    insert(table_of(Checkin))
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(table_of(Checkin).c.id)
)


async def create_checkin(
    session: AsyncSession, principal: Principal, data: CheckinCreate
) -> tuple[Checkin, bool]:
    """Record a check-in at a visible customer; flags are computed, never rejected.

    Round trips in the common case (no photos): the context read, the INSERT, the clock,
    then the feed item, alert and webhook outbox of `publish.record_added`, and the COMMIT
    at the edge (`app.db.get_session`).
    """
    request_hash = client_ids.request_hash(data)
    latitude, longitude = data.location.wgs84()
    key = rules.position_key(latitude, longitude)
    context = await _context(session, principal, data, key)
    if context is None or context.replayed:
        # A retry answers as before, even for a customer the caller can no longer see.
        existing = await client_ids.replayed(
            session,
            Checkin,
            data.id,
            request_hash,
            lambda row: row.company_id == principal.company_id and row.user_id == principal.user_id,
        )
        if existing is not None:
            return existing, False
        raise not_found("customer")
    limits = CompanySettings.of(context.time_zone, context.settings).checkins
    received = now()
    previous = (
        rules.PreviousCheckin(
            context.previous_latitude, context.previous_longitude, context.previous_recorded_at
        )
        if context.previous_recorded_at is not None
        else None
    )
    facts = rules.CheckinFacts(
        latitude=latitude,
        longitude=longitude,
        accuracy_m=data.location.accuracy_m,
        client_recorded_at=data.client_recorded_at,
        received_at=received,
        offline=data.offline,
        mock_location=data.mock_location,
        customer_latitude=context.latitude,
        customer_longitude=context.longitude,
        previous=previous,
        duplicate_position=context.duplicate_position,
        photos=await _photos(session, principal, data.photo_ids),
    )
    flags = rules.plausibility_flags(facts, limits)
    distance = rules.distance_to_customer(facts)
    counts = rules.counts_as_followup(flags, limits)
    checkin = Checkin(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        customer_id=context.id,
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
        checked_out_at=None,
        duration_s=None,
        request_hash=request_hash,
        created_at=received,
    )
    # A Core INSERT (the object above is the response, never flushed): an id taken meanwhile
    # is a conflict without a SAVEPOINT.
    columns = {c.key: getattr(checkin, c.key) for c in table_of(Checkin).c if c.key != "location"}
    inserted = await session.scalar(_INSERT_CHECKIN, columns)
    if inserted is None:
        raise client_ids.id_conflict()
    await files.attach_files(
        session, principal, data.photo_ids, "checkin", checkin.id, field="photo_ids"
    )
    if counts:
        # The visit happened at the phone's time, but never later than we heard of it.
        await refresh_recycle_clock(
            session, context.id, followup_at=min(data.client_recorded_at, received)
        )
    await publish.record_added(
        session,
        principal,
        kind="checkin",
        record_id=checkin.id,
        customer_id=context.id,
        summary={
            "purpose": data.purpose,
            "distance_m": checkin.distance_m,
            "flags": [flag["code"] for flag in flags],
            "text": publish.excerpt(data.note),
        },
        event_type="checkin.created",
        created_at=received,
        known=publish.Around(
            customer_name=context.name,
            people=[uid for uid in [context.owner_id, *(context.collaborators or [])] if uid],
            actor_name=context.actor or "?",
        ),
    )
    await session.flush()
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
    """Close the visit (author only), decided once in the database: the first check-out is
    stored, and every other one — repeated or concurrent — returns the visit as it was closed
    (200 with the stored time, like a replay). The visit summary is kept with the first
    check-out that gives one (a visit closed without one may get it later, once)."""
    checkin = await get_checkin(session, principal, checkin_id)
    if checkin.user_id != principal.user_id:
        raise forbidden("Only the rep who checked in can check out.")
    summary = data.summary.stored() if data.summary is not None else None
    if checkin.checked_out_at is not None:
        if summary is not None and checkin.summary is None:
            await _add_summary(session, checkin, summary)
        return checkin
    at = data.client_recorded_at or now()
    if at < checkin.client_recorded_at:
        raise errors.checkout_before_checkin()
    params = {
        "checkin_id": checkin.id,
        "at": at,
        "duration_s": int((at - checkin.client_recorded_at).total_seconds()),
        "summary": summary,
    }
    closed = (
        await session.execute(_CHECKOUT, params, execution_options={"synchronize_session": False})
    ).first()
    if closed is None:
        # Closed meanwhile: the UPDATE waited for that transaction and found the row closed.
        await session.refresh(checkin, ["checked_out_at", "duration_s", "summary"])
        if summary is not None and checkin.summary is None:
            await _add_summary(session, checkin, summary)
    else:
        set_committed_value(checkin, "checked_out_at", closed.checked_out_at)
        set_committed_value(checkin, "duration_s", closed.duration_s)
        set_committed_value(checkin, "summary", closed.summary)
    return checkin


async def _add_summary(session: AsyncSession, checkin: Checkin, summary: dict[str, Any]) -> None:
    """The summary of a visit closed without one: kept once, never replacing another."""
    kept = await session.scalar(
        _ADD_SUMMARY,
        {"checkin_id": checkin.id, "summary": summary},
        execution_options={"synchronize_session": False},
    )
    if kept is None:
        await session.refresh(checkin, ["summary"])
    else:
        set_committed_value(checkin, "summary", kept)


# Only an open visit is closed: of concurrent check-outs, one UPDATE changes the row and the
# others (after waiting on its row lock, re-checking the condition) change nothing.
_CHECKOUT = (
    update(Checkin)
    .where(
        Checkin.id == bindparam("checkin_id", type_=Uuid()),
        Checkin.checked_out_at.is_(None),
    )
    .values(
        checked_out_at=bindparam("at", type_=DateTime(timezone=True)),
        duration_s=bindparam("duration_s", type_=Integer()),
        summary=bindparam("summary", type_=JSONB(none_as_null=True)),
    )
    .returning(Checkin.checked_out_at, Checkin.duration_s, Checkin.summary)
)
_ADD_SUMMARY = (
    update(Checkin)
    .where(Checkin.id == bindparam("checkin_id", type_=Uuid()), Checkin.summary.is_(None))
    .values(summary=bindparam("summary", type_=JSONB()))
    .returning(Checkin.summary)
)


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
