"""HTTP: attendance — clocking in and out, the work sites, the monthly sheet."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.attendance import service as attendance
from app.attendance.models import AttendanceRecord, AttendanceSite
from app.attendance.report import attendance_sheet
from app.attendance.schemas import (
    AttendanceOut,
    AttendanceSheet,
    ClockIn,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from app.attendance.service import AttendanceFilters
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.geo import CRS
from app.core.location import location_out
from app.core.pagination import Page
from app.core.strict import QueryBool
from app.core.types import BusinessDate
from app.deps import AdminCaller, Caller, Paging, Session
from app.fieldwork.checkins.schemas import flags_out
from app.fieldwork.files import service as files
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response

router = APIRouter()
CRS_QUERY = Query(CRS.WGS84, description="CRS of returned locations.")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
SHEET_COLUMNS = (
    "kind",
    "id",
    "name",
    "parent_id",
    "level",
    "people",
    "working_days",
    "days_worked",
    "late",
    "left_early",
    "absent",
    "hours",
    "flagged",
)


def attendance_out(
    record: AttendanceRecord, photo_ids: list[uuid.UUID], crs: CRS = CRS.WGS84
) -> AttendanceOut:
    location = location_out(record.latitude, record.longitude, crs)
    assert location is not None
    return AttendanceOut(
        id=record.id,
        user_id=record.user_id,
        kind="in" if record.kind == "in" else "out",
        work_date=record.work_date,
        location=location,
        accuracy_m=record.accuracy_m,
        submitted_crs=record.submitted_crs,
        client_recorded_at=record.client_recorded_at,
        received_at=record.received_at,
        offline=record.offline,
        mock_location=record.mock_location,
        photo_ids=photo_ids,
        note=record.note,
        device_id=record.device_id,
        site_id=record.site_id,
        site_distance_m=record.site_distance_m,
        flags=flags_out(record.flags),
        created_at=record.created_at,
    )


def site_out(site: AttendanceSite, response: Response | None = None) -> SiteOut:
    if response is not None:
        response.headers["ETag"] = etag_for(site.version)
    location = location_out(site.latitude, site.longitude, CRS.WGS84)
    assert location is not None
    return SiteOut(
        id=site.id,
        name=site.name,
        location=location,
        radius_m=site.radius_m,
        version=site.version,
        created_at=site.created_at,
        updated_at=site.updated_at,
    )


async def _clock(
    body: ClockIn, response: Response, crs: CRS, kind: str, principal: Caller, session: Session
) -> AttendanceOut:
    record, created = await attendance.clock(session, principal, body, kind)
    if created:
        photo_ids = list(dict.fromkeys(body.photo_ids))
    else:
        response.status_code = 200
        photo_ids = (await files.files_for(session, attendance.RECORD_TYPE, [record.id])).get(
            record.id, []
        )
    return attendance_out(record, photo_ids, crs)


CLOCK_RESPONSES = {
    200: {"model": AttendanceOut, "description": "Retry with the same id and body"},
    **problem_responses(401, 409, 422),
}


@router.post(
    "/v1/attendance/clock-in",
    operation_id="clockIn",
    status_code=201,
    response_model=AttendanceOut,
    tags=["attendance"],
    summary="Clock in (start of the field day)",
    responses=CLOCK_RESPONSES,
)
async def clock_in(
    *,
    body: ClockIn,
    response: Response,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> AttendanceOut:
    """Location in any CRS (stored as WGS-84), the phone's time, optional photos. Flagged, never
    rejected: the check-ins' plausibility flags (accuracy, mock location, clock skew, impossible
    speed from the previous clock record or check-in, photo EXIF) with their figures;
    `outside_site` (distance and radius of the nearest work site, when the company lists
    sites); `late` (the day's first clock-in after the company's `workday_start`, on a working
    day: minutes late). Counts for its company-local day."""
    return await _clock(body, response, crs, "in", principal, session)


@router.post(
    "/v1/attendance/clock-out",
    operation_id="clockOut",
    status_code=201,
    response_model=AttendanceOut,
    tags=["attendance"],
    summary="Clock out (end of the field day)",
    responses=CLOCK_RESPONSES,
)
async def clock_out(
    *,
    body: ClockIn,
    response: Response,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> AttendanceOut:
    """Closes the latest clock-in of the 24 hours before it and counts for its day (after
    midnight too); without one, `no_clock_in` and its own day (422
    `clock_out_before_clock_in` when that day's clock-in is later). `left_early` before the
    company's `workday_end` on a working day (minutes early); the clock-in's other flags."""
    return await _clock(body, response, crs, "out", principal, session)


@router.get(
    "/v1/attendance",
    operation_id="listAttendance",
    response_model=Page[AttendanceOut],
    tags=["attendance"],
    summary="List attendance records",
    responses=problem_responses(401, 404, 422),
)
async def list_attendance(
    *,
    params: Paging,
    since: BusinessDate | None = Query(None, alias="from", description="First work day."),
    until: BusinessDate | None = Query(None, alias="to", description="Last work day, inclusive."),
    user: uuid.UUID | None = Query(None, description="Only this user (a rep: only themselves)."),
    department: uuid.UUID | None = Query(
        None, description="Only this department's subtree (managers and admins)."
    ),
    flagged: QueryBool | None = Query(None, description="Only flagged (true) or clean (false)."),
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> Page[AttendanceOut]:
    """Latest recorded first. Reps see their own, managers their department subtree's people,
    admins the company; another user or a department outside that is 404."""
    filters = AttendanceFilters(since, until, user, department, flagged)
    rows, next_cursor = await attendance.list_attendance(session, principal, params, filters)
    photos = await files.files_for(session, attendance.RECORD_TYPE, [r.id for r in rows])
    return Page[AttendanceOut](
        items=[attendance_out(r, photos.get(r.id, []), crs) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/attendance/sites",
    operation_id="listAttendanceSites",
    response_model=Page[SiteOut],
    tags=["attendance"],
    summary="List work sites",
    responses=problem_responses(401, 422),
)
async def list_attendance_sites(
    params: Paging, principal: Caller, session: Session
) -> Page[SiteOut]:
    """Every member reads them (the phone shows where to clock in); newest first."""
    rows, next_cursor = await attendance.list_sites(session, principal, params)
    return Page[SiteOut](items=[site_out(s) for s in rows], next_cursor=next_cursor)


@router.post(
    "/v1/attendance/sites",
    operation_id="createAttendanceSite",
    status_code=201,
    response_model=SiteOut,
    tags=["attendance"],
    summary="Add a work site",
    responses={
        200: {"model": SiteOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_attendance_site(
    body: SiteCreate, response: Response, principal: AdminCaller, session: Session
) -> SiteOut:
    """Admins. A clock-in farther than `radius_m` from the nearest site is `outside_site`."""
    site, created = await attendance.create_site(session, principal, body)
    if not created:
        response.status_code = 200
    return site_out(site, response)


@router.get(
    "/v1/attendance/sites/{site_id}",
    operation_id="getAttendanceSite",
    response_model=SiteOut,
    tags=["attendance"],
    summary="Get a work site",
    responses=problem_responses(401, 404, 422),
)
async def get_attendance_site(
    site_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> SiteOut:
    """404 when deleted."""
    return site_out(await attendance.get_site(session, principal, site_id), response)


@router.patch(
    "/v1/attendance/sites/{site_id}",
    operation_id="updateAttendanceSite",
    response_model=SiteOut,
    tags=["attendance"],
    summary="Edit a work site",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_attendance_site(
    *,
    site_id: uuid.UUID,
    body: SiteUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> SiteOut:
    """Admins; `If-Match` required (428 without, 412 when stale). Records already made keep
    the flags they were given."""
    site = await attendance.update_site(session, principal, site_id, body, if_match)
    return site_out(site, response)


@router.delete(
    "/v1/attendance/sites/{site_id}",
    operation_id="deleteAttendanceSite",
    status_code=204,
    tags=["attendance"],
    summary="Delete a work site (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_attendance_site(
    site_id: uuid.UUID, principal: AdminCaller, session: Session
) -> Response:
    """Admins. No longer judged against; records keep pointing at it."""
    await attendance.delete_site(session, principal, site_id)
    return Response(status_code=204)


@router.get(
    "/v1/reports/attendance",
    operation_id="getAttendanceReport",
    response_model=AttendanceSheet,
    tags=["reports"],
    summary="The monthly attendance sheet per person",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_attendance_report(
    *,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="`YYYY-MM`; default this month (company time)."),
    ] = None,
    user: uuid.UUID | None = Query(None, description="Only this user (a rep: only themselves)."),
    department: uuid.UUID | None = Query(
        None, description="Only this department's subtree (managers and admins)."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> AttendanceSheet | Response:
    """Per person and rolled up the department tree (company → department → person, rows with
    `parent_id` and `level`): working days, days worked, late, left early, absent, hours,
    flagged records. Absent days are derived (past working days without attendance), not
    stored. With the company's `checkins_count_as_attendance`, a day with a check-in that
    counts as a visit is a day worked. Scope: reps themselves, managers their subtree, admins
    the company; `department` / `user` narrow it (404 when not visible)."""
    sheet = AttendanceSheet(**await attendance_sheet(session, principal, month, user, department))
    if format == "csv":
        rows = [[getattr(r, c) for c in SHEET_COLUMNS] for r in sheet.rows]
        return csv_response(f"attendance-{sheet.month}.csv", SHEET_COLUMNS, rows)
    return sheet
