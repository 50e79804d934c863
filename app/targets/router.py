"""HTTP: targets: CRUD, split, suggestion."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.strict import QueryBool
from app.deps import Caller, Paging, Session
from app.targets import service as targets
from app.targets import suggest as suggestions
from app.targets.periods import PERIOD_PATTERN
from app.targets.schemas import (
    Measure,
    SplitIn,
    SplitOut,
    Subject,
    SuggestionOut,
    TargetCreate,
    TargetOut,
    TargetUpdate,
)
from app.targets.service import TargetFilters, TargetView

router = APIRouter(tags=["targets"])


def target_out(found: TargetView) -> TargetOut:
    """A target with its live figures and its snapshot."""
    target = found.target
    snapshot = target.snapshot_actual
    return TargetOut.model_validate(
        {
            "id": target.id,
            "subject": target.subject,
            "subject_id": target.subject_id,
            "measure": target.measure,
            "period": target.period,
            "period_kind": target.period_kind,
            "starts_on": target.starts_on,
            "ends_on": target.ends_on,
            "last_day": targets.period_of(target).last_day,
            "value": targets.figure(target.measure, target.value),
            "unallocated": found.unallocated,
            "parent_id": target.parent_id,
            "split_by": target.split_by,
            "split_method": target.split_method,
            "note": target.note,
            "actual": found.actual,
            "rate": found.rate,
            "snapshot_actual": None
            if snapshot is None
            else targets.figure(target.measure, snapshot),
            "snapshot_rate": target.snapshot_rate,
            "snapshot_at": target.snapshot_at,
            "created_by": target.created_by,
            "version": target.version,
            "created_at": target.created_at,
            "updated_at": target.updated_at,
        }
    )


@router.post(
    "/v1/targets",
    operation_id="createTarget",
    status_code=201,
    response_model=TargetOut,
    summary="Set a target",
    responses={
        200: {"model": TargetOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_target(
    body: TargetCreate, response: Response, principal: Caller, session: Session
) -> TargetOut:
    """Admins for the company, a department or a user; managers for a department of their
    subtree or a user in it (outside: 404; the company: 403); reps 403. One live target per
    (subject, measure, period): 409 `target_exists`. `period` in the company's fiscal calendar
    (422 `invalid_period`); counts are whole (422 `whole_number_required`)."""
    found, created = await targets.create_target(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(found.target.version)
    return target_out(found)


@router.get(
    "/v1/targets",
    operation_id="listTargets",
    response_model=Page[TargetOut],
    summary="List targets with their live and snapshot figures",
    responses=problem_responses(401, 422),
)
async def list_targets(
    *,
    params: Paging,
    period: str | None = Query(None, max_length=16, pattern=PERIOD_PATTERN),
    measure: Measure | None = Query(None),
    subject: Subject | None = Query(None),
    subject_id: uuid.UUID | None = Query(None),
    parent_id: uuid.UUID | None = Query(None, description="The children of a split target."),
    principal: Caller,
    session: Session,
) -> Response:
    """Newest first. Admins: the company's; managers: their subtree's and the departments
    above them; reps: their own and their departments'. Each with the live actual and rate
    beside the snapshot taken when the period closed."""
    filters = TargetFilters(
        period=period, measure=measure, subject=subject, subject_id=subject_id, parent_id=parent_id
    )
    found, next_cursor = await targets.list_targets(session, principal, params, filters)
    return json_response(
        Page[TargetOut](items=[target_out(item) for item in found], next_cursor=next_cursor)
    )


@router.get(
    "/v1/targets/suggest",
    operation_id="suggestTarget",
    response_model=SuggestionOut,
    summary="Suggest a target from history and customers",
    responses=problem_responses(401, 403, 404, 422),
)
async def suggest_target(
    *,
    subject: Subject = Query(),
    subject_id: uuid.UUID | None = Query(None, description="Omitted for the company."),
    measure: Measure = Query(),
    period: str = Query(max_length=16, pattern=PERIOD_PATTERN),
    principal: Caller,
    session: Session,
) -> SuggestionOut:
    """`base` = the average of the last 3 complete months before the period × 0.7 (× 3 for a
    quarter, × 12 for a year; a week or day by its days); `increment` = target − base;
    `expected` = customers held × average order value (money measures); `gap` = target −
    expected. For subjects whose targets the caller reads (the company: admins)."""
    targets.consistent_subject(subject, subject_id)
    found = await suggestions.suggest(session, principal, subject, subject_id, measure, period)
    return SuggestionOut.model_validate(found)


@router.get(
    "/v1/targets/{target_id}",
    operation_id="getTarget",
    response_model=TargetOut,
    summary="Get a target",
    responses=problem_responses(401, 404, 422),
)
async def get_target(
    target_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> TargetOut:
    """404 when deleted or not visible."""
    found = await targets.view(session, await targets.get_target(session, principal, target_id))
    response.headers["ETag"] = etag_for(found.target.version)
    return target_out(found)


@router.patch(
    "/v1/targets/{target_id}",
    operation_id="updateTarget",
    response_model=TargetOut,
    summary="Edit a target's value or note",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_target(
    *,
    target_id: uuid.UUID,
    body: TargetUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> TargetOut:
    """`If-Match` required (428 without, 412 when stale). Editing a split child leaves the
    parent's value as it is: the parent's `unallocated` shows the difference."""
    found = await targets.update_target(session, principal, target_id, body, if_match)
    response.headers["ETag"] = etag_for(found.target.version)
    return target_out(found)


@router.delete(
    "/v1/targets/{target_id}",
    operation_id="deleteTarget",
    status_code=204,
    summary="Delete a target (soft)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_target(
    target_id: uuid.UUID,
    principal: Caller,
    session: Session,
    cascade: QueryBool = Query(False, description="Delete its children (and theirs) too."),
) -> Response:
    """A target with live children is 409 `target_has_children` unless `cascade=true`."""
    await targets.delete_target(session, principal, target_id, cascade=cascade)
    return Response(status_code=204)


@router.post(
    "/v1/targets/{target_id}/split",
    operation_id="splitTarget",
    status_code=201,
    response_model=SplitOut,
    summary="Split a target into periods or subjects",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def split_target(
    target_id: uuid.UUID, body: SplitIn, principal: Caller, session: Session
) -> SplitOut:
    """by=period: a year into quarters or months, a quarter into months, a month into weeks
    (ISO weeks whose Thursday is in it) or days (with `split_working_days_only`, working days
    only), a week into days. by=subject: the company into its top-level departments, a
    department into its direct sub-departments and direct members. Methods: `even`,
    `weights` (per child key), `last_year` (each child's actual a year earlier; all 0 is 422
    `no_history`). Children add up exactly to the target: shares rounded down to the fen
    (counts: whole), the remainder on the last. Split already: 409 `already_split` unless
    `replace: true`; a child that exists already: 409 `target_exists`."""
    children = await targets.split_target(session, principal, target_id, body)
    return SplitOut(items=[target_out(child) for child in children])
