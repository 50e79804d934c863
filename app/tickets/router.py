"""HTTP: service tickets (客户投诉/建议/服务) and their report."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.strict import QueryBool
from app.core.types import BusinessDate
from app.deps import Caller, Paging, Session
from app.fieldwork.files import service as files
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.tickets import report as ticket_reports
from app.tickets import service as tickets
from app.tickets.models import Ticket, TicketRating
from app.tickets.schemas import (
    Priority,
    SatisfactionOut,
    Status,
    TicketCreate,
    TicketKind,
    TicketOut,
    TicketReport,
    TicketResolve,
    TicketUpdate,
)

router = APIRouter(tags=["tickets"])


def ticket_out(
    ticket: Ticket, attachments: list[uuid.UUID], rating: TicketRating | None, at: datetime
) -> TicketOut:
    return TicketOut.model_validate(
        {
            "id": ticket.id,
            "customer_id": ticket.customer_id,
            "kind": ticket.kind,
            "priority": ticket.priority,
            "description": ticket.description,
            "attachment_ids": attachments,
            "assignee_id": ticket.assignee_id,
            "status": ticket.status,
            "due_at": ticket.due_at,
            "overdue": tickets.is_overdue(ticket, at),
            "resolution": ticket.resolution,
            "resolved_at": ticket.resolved_at,
            "resolved_by": ticket.resolved_by,
            "closed_at": ticket.closed_at,
            "satisfaction": None
            if rating is None
            else SatisfactionOut(
                score=rating.score,
                comment=rating.comment,
                user_id=rating.user_id,
                created_at=rating.created_at,
            ),
            "created_by": ticket.created_by,
            "version": ticket.version,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
        }
    )


async def one_out(session: AsyncSession, ticket: Ticket, response: Response) -> TicketOut:
    response.headers["ETag"] = etag_for(ticket.version)
    attachments = (await files.files_for(session, "ticket", [ticket.id])).get(ticket.id, [])
    rating = (await tickets.latest_ratings(session, [ticket.id])).get(ticket.id)
    return ticket_out(ticket, attachments, rating, now())


@router.post(
    "/v1/tickets",
    operation_id="createTicket",
    status_code=201,
    response_model=TicketOut,
    summary="Open a service ticket on a customer",
    responses={
        200: {"model": TicketOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_ticket(
    body: TicketCreate, response: Response, principal: Caller, session: Session
) -> TicketOut:
    """A complaint, suggestion or service request on a customer the caller sees (else 404),
    with attachments (file ids, 422 `unknown_file`). Due at opening + the company's hours for
    the priority (`ticket_hours_*`: urgent 4, high 24, normal 72, low 168 by default). The
    assignee defaults to the caller (reps: only themselves; managers: their subtree; 403
    `assignee_not_allowed`, 422 `unknown_assignee`) and gets `ticket_assigned`. On the
    customer's timeline as `ticket.created`."""
    ticket, created = await tickets.create_ticket(session, principal, body)
    if not created:
        response.status_code = 200
    return await one_out(session, ticket, response)


@router.get(
    "/v1/tickets",
    operation_id="listTickets",
    response_model=Page[TicketOut],
    summary="List service tickets",
    responses=problem_responses(401, 422),
)
async def list_tickets(
    *,
    params: Paging,
    customer: uuid.UUID | None = Query(None),
    assignee: uuid.UUID | None = Query(None),
    kind: TicketKind | None = Query(None),
    priority: Priority | None = Query(None),
    status: Status | None = Query(None),
    overdue: QueryBool | None = Query(None),
    principal: Caller,
    session: Session,
) -> Response:
    """Visible tickets (on customers the caller sees, or assigned to them), newest first."""
    filters = {
        "customer_id": customer,
        "assignee_id": assignee,
        "kind": kind,
        "priority": priority,
        "status": status,
        "overdue": overdue,
    }
    rows, next_cursor = await tickets.list_tickets(session, principal, params, filters)
    ids = [t.id for t in rows]
    attachments = await files.files_for(session, "ticket", ids)
    ratings = await tickets.latest_ratings(session, ids)
    at = now()
    return json_response(
        Page[TicketOut](
            items=[ticket_out(t, attachments.get(t.id, []), ratings.get(t.id), at) for t in rows],
            next_cursor=next_cursor,
        )
    )


@router.get(
    "/v1/tickets/{ticket_id}",
    operation_id="getTicket",
    response_model=TicketOut,
    summary="Get a service ticket",
    responses=problem_responses(401, 404, 422),
)
async def get_ticket(
    ticket_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> TicketOut:
    """404 when not visible."""
    return await one_out(session, await tickets.get_ticket(session, principal, ticket_id), response)


@router.patch(
    "/v1/tickets/{ticket_id}",
    operation_id="updateTicket",
    response_model=TicketOut,
    summary="Edit a ticket or move its status",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_ticket(
    *,
    ticket_id: uuid.UUID,
    body: TicketUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> TicketOut:
    """The assignee, the creator, the customer's team and their managers, admins (else 403);
    `If-Match` required (428 without, 412 when stale). `status`: open → in_progress,
    resolved → closed, resolved or closed → open (reopened: due again from now); any other
    move, and `resolved` (use …/resolve), is 409 `invalid_transition`. A new priority moves
    the due time (from opening). A satisfaction rating is not a field here (422). Each change
    is on the customer's timeline."""
    ticket = await tickets.update_ticket(session, principal, ticket_id, body, if_match)
    return await one_out(session, ticket, response)


@router.post(
    "/v1/tickets/{ticket_id}/resolve",
    operation_id="resolveTicket",
    response_model=TicketOut,
    summary="Resolve a ticket, with the customer's satisfaction",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def resolve_ticket(
    ticket_id: uuid.UUID,
    body: TicketResolve,
    response: Response,
    principal: Caller,
    session: Session,
) -> TicketOut:
    """in_progress → resolved (any other status: 409 `invalid_transition`) with the
    resolution and, when given, the customer's satisfaction 1–5 and a comment (a comment
    without a rating: 422), credited to the assignee in the ticket report."""
    ticket = await tickets.resolve_ticket(session, principal, ticket_id, body)
    return await one_out(session, ticket, response)


@router.get(
    "/v1/reports/tickets",
    operation_id="getTicketReport",
    response_model=TicketReport,
    tags=["reports"],
    summary="Service tickets per rep and department",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_ticket_report(
    *,
    since: Annotated[BusinessDate, Query(alias="from", description="First day (company time).")],
    until: Annotated[
        BusinessDate, Query(alias="to", description="Last day, inclusive (at most 366 days).")
    ],
    user: uuid.UUID | None = Query(None, description="Only this user (a rep: only themselves)."),
    department: uuid.UUID | None = Query(
        None, description="Only this department's subtree (managers and admins)."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> TicketReport | Response:
    """Per assignee (rep) and per department (rolled up its subtree; the people's current
    departments): tickets opened in the range, of those open and overdue now; tickets resolved
    in the range and the median hours from opening to resolution; satisfaction ratings given in
    the range and their average. Scope: reps themselves, managers their subtree, admins the
    company; 422 `invalid_range`. `?format=csv`: one row per total, rep and department."""
    figures = await ticket_reports.ticket_report(session, principal, since, until, user, department)
    report = TicketReport(**figures)
    if format == "csv":
        return csv_response(
            f"tickets-{since.isoformat()}-{until.isoformat()}.csv",
            ticket_reports.CSV_HEADER,
            ticket_reports.csv_rows(figures),
        )
    return report
