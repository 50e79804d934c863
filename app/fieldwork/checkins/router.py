"""HTTP: check-ins."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.geo import CRS
from app.core.location import location_out
from app.core.pagination import Page
from app.core.strict import QueryBool
from app.core.types import FilterTimestamp
from app.deps import Caller, Paging, Session
from app.fieldwork.checkins import service as checkins
from app.fieldwork.checkins.schemas import (
    CheckinCreate,
    CheckinOut,
    CheckoutIn,
    flags_out,
    summary_out,
)
from app.fieldwork.files import service as files
from app.fieldwork.models import Checkin

router = APIRouter()
CRS_QUERY = Query(CRS.WGS84, description="CRS of returned locations.")


def checkin_out(checkin: Checkin, photo_ids: list[uuid.UUID], crs: CRS = CRS.WGS84) -> CheckinOut:
    location = location_out(checkin.latitude, checkin.longitude, crs)
    assert location is not None
    return CheckinOut(
        id=checkin.id,
        user_id=checkin.user_id,
        customer_id=checkin.customer_id,
        location=location,
        accuracy_m=checkin.accuracy_m,
        submitted_crs=checkin.submitted_crs,
        client_recorded_at=checkin.client_recorded_at,
        received_at=checkin.received_at,
        offline=checkin.offline,
        purpose=checkin.purpose,
        note=checkin.note,
        photo_ids=photo_ids,
        mock_location=checkin.mock_location,
        device_id=checkin.device_id,
        distance_m=checkin.distance_m,
        flags=flags_out(checkin.flags),
        counts_as_followup=checkin.counts_as_followup,
        checked_out_at=checkin.checked_out_at,
        duration_s=checkin.duration_s,
        summary=summary_out(checkin.summary),
        created_at=checkin.created_at,
    )


@router.post(
    "/v1/checkins",
    status_code=201,
    response_model=CheckinOut,
    tags=["checkins"],
    summary="Check in at a customer",
    responses={
        200: {"model": CheckinOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def create_checkin(
    *,
    body: CheckinCreate,
    response: Response,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> CheckinOut:
    """Location in any CRS (stored as WGS-84). Plausibility flags never reject a check-in."""
    checkin, created = await checkins.create_checkin(session, principal, body)
    if created:  # attached in the order given, once each: no need to read them back
        photo_ids = list(dict.fromkeys(body.photo_ids))
    else:
        response.status_code = 200
        photo_ids = (await files.files_for(session, "checkin", [checkin.id])).get(checkin.id, [])
    return checkin_out(checkin, photo_ids, crs)


@router.get(
    "/v1/checkins",
    response_model=Page[CheckinOut],
    tags=["checkins"],
    summary="List check-ins",
    responses=problem_responses(401, 422),
)
async def list_checkins(
    *,
    params: Paging,
    user: uuid.UUID | None = Query(None),
    customer: uuid.UUID | None = Query(None),
    since: FilterTimestamp | None = Query(None, alias="from", description="Recorded at or after."),
    until: FilterTimestamp | None = Query(None, alias="to", description="Recorded before."),
    flagged: QueryBool | None = Query(
        None, description="Only flagged (true) or clean (false) check-ins."
    ),
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> Page[CheckinOut]:
    """Visible check-ins, newest first."""
    filters = {
        "user_id": user,
        "customer_id": customer,
        "since": since,
        "until": until,
        "flagged": flagged,
    }
    rows, next_cursor = await checkins.list_checkins(session, principal, params, filters)
    photos = await files.files_for(session, "checkin", [c.id for c in rows])
    return Page[CheckinOut](
        items=[checkin_out(c, photos.get(c.id, []), crs) for c in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/checkins/{checkin_id}",
    response_model=CheckinOut,
    tags=["checkins"],
    summary="Get a check-in",
    responses=problem_responses(401, 404, 422),
)
async def get_checkin(
    *,
    checkin_id: uuid.UUID,
    crs: CRS = CRS_QUERY,
    principal: Caller,
    session: Session,
) -> CheckinOut:
    """404 when not visible."""
    checkin = await checkins.get_checkin(session, principal, checkin_id)
    photo_ids = (await files.files_for(session, "checkin", [checkin.id])).get(checkin.id, [])
    return checkin_out(checkin, photo_ids, crs)


@router.post(
    "/v1/checkins/{checkin_id}/checkout",
    operation_id="checkOut",
    response_model=CheckinOut,
    tags=["checkins"],
    summary="Check out (close the visit)",
    responses=problem_responses(401, 403, 404, 422),
)
async def checkout(
    *,
    checkin_id: uuid.UUID,
    body: CheckoutIn | None = None,
    principal: Caller,
    session: Session,
) -> CheckinOut:
    """Records the visit's duration and, with `summary`, how it went (outcome, next step,
    competitors, order taken, money collected). Repeating it returns the closed visit
    unchanged — but for a summary on a visit closed without one, which is kept then."""
    checkin = await checkins.checkout(session, principal, checkin_id, body or CheckoutIn())
    photo_ids = (await files.files_for(session, "checkin", [checkin.id])).get(checkin.id, [])
    return checkin_out(checkin, photo_ids)
