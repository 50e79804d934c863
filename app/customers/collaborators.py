"""Collaborators (协作人): colleagues who work a customer with its owner."""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import not_found
from app.customers import errors
from app.customers.access import forbid, load_customer
from app.customers.models import Collaborator, Customer
from app.customers.schemas import CollaboratorCreate
from app.db import savepoint
from app.feed import publish
from app.org.models import User


async def list_collaborators(session: AsyncSession, customer: Customer) -> list[Collaborator]:
    """Collaborators of a customer the caller may see."""
    result = await session.execute(
        select(Collaborator)
        .where(Collaborator.customer_id == customer.id)
        .order_by(Collaborator.created_at)
    )
    return list(result.scalars())


async def add_collaborator(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: CollaboratorCreate
) -> Collaborator:
    """The owner or a manager adds a colleague with a role (idempotent per user)."""
    access = await load_customer(session, principal, customer_id)
    if not access.can_direct:
        raise forbid("Only the owner or their managers may add collaborators.")
    user = await session.scalar(
        select(User).where(User.id == data.user_id, User.company_id == principal.company_id)
    )
    if user is None or not user.is_active:
        raise errors.unknown_user()
    existing = await session.get(Collaborator, (customer_id, data.user_id))
    if existing is not None:
        existing.role = data.role
        await session.flush()
        return existing
    added = Collaborator(
        customer_id=customer_id,
        user_id=data.user_id,
        company_id=principal.company_id,
        role=data.role,
        added_by=principal.user_id,
        created_at=now(),
    )
    try:
        async with savepoint(session):
            session.add(added)
    except IntegrityError:
        # Added by a concurrent request a moment ago: that one stands (and was announced).
        return await session.get_one(Collaborator, (customer_id, data.user_id))
    await publish.collaborator_added(session, principal, customer_id, data.user_id, data.role)
    await session.flush()
    return added


async def remove_collaborator(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """The owner or a manager removes a collaborator (a collaborator may remove themselves)."""
    access = await load_customer(session, principal, customer_id)
    if not access.can_direct and user_id != principal.user_id:
        raise forbid("Only the owner or their managers may remove collaborators.")
    collaborator = await session.get(Collaborator, (customer_id, user_id))
    if collaborator is None:
        raise not_found("collaborator")
    await session.delete(collaborator)
    await session.flush()
