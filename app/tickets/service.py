"""Service tickets: opened on a visible customer, moved through open → in_progress → resolved
→ closed (or reopened), due by priority (the company's hours), every change an event on the
customer's timeline, a satisfaction rating only when resolved."""

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import load_customer
from app.customers.models import Customer
from app.db import savepoint
from app.fieldwork.files import service as files
from app.notifications.inbox.service import notify
from app.org import users as org_users
from app.org.settings import CompanySettings, company_settings
from app.tasks.assignees import check_assignees
from app.tickets import errors
from app.tickets.models import Ticket, TicketEvent, TicketRating
from app.tickets.schemas import TicketCreate, TicketResolve, TicketUpdate
from app.tickets.visibility import ticket_visibility

OPEN_STATUSES = ("open", "in_progress")
# PATCH moves (resolved only by resolve()).
MOVES = {
    ("open", "in_progress"): "in_progress",
    ("resolved", "closed"): "closed",
    ("resolved", "open"): "reopened",
    ("closed", "open"): "reopened",
}


def due_at(settings: CompanySettings, priority: str, opened_at: datetime) -> datetime:
    """Opened + the company's hours for the priority."""
    hours: int = getattr(settings, f"ticket_hours_{priority}")
    return opened_at + timedelta(hours=hours)


def is_overdue(ticket: Ticket, at: datetime) -> bool:
    return ticket.status in OPEN_STATUSES and ticket.due_at < at


def _event(ticket: Ticket, principal: Principal, kind: str, **values: Any) -> TicketEvent:
    return TicketEvent(
        id=uuid.uuid4(),
        company_id=ticket.company_id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        kind=kind,
        actor_id=principal.user_id,
        created_at=now(),
        **values,
    )


