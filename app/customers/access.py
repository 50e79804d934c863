"""Who may see and do what with a customer: the one visibility rule and the access check."""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ProblemError, forbidden, not_found
from app.customers.models import Collaborator, Customer
from app.org.models import Department, User


def subtree_user_ids(principal: Principal) -> Select[uuid.UUID]:
    """The ids of the users in the caller's department subtree (a subquery)."""
    return (
        select(User.id)
        .join(Department, Department.id == User.department_id)
        .where(
            User.company_id == principal.company_id,
            Department.path.startswith(principal.department_path or "", autoescape=True),
        )
    )


def customer_visibility(principal: Principal) -> ColumnElement[bool]:
    """The one visibility rule for customers (used by get, list, pool, nearby, search).

    Rep: own + collaborating + the pool. Manager: also everything owned in the department
    subtree. Admin: the whole company. Deleted customers are invisible to everyone.

    The caller's ids may be bound parameters (a statement built once for many callers, see
    `fieldwork.checkins.service._context_statement`): use them in SQL only, never in Python tests;
    only the role and the department path may shape the expression.
    """
    base = (Customer.company_id == principal.company_id) & Customer.deleted_at.is_(None)
    if principal.is_admin:
        return base
    collaborating = exists().where(
        Collaborator.customer_id == Customer.id, Collaborator.user_id == principal.user_id
    )
    visible = (Customer.owner_id == principal.user_id) | Customer.owner_id.is_(None) | collaborating
    if principal.is_manager and principal.department_path:
        visible = visible | Customer.owner_id.in_(subtree_user_ids(principal))
    return base & visible


@dataclass(frozen=True)
class Access:
    """What the caller is to one visible customer."""

    customer: Customer
    is_owner: bool
    is_collaborator: bool
    manages_owner: bool  # admin, or a manager whose subtree holds the owner

    @property
    def can_edit(self) -> bool:
        return self.is_owner or self.is_collaborator or self.manages_owner

    @property
    def can_direct(self) -> bool:
        """Release, delete, add collaborators: the owner or someone above them."""
        return self.is_owner or self.manages_owner


async def load_customer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, *, lock: bool = False
) -> Access:
    """A visible customer with the caller's relation to it, or 404."""
    stmt = select(Customer).where(Customer.id == customer_id, customer_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Customer)
    customer = (await session.execute(stmt)).scalar_one_or_none()
    if customer is None:
        raise not_found("customer")
    is_owner = customer.owner_id == principal.user_id
    is_collaborator = bool(
        await session.scalar(
            select(
                exists().where(
                    Collaborator.customer_id == customer.id,
                    Collaborator.user_id == principal.user_id,
                )
            )
        )
    )
    manages = principal.is_admin
    if not manages and principal.is_manager and principal.department_path:
        if customer.owner_id is None:
            manages = True  # managers act on pool customers (assign, edit)
        else:
            in_subtree = subtree_user_ids(principal).where(User.id == customer.owner_id)
            manages = await session.scalar(in_subtree) is not None
    return Access(customer, is_owner, is_collaborator, manages)


async def record_access(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    record_owner_id: uuid.UUID | None,
    what: str,
) -> Access:
    """The customer's access, when the caller may change a record on it (an opportunity, a
    contract) owned by `record_owner_id`: that owner, the customer's owner or collaborators,
    the managers above the customer's owner, admins (else 403)."""
    access = await load_customer(session, principal, customer_id)
    if not (access.can_edit or record_owner_id == principal.user_id):
        raise forbidden(
            f"Only the {what}'s owner, the customer's team and their managers may do this."
        )
    return access


def forbid(detail: str) -> ProblemError:
    """403 `forbidden` for a visible customer the caller may not act on this way."""
    return forbidden(detail)
