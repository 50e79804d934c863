"""The one visibility rule for tickets: their customer's, and the assignee's own."""

from sqlalchemy import ColumnElement, exists

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Customer
from app.tickets.models import Ticket


def ticket_visibility(principal: Principal) -> ColumnElement[bool]:
    """Tickets of the company on a customer the caller sees, or assigned to the caller."""
    base = Ticket.company_id == principal.company_id
    if principal.is_admin:
        return base
    on_visible = exists().where(Customer.id == Ticket.customer_id, customer_visibility(principal))
    return base & (on_visible | (Ticket.assignee_id == principal.user_id))