async def _notify_assignee(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
    if ticket.assignee_id is None:
        return
    actor = await org_users.get_user(session, principal, principal.user_id)
    customer = await session.get_one(Customer, ticket.customer_id)
    await notify(
        session,
        company_id=principal.company_id,
        user_ids=[ticket.assignee_id],
        kind="ticket_assigned",
        params={
            "actor": actor.name,
            "customer": customer.name,
            "excerpt": ticket.description[:80],
            "priority": ticket.priority,
        },
        dedupe_key=f"ticket_assigned:{ticket.id}:{ticket.assignee_id}",
        subject_type="ticket",
        subject_id=ticket.id,
        customer_id=ticket.customer_id,
        actor_id=principal.user_id,
        deep_link=f"outfield://tickets/{ticket.id}",
    )


async def create_ticket(
    session: AsyncSession, principal: Principal, data: TicketCreate
) -> tuple[Ticket, bool]:
    """A ticket on a visible customer (404 otherwise), assigned under the assignment rules."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Ticket,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.created_by == principal.user_id,
    )
    if existing is not None:
        return existing, False
    await load_customer(session, principal, data.customer_id)
    assignee = principal.user_id
    if data.assignee_id is not None:
        (assignee,) = await check_assignees(
            session, principal, [data.assignee_id], field="assignee_id", single=True
        )
    settings = await company_settings(session, principal.company_id)
    at = now()
    ticket = Ticket(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        customer_id=data.customer_id,
        kind=data.kind,
        priority=data.priority,
        description=data.description,
        assignee_id=assignee,
        status="open",
        due_at=due_at(settings, data.priority, at),
        opened_at=at,
        created_by=principal.user_id,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(ticket)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    await files.attach_files(
        session, principal, data.attachment_ids, "ticket", ticket.id, field="attachment_ids"
    )
    session.add(
        _event(
            ticket,
            principal,
            "created",
            assignee_id=assignee,
            to_status="open",
            note=data.description[:200],
        )
    )
    await _notify_assignee(session, principal, ticket)
    await session.flush()
    return ticket, True


async def get_ticket(
    session: AsyncSession, principal: Principal, ticket_id: uuid.UUID, *, lock: bool = False
) -> Ticket:
    """One visible ticket, or 404."""
    stmt = select(Ticket).where(Ticket.id == ticket_id, ticket_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Ticket)
    ticket = await session.scalar(stmt)
    if ticket is None:
        raise not_found("ticket")
    return ticket


async def _check_may_change(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
    """The assignee, the creator, those who may edit the customer, admins (else 403)."""
    if principal.is_admin or principal.user_id in (ticket.assignee_id, ticket.created_by):
        return
    access = await load_customer(session, principal, ticket.customer_id)
    if not access.can_edit:
        raise forbidden("Only the assignee, the creator and the customer's team may do this.")


async def update_ticket(
    session: AsyncSession,
    principal: Principal,
    ticket_id: uuid.UUID,
    data: TicketUpdate,
    if_match: str | None,
) -> Ticket:
    """Edit priority, description, assignee or status (If-Match); each change is an event."""
    ticket = await get_ticket(session, principal, ticket_id, lock=True)
    await _check_may_change(session, principal, ticket)
    check_if_match(if_match, ticket.version)
    fields = data.model_fields_set
    settings = await company_settings(session, principal.company_id)
    at = now()
    if "status" in fields and data.status is not None:
        move = MOVES.get((ticket.status, data.status))
        if move is None:
            detail = (
                "Resolve a ticket with POST /v1/tickets/{id}/resolve."
                if data.status == "resolved" and ticket.status == "in_progress"
                else None
            )
            raise errors.invalid_transition(ticket.status, data.status, detail)
        session.add(
            _event(ticket, principal, move, from_status=ticket.status, to_status=data.status)
        )
        ticket.status = data.status
        if move == "closed":
            ticket.closed_at = at
        if move == "reopened":
            ticket.opened_at = at
            ticket.due_at = due_at(settings, ticket.priority, at)
            ticket.overdue_notified_at = None
            ticket.resolved_at = ticket.resolved_by = ticket.resolution = None
            ticket.closed_at = None
    if "priority" in fields and data.priority and data.priority != ticket.priority:
        session.add(
            _event(
                ticket, principal, "edited", note=f"priority {ticket.priority} → {data.priority}"
            )
        )
        ticket.priority = data.priority
        moved = due_at(settings, data.priority, ticket.opened_at)
        if moved != ticket.due_at:
            ticket.due_at = moved
            ticket.overdue_notified_at = None
    if "description" in fields and data.description and data.description != ticket.description:
        ticket.description = data.description
        session.add(_event(ticket, principal, "edited", note=data.description[:200]))
    if "assignee_id" in fields and data.assignee_id and data.assignee_id != ticket.assignee_id:
        (assignee,) = await check_assignees(
            session, principal, [data.assignee_id], field="assignee_id", single=True
        )
        ticket.assignee_id = assignee
        session.add(_event(ticket, principal, "assigned", assignee_id=assignee))
        await _notify_assignee(session, principal, ticket)
    ticket.version += 1
    await session.flush()
    await session.refresh(ticket)
    return ticket


async def resolve_ticket(
    session: AsyncSession, principal: Principal, ticket_id: uuid.UUID, data: TicketResolve
) -> Ticket:
    """in_progress → resolved with the resolution, and the customer's satisfaction when given
    (credited to the assignee; 409 `invalid_transition` from any other status)."""
    ticket = await get_ticket(session, principal, ticket_id, lock=True)
    await _check_may_change(session, principal, ticket)
    if ticket.status != "in_progress":
        raise errors.invalid_transition(ticket.status, "resolved")
    at = now()
    ticket.status = "resolved"
    ticket.resolution = data.resolution
    ticket.resolved_at = at
    ticket.resolved_by = principal.user_id
    session.add(
        _event(
            ticket,
            principal,
            "resolved",
            from_status="in_progress",
            to_status="resolved",
            note=data.resolution[:200],
        )
    )
    if data.satisfaction is not None:
        session.add(
            TicketRating(
                id=uuid.uuid4(),
                company_id=ticket.company_id,
                ticket_id=ticket.id,
                user_id=ticket.assignee_id or principal.user_id,
                recorded_by=principal.user_id,
                score=data.satisfaction,
                comment=data.comment,
                created_at=at,
            )
        )
    ticket.version += 1
    await session.flush()
    await session.refresh(ticket)
    return ticket


async def list_tickets(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[Ticket], str | None]:
    """Visible tickets, newest first."""
    stmt = select(Ticket).where(ticket_visibility(principal))
    for field in ("customer_id", "assignee_id", "kind", "priority", "status"):
        if filters.get(field):
            stmt = stmt.where(getattr(Ticket, field) == filters[field])
    if filters.get("overdue") is not None:
        late = Ticket.status.in_(OPEN_STATUSES) & (Ticket.due_at < now())
        stmt = stmt.where(late if filters["overdue"] else ~late)
    rows = list(
        (await session.execute(paginate(stmt, Ticket.created_at, Ticket.id, params))).scalars()
    )
    return make_page(rows, params)


async def latest_ratings(
    session: AsyncSession, ticket_ids: list[uuid.UUID]
) -> dict[uuid.UUID, TicketRating]:
    if not ticket_ids:
        return {}
    rows = await session.scalars(
        select(TicketRating)
        .where(TicketRating.ticket_id.in_(ticket_ids))
        .order_by(TicketRating.ticket_id, TicketRating.created_at.desc())
        .ext(distinct_on(TicketRating.ticket_id))
    )
    return {rating.ticket_id: rating for rating in rows}


def local_text(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")
