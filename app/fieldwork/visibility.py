"""The one visibility rule for people's records on customers (check-ins, follow-ups).

A record is visible to its author, to whoever can see its customer (customer visibility:
owner, collaborators, the pool, managers of the owner, admins), and to managers of the
author's department subtree. A follow-up on a lead is also visible to the lead's owner and
the managers above the owner. Admins see the company.
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, false

from app.auth.principal import Principal
from app.customers.access import customer_visibility, subtree_user_ids
from app.customers.models import Customer
from app.fieldwork.models import WorkLog
from app.leads.models import Lead


def record_visibility(principal: Principal, table: Any) -> ColumnElement[bool]:
    """Visibility of rows of `table` (with company_id, user_id, customer_id columns)."""
    same_company: ColumnElement[bool] = table.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    customer_visible = exists().where(
        Customer.id == table.customer_id, customer_visibility(principal)
    )
    visible: ColumnElement[bool] = (table.user_id == principal.user_id) | customer_visible
    manager = bool(principal.is_manager and principal.department_path)
    if hasattr(table, "lead_id"):
        # A follow-up on a lead: also its owner and the managers above the owner.
        owners = (Lead.owner_id == principal.user_id) | (
            Lead.owner_id.in_(subtree_user_ids(principal)) if manager else false()
        )
        visible = visible | exists().where(
            Lead.id == table.lead_id, Lead.company_id == principal.company_id, owners
        )
    if manager:
        visible = visible | table.user_id.in_(subtree_user_ids(principal))
    return same_company & visible


def log_visibility(principal: Principal) -> ColumnElement[bool]:
    """Work logs: the author, managers of the author's subtree, admins."""
    same_company = WorkLog.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    visible = WorkLog.user_id == principal.user_id
    if principal.is_manager and principal.department_path:
        visible = visible | WorkLog.user_id.in_(subtree_user_ids(principal))
    return same_company & visible
