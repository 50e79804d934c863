"""Tickets as a source of the customer timeline: every event of every ticket on the customer.

Rows: kind `ticket.created`, `ticket.in_progress`, `ticket.resolved`, `ticket.closed`,
`ticket.reopened`, `ticket.assigned` or `ticket.edited`; the actor; the new assignee as
`to_user_id` (created, assigned); the description, resolution or change as text. Whoever sees
the customer sees its tickets (`tickets.visibility`), so no further rule applies.
"""

import uuid

from sqlalchemy import Numeric, Uuid, cast, literal, null, select

from app.auth.principal import Principal
from app.db import AnySelect
from app.tickets.models import TicketEvent


def ticket_events(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """The customer's tickets' events as timeline rows."""
    return select(
        TicketEvent.id,
        TicketEvent.created_at,
        literal("ticket.") + TicketEvent.kind,
        TicketEvent.actor_id,
        cast(null(), Uuid()),
        TicketEvent.assignee_id,
        TicketEvent.note,
        cast(null(), Numeric(14, 2)),
    ).where(TicketEvent.company_id == principal.company_id, TicketEvent.customer_id == customer_id)
