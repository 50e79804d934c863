"""HTTP: work logs."""

import uuid

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.core.types import BusinessDate
from app.deps import Caller, Paging, Session
from app.fieldwork.files import service as files
from app.fieldwork.logs import service as logs
from app.fieldwork.logs.schemas import LogCreate, LogFigures, LogOut, LogUpdate, Period
from app.fieldwork.models import WorkLog
from app.retention import restore

router = APIRouter()
RETRY = "Retry with the same id and body"


async def logs_out(session: AsyncSession, rows: list[WorkLog]) -> list[LogOut]:
    ids = [log.id for log in rows]
    customers = await logs.linked_customers(session, ids)
    attachments = await files.files_for(session, "log", ids)
    return [
        LogOut(
            id=log.id,
            user_id=log.user_id,
            period=log.period,
            period_start=log.period_start,
            text=log.text,
            customer_ids=customers.get(log.id, []),
            attachment_ids=attachments.get(log.id, []),
            figures=LogFigures.model_validate(log.figures),
            version=log.version,
            created_at=log.created_at,
            updated_at=log.updated_at,
        )
        for log in rows
    ]


@router.post(
    "/v1/logs",
    status_code=201,
    response_model=LogOut,
    tags=["logs"],
    summary="Write a work log",
    responses={200: {"model": LogOut, "description": RETRY}, **problem_responses(401, 409, 422)},
)
async def create_log(
    body: LogCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> LogOut:
    """One per period; figures (new customers, follow-ups by kind, check-ins, customers visited,
    claims, releases, opportunities new / advanced / won, contracted and received amounts, the
    author's targets of the period with actual and rate) are collected for the period in the
    company's time zone."""
    log, created = await logs.create_log(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(log.version)
    return (await logs_out(session, [log]))[0]


@router.get(
    "/v1/logs",
    response_model=Page[LogOut],
    tags=["logs"],
    summary="List work logs",
    responses=problem_responses(401, 422),
)
async def list_logs(
    *,
    params: Paging,
    user: uuid.UUID | None = Query(None),
    period: Period | None = Query(None),
    since: BusinessDate | None = Query(None, alias="from"),
    until: BusinessDate | None = Query(None, alias="to"),
    principal: Caller,
    session: Session,
) -> Page[LogOut]:
    """The caller's logs and, for managers, their subtree's; newest first."""
    rows, next_cursor = await logs.list_logs(
        session,
        principal,
        params,
        {"user_id": user, "period": period, "since": since, "until": until},
    )
    return Page[LogOut](items=await logs_out(session, rows), next_cursor=next_cursor)


@router.get(
    "/v1/logs/{log_id}",
    response_model=LogOut,
    tags=["logs"],
    summary="Get a work log",
    responses=problem_responses(401, 404, 422),
)
async def get_log(
    log_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> LogOut:
    """404 when not visible."""
    log = await logs.get_log(session, principal, log_id)
    response.headers["ETag"] = etag_for(log.version)
    return (await logs_out(session, [log]))[0]


@router.patch(
    "/v1/logs/{log_id}",
    response_model=LogOut,
    tags=["logs"],
    summary="Edit a work log",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_log(
    *,
    log_id: uuid.UUID,
    body: LogUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> LogOut:
    """The author only; `If-Match` required (428 without, 412 when stale). The figures are
    collected again."""
    log = await logs.update_log(session, principal, log_id, body, if_match)
    response.headers["ETag"] = etag_for(log.version)
    return (await logs_out(session, [log]))[0]


@router.delete(
    "/v1/logs/{log_id}",
    status_code=204,
    tags=["logs"],
    summary="Delete a work log",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_log(
    log_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """The author only (soft delete)."""
    await logs.delete_log(session, principal, log_id)
    return Response(status_code=204)


@router.post(
    "/v1/logs/{log_id}/restore",
    operation_id="restoreLog",
    response_model=LogOut,
    tags=["logs"],
    summary="Restore a deleted work log",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def restore_log(
    log_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> LogOut:
    """Within the company's `restore_days`: admins and the managers above its author (403 for
    the author). 409 `record_not_deleted`, `restore_window_passed`, `restore_conflict` (a log
    of the same period was written since)."""
    log = await restore.restore_log(session, principal, log_id)
    response.headers["ETag"] = etag_for(log.version)
    return (await logs_out(session, [log]))[0]
