"""The one visibility rule for opportunities: exactly their customer's.

An opportunity is visible to whoever can see its customer (owner, collaborators, the pool,
managers of the owner's subtree, admins; `customers.access.customer_visibility`). Lists,
gets, reports and the tenancy walk all use this function.
"""

from sqlalchemy import ColumnElement, exists

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Customer
from app.pipeline.models import Opportunity


def opportunity_visibility(principal: Principal) -> ColumnElement[bool]:
    """Visible, not deleted opportunities of the caller's company."""
    base = (Opportunity.company_id == principal.company_id) & Opportunity.deleted_at.is_(None)
    if principal.is_admin:
        return base
    return base & exists().where(
        Customer.id == Opportunity.customer_id, customer_visibility(principal)
    )
