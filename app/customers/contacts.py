"""Contacts of a customer (name, title, phones, e-mail, birthday, primary flag)."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers.access import Access, forbid, load_customer
from app.customers.models import Contact, Customer
from app.customers.schemas import ContactCreate, ContactUpdate


async def _editable(session: AsyncSession, principal: Principal, customer_id: uuid.UUID) -> Access:
    access = await load_customer(session, principal, customer_id)
    if not access.can_edit:
        raise forbid("Only the owner, collaborators and their managers may change contacts.")
    return access


async def list_contacts(
    session: AsyncSession, customer: Customer, params: PageParams
) -> tuple[list[Contact], str | None]:
    """Contacts of a customer the caller may see."""
    stmt = select(Contact).where(Contact.customer_id == customer.id, Contact.deleted_at.is_(None))
    rows = list(
        (await session.execute(paginate(stmt, Contact.created_at, Contact.id, params))).scalars()
    )
    return make_page(rows, params)


async def create_contact(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: ContactCreate
) -> tuple[Contact, bool]:
    """A new contact (client id allowed: a retry returns the same contact)."""
    await _editable(session, principal, customer_id)
    if data.id is not None:
        existing = await session.get(Contact, data.id)
        if existing is not None:
            same = (
                existing.customer_id == customer_id
                and existing.name == data.name
                and existing.phones == data.phones
                and existing.email == data.email
            )
            if same:
                return existing, False
            raise client_ids.id_conflict()
    contact = Contact(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        customer_id=customer_id,
        name=data.name,
        title=data.title,
        phones=data.phones,
        email=data.email,
        birthday=data.birthday,
        is_primary=data.is_primary,
        created_by=principal.user_id,
        version=1,
    )
    if data.is_primary:
        await _clear_primary(session, customer_id)
    session.add(contact)
    await session.flush()
    await session.refresh(contact)
    return contact, True


async def _clear_primary(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(
        update(Contact)
        .where(Contact.customer_id == customer_id, Contact.is_primary)
        .values(is_primary=False)
        .execution_options(synchronize_session=False)
    )


async def _contact(session: AsyncSession, customer_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    contact = await session.scalar(
        select(Contact).where(
            Contact.id == contact_id,
            Contact.customer_id == customer_id,
            Contact.deleted_at.is_(None),
        )
    )
    if contact is None:
        raise not_found("contact")
    return contact


async def update_contact(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    data: ContactUpdate,
    if_match: str | None,
) -> Contact:
    """Edit a contact (If-Match required)."""
    await _editable(session, principal, customer_id)
    contact = await _contact(session, customer_id, contact_id)
    check_if_match(if_match, contact.version)
    fields = data.model_fields_set
    if "is_primary" in fields and data.is_primary:
        await _clear_primary(session, customer_id)
    for field in fields:
        value = getattr(data, field)
        if value is None and field in ("name", "phones", "is_primary"):
            continue
        setattr(contact, field, value)
    contact.version += 1
    await session.flush()
    await session.refresh(contact)
    return contact


async def delete_contact(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, contact_id: uuid.UUID
) -> None:
    """Soft-delete a contact."""
    await _editable(session, principal, customer_id)
    contact = await _contact(session, customer_id, contact_id)
    contact.deleted_at = now()
    await session.flush()
