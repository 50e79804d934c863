"""Revealing a customer's (or a contact's) numbers in full, audited.

Allowed: the owner, collaborators, the managers above the owner, admins — and, for a pool
customer (no owner yet), any manager (they assign pool customers; `Access.manages_owner`).
A rep looking at a pool customer claims it instead. Every reveal writes a `phone_reveals` row
(who, when, which numbers — kept masked), whether or not the company masks phones.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import not_found
from app.customers.access import load_customer
from app.customers.models import Contact
from app.privacy import errors
from app.privacy.masking import mask_phone
from app.privacy.models import PhoneReveal


async def reveal(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> tuple[PhoneReveal, list[str]]:
    """The audit row of this reveal and the numbers in full (404 for an invisible customer
    or an unknown contact of it, 403 `phone_reveal_not_allowed`)."""
    access = await load_customer(session, principal, customer_id)
    if not (access.can_edit or principal.is_admin):
        raise errors.phone_reveal_not_allowed()
    if contact_id is None:
        numbers = [access.customer.phone] if access.customer.phone else []
    else:
        phones = await session.scalar(
            select(Contact.phones).where(
                Contact.id == contact_id,
                Contact.customer_id == customer_id,
                Contact.company_id == principal.company_id,
                Contact.deleted_at.is_(None),
            )
        )
        if phones is None:
            raise not_found("contact")
        numbers = list(phones)
    row = PhoneReveal(
        company_id=principal.company_id,
        user_id=principal.user_id,
        customer_id=customer_id,
        contact_id=contact_id,
        numbers_masked=[mask_phone(n) for n in numbers],
    )
    session.add(row)
    await session.flush()
    return row, numbers
