"""HTTP: follow-ups."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.core.types import FilterTimestamp
from app.deps import Caller, Paging, Session
from app.fieldwork.files import service as files
from app.fieldwork.followups import service as followups
from app.fieldwork.followups.schemas import (
    FollowupCreate,
    FollowupKind,
    FollowupOut,
    FollowupUpdate,
)
from app.fieldwork.models import Followup
from app.retention import restore

router = APIRouter()


def followup_out(followup: Followup, attachment_ids: list[uuid.UUID]) -> FollowupOut:
    return FollowupOut(
        id=followup.id,
        user_id=followup.user_id,
        customer_id=followup.customer_id,
        lead_id=followup.lead_id,
        kind=followup.kind,
        text=followup.text,
        attachment_ids=attachment_ids,
        next_followup_at=followup.next_followup_at,
        checkin_id=followup.checkin_id,
        version=followup.version,
        created_at=followup.created_at,
        updated_at=followup.updated_at,
    )


@router.post(
    "/v1/followups",
    status_code=201,
    response_model=FollowupOut,
    tags=["followups"],
    summary="Add a follow-up record",
    responses={
        200: {"model": FollowupOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def create_followup(
    body: FollowupCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> FollowupOut:
    """Resets the customer's follow-up clock. Pool customers: 409 `customer_not_owned` for reps.
    With `lead_id` instead of `customer_id` (exactly one): a lead you own or manage the owner
    of (409 `lead_not_owned` in its pool); moves the lead's clock, status new → contacted."""
    followup, created = await followups.create_followup(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(followup.version)
    attachments = (await files.files_for(session, "followup", [followup.id])).get(followup.id, [])
    return followup_out(followup, attachments)


@router.get(
    "/v1/followups",
    response_model=Page[FollowupOut],
    tags=["followups"],
    summary="List follow-ups",
    responses=problem_responses(401, 422),
)
async def list_followups(
    *,
    params: Paging,
    customer: uuid.UUID | None = Query(None),
    lead_id: uuid.UUID | None = Query(None, description="Follow-ups on this lead."),
    user: uuid.UUID | None = Query(None),
    kind: FollowupKind | None = Query(None),
    since: FilterTimestamp | None = Query(None, alias="from"),
    until: FilterTimestamp | None = Query(None, alias="to"),
    principal: Caller,
    session: Session,
) -> Page[FollowupOut]:
    """Visible follow-ups, newest first."""
    filters = {
        "customer_id": customer,
        "lead_id": lead_id,
        "user_id": user,
        "kind": kind,
        "since": since,
        "until": until,
    }
    rows, next_cursor = await followups.list_followups(session, principal, params, filters)
    attachments = await files.files_for(session, "followup", [f.id for f in rows])
    return Page[FollowupOut](
        items=[followup_out(f, attachments.get(f.id, [])) for f in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/followups/{followup_id}",
    response_model=FollowupOut,
    tags=["followups"],
    summary="Get a follow-up",
    responses=problem_responses(401, 404, 422),
)
async def get_followup(
    followup_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> FollowupOut:
    """404 when not visible."""
    followup = await followups.get_followup(session, principal, followup_id)
    response.headers["ETag"] = etag_for(followup.version)
    attachments = (await files.files_for(session, "followup", [followup.id])).get(followup.id, [])
    return followup_out(followup, attachments)


@router.patch(
    "/v1/followups/{followup_id}",
    response_model=FollowupOut,
    tags=["followups"],
    summary="Edit a follow-up",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def update_followup(
    *,
    followup_id: uuid.UUID,
    body: FollowupUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> FollowupOut:
    """The author only; `If-Match` required (428 without, 412 when stale)."""
    followup = await followups.update_followup(session, principal, followup_id, body, if_match)
    response.headers["ETag"] = etag_for(followup.version)
    attachments = (await files.files_for(session, "followup", [followup.id])).get(followup.id, [])
    return followup_out(followup, attachments)


@router.delete(
    "/v1/followups/{followup_id}",
    status_code=204,
    tags=["followups"],
    summary="Delete a follow-up (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_followup(
    followup_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """The author or a manager."""
    await followups.delete_followup(session, principal, followup_id)
    return Response(status_code=204)


@router.post(
    "/v1/followups/{followup_id}/restore",
    operation_id="restoreFollowup",
    response_model=FollowupOut,
    tags=["followups"],
    summary="Restore a deleted follow-up",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def restore_followup(
    followup_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> FollowupOut:
    """Within the company's `restore_days`: admins and the managers above its author (403 for
    the author, who asks them). 409 `record_not_deleted`, `restore_window_passed`,
    `customer_deleted` (restore the customer first)."""
    followup = await restore.restore_followup(session, principal, followup_id)
    response.headers["ETag"] = etag_for(followup.version)
    attachments = (await files.files_for(session, "followup", [followup.id])).get(followup.id, [])
    return followup_out(followup, attachments)
