"""Attendance (外勤考勤): clocking in and out from the phone, judged like check-ins, and the
company's work sites.

A clock-in is recorded where and when the phone says, with the check-ins' plausibility flags
(accuracy, mock location, clock skew, impossible speed from the caller's previous position —
their previous attendance record or check-in —, photo EXIF) and the attendance ones:
`outside_site` (farther from the nearest work site than its radius; only when the company
lists sites), `late` (the day's first clock-in after `workday_start`, on a working day),
`left_early` (a clock-out before `workday_end` of its day, on a working day) and `no_clock_in`
(a clock-out with no clock-in in the 24 hours before it). Flags never reject a record.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import errors, rules
from app.attendance.models import AttendanceRecord, AttendanceSite
from app.attendance.schemas import ClockIn, SiteCreate, SiteUpdate
from app.attendance.visibility import attendance_visibility
from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import savepoint
from app.fieldwork.checkins import rules as checkin_rules
from app.fieldwork.files import service as files
from app.fieldwork.models import Checkin, StoredFile
from app.fieldwork.periods import local_date
from app.org.settings import company_settings
from app.reports.visits import report_scope
from app.targets.measures import among

RECORD_TYPE = "attendance"
# A clock-out closes the latest clock-in at most this long before it.
SHIFT_MAX = timedelta(hours=24)


# ---------- clocking in and out ----------


async def _previous_position(
    session: AsyncSession, principal: Principal, at: datetime
) -> checkin_rules.PreviousCheckin | None:
    """The caller's last position at or before `at`: an attendance record or a check-in."""
    mine = union_all(
        select(
            AttendanceRecord.latitude,
            AttendanceRecord.longitude,
            AttendanceRecord.client_recorded_at,
        ).where(
            AttendanceRecord.company_id == principal.company_id,
            AttendanceRecord.user_id == principal.user_id,
            AttendanceRecord.client_recorded_at <= at,
        ),
        select(Checkin.latitude, Checkin.longitude, Checkin.client_recorded_at).where(
            Checkin.company_id == principal.company_id,
            Checkin.user_id == principal.user_id,
            Checkin.client_recorded_at <= at,
        ),
    ).subquery()
    row = (
        await session.execute(
            select(mine.c.latitude, mine.c.longitude, mine.c.client_recorded_at)
            .order_by(mine.c.client_recorded_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return checkin_rules.PreviousCheckin(row.latitude, row.longitude, row.client_recorded_at)


async def _photos(
    session: AsyncSession, principal: Principal, photo_ids: list[uuid.UUID]
) -> tuple[checkin_rules.Photo, ...]:
    if not photo_ids:
        return ()
    rows = await session.scalars(
        select(StoredFile).where(
            StoredFile.id.in_(photo_ids), StoredFile.company_id == principal.company_id
        )
    )
    return tuple(
        checkin_rules.Photo(f.taken_at, f.taken_latitude, f.taken_longitude)
        for f in rows
        if f.kind == "photo"
    )


async def _sites(session: AsyncSession, company_id: uuid.UUID) -> list[rules.Site]:
    rows = await session.execute(
        select(
            AttendanceSite.id,
            AttendanceSite.name,
            AttendanceSite.latitude,
            AttendanceSite.longitude,
            AttendanceSite.radius_m,
        ).where(AttendanceSite.company_id == company_id, AttendanceSite.deleted_at.is_(None))
    )
    return [rules.Site(r.id, r.name, r.latitude, r.longitude, r.radius_m) for r in rows]


def _mine(principal: Principal) -> tuple[ColumnElement[bool], ...]:
    return (
        AttendanceRecord.company_id == principal.company_id,
        AttendanceRecord.user_id == principal.user_id,
    )


async def _work_date_of_clock_out(
    session: AsyncSession, principal: Principal, at: datetime, time_zone: str
) -> tuple[date, bool]:
    """(the day a clock-out counts for, whether it closes a clock-in): the latest clock-in of
    the 24 hours before it, else its own local day (422 when that day's clock-in is later)."""
    opening = await session.scalar(
        select(AttendanceRecord.work_date)
        .where(
            *_mine(principal),
            AttendanceRecord.kind == "in",
            AttendanceRecord.client_recorded_at <= at,
            AttendanceRecord.client_recorded_at > at - SHIFT_MAX,
        )
        .order_by(AttendanceRecord.client_recorded_at.desc())
        .limit(1)
    )
    if opening is not None:
        return opening, True
    day = local_date(at, time_zone)
    later = await session.scalar(
        select(literal(True))
        .where(
            *_mine(principal),
            AttendanceRecord.kind == "in",
            AttendanceRecord.work_date == day,
            AttendanceRecord.client_recorded_at > at,
        )
        .limit(1)
    )
    if later:
        raise errors.clock_out_before_clock_in()
    return day, False


async def _first_of_day(
    session: AsyncSession, principal: Principal, day: date, at: datetime
) -> bool:
    """Whether a clock-in at `at` is the first of its day."""
    earlier = await session.scalar(
        select(literal(True))
        .where(
            *_mine(principal),
            AttendanceRecord.kind == "in",
            AttendanceRecord.work_date == day,
            AttendanceRecord.client_recorded_at < at,
        )
        .limit(1)
    )
    return not earlier


async def clock(
    session: AsyncSession, principal: Principal, data: ClockIn, kind: str
) -> tuple[AttendanceRecord, bool]:
    """Record a clock-in (`kind` "in") or clock-out ("out") of the caller: (record, created).
    A retry with the same id and body answers the record already made (409 `id_conflict`
    when the id is another record)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        AttendanceRecord,
        data.id,
        request_hash,
        lambda row: (
            row.company_id == principal.company_id
            and row.user_id == principal.user_id
            and row.kind == kind
        ),
    )
    if existing is not None:
        return existing, False
    settings = await company_settings(session, principal.company_id)
    zone = settings.time_zone
    latitude, longitude = data.location.wgs84()
    at = data.client_recorded_at
    received = now()
    facts = checkin_rules.CheckinFacts(
        latitude=latitude,
        longitude=longitude,
        accuracy_m=data.location.accuracy_m,
        client_recorded_at=at,
        received_at=received,
        offline=data.offline,
        mock_location=data.mock_location,
        customer_latitude=None,
        customer_longitude=None,
        previous=await _previous_position(session, principal, at),
        duplicate_position=False,
        photos=await _photos(session, principal, data.photo_ids),
    )
    flags = checkin_rules.plausibility_flags(facts, settings.checkins)
    nearest = rules.nearest_site(latitude, longitude, await _sites(session, principal.company_id))
    outside = rules.site_flag(nearest)
    if outside is not None:
        flags.append(outside)
    timing: dict[str, Any] | None = None
    if kind == "in":
        day = local_date(at, zone)
        if settings.is_working_day(day.isoweekday()) and await _first_of_day(
            session, principal, day, at
        ):
            timing = rules.late_flag(at, day, settings.workday_start, zone)
    else:
        day, closes = await _work_date_of_clock_out(session, principal, at, zone)
        if not closes:
            flags.append({"code": rules.NO_CLOCK_IN})
        if settings.is_working_day(day.isoweekday()):
            timing = rules.left_early_flag(at, day, settings.workday_end, zone)
    if timing is not None:
        flags.append(timing)
    record = AttendanceRecord(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        kind=kind,
        work_date=day,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=data.location.accuracy_m,
        submitted_crs=data.location.crs.value,
        client_recorded_at=at,
        received_at=received,
        offline=data.offline,
        mock_location=data.mock_location,
        device_id=data.device_id,
        note=data.note,
        site_id=nearest[0].id if nearest else None,
        site_distance_m=round(nearest[1], 1) if nearest else None,
        flags=flags,
        request_hash=request_hash,
        created_at=received,
    )
    try:
        async with savepoint(session):
            session.add(record)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    await files.attach_files(
        session, principal, data.photo_ids, RECORD_TYPE, record.id, field="photo_ids"
    )
    return record, True


# ---------- listing ----------


@dataclass(frozen=True)
class AttendanceFilters:
    since: date | None = None
    until: date | None = None
    user_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    flagged: bool | None = None


async def list_attendance(
    session: AsyncSession, principal: Principal, params: PageParams, filters: AttendanceFilters
) -> tuple[list[AttendanceRecord], str | None]:
    """Visible records, latest recorded first; `user` / `department` narrow the scope as the
    reports do (a rep: only themselves; another user or a department is 404)."""
    stmt = select(AttendanceRecord).where(attendance_visibility(principal))
    if filters.user_id is not None or filters.department_id is not None:
        users, _ = await report_scope(session, principal, filters.user_id, filters.department_id)
        stmt = stmt.where(among(AttendanceRecord.user_id, [u.id for u in users]))
    if filters.since is not None:
        stmt = stmt.where(AttendanceRecord.work_date >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AttendanceRecord.work_date <= filters.until)
    if filters.flagged is True:
        stmt = stmt.where(func.jsonb_array_length(AttendanceRecord.flags) > 0)
    elif filters.flagged is False:
        stmt = stmt.where(func.jsonb_array_length(AttendanceRecord.flags) == 0)
    stmt = paginate(stmt, AttendanceRecord.client_recorded_at, AttendanceRecord.id, params)
    rows = list((await session.execute(stmt)).scalars())
    return make_page(rows, params, key=lambda r: (r.client_recorded_at, r.id))


# ---------- work sites ----------


def _site_visible(principal: Principal) -> ColumnElement[bool]:
    return (AttendanceSite.company_id == principal.company_id) & AttendanceSite.deleted_at.is_(None)


async def list_sites(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[AttendanceSite], str | None]:
    stmt = select(AttendanceSite).where(_site_visible(principal))
    rows = list(
        (
            await session.execute(
                paginate(stmt, AttendanceSite.created_at, AttendanceSite.id, params)
            )
        ).scalars()
    )
    return make_page(rows, params)


async def get_site(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, *, lock: bool = False
) -> AttendanceSite:
    stmt = select(AttendanceSite).where(AttendanceSite.id == site_id, _site_visible(principal))
    if lock:
        stmt = stmt.with_for_update()
    site = await session.scalar(stmt)
    if site is None:
        raise not_found("work site")
    return site


async def create_site(
    session: AsyncSession, principal: Principal, data: SiteCreate
) -> tuple[AttendanceSite, bool]:
    """A new work site (admins; the router checks): (site, created)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        AttendanceSite,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.deleted_at is None,
    )
    if existing is not None:
        return existing, False
    latitude, longitude = data.location.wgs84()
    at = now()
    site = AttendanceSite(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        latitude=latitude,
        longitude=longitude,
        radius_m=data.radius_m,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(site)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    return site, True


async def update_site(
    session: AsyncSession,
    principal: Principal,
    site_id: uuid.UUID,
    data: SiteUpdate,
    if_match: str | None,
) -> AttendanceSite:
    """Edit a site (admins; If-Match required). Records already made keep their flags."""
    site = await get_site(session, principal, site_id, lock=True)
    check_if_match(if_match, site.version)
    if data.name is not None:
        site.name = data.name
    if data.location is not None:
        site.latitude, site.longitude = data.location.wgs84()
    if data.radius_m is not None:
        site.radius_m = data.radius_m
    site.version += 1
    site.updated_at = now()
    await session.flush()
    return site


async def delete_site(session: AsyncSession, principal: Principal, site_id: uuid.UUID) -> None:
    """Soft delete (admins): no longer judged against; records keep pointing at it."""
    site = await get_site(session, principal, site_id, lock=True)
    site.deleted_at = now()
    site.version += 1
    await session.flush()
