"""HTTP: contacts and collaborators of a customer."""

import uuid

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.customers import collaborators, contacts
from app.customers.models import Contact
from app.customers.schemas import (
    CollaboratorCreate,
    CollaboratorOut,
    ContactCreate,
    ContactOut,
    ContactUpdate,
)
from app.deps import Caller, Paging, Session, VisibleCustomer
from app.privacy.masking import PhoneView, phone_view

router = APIRouter(tags=["customers"])


def contact_out(contact: Contact, phones: PhoneView) -> ContactOut:
    """The API view of a contact, its phones as `phones` shows them to the caller."""
    out = ContactOut.model_validate(contact)
    out.phones = phones.phones(contact.customer_id, contact.phones)
    return out


@router.get(
    "/v1/customers/{customer_id}/contacts",
    response_model=Page[ContactOut],
    summary="List contacts",
    responses=problem_responses(401, 404, 422),
)
async def list_contacts(
    customer_id: uuid.UUID,
    params: Paging,
    principal: Caller,
    customer: VisibleCustomer,
    session: Session,
) -> Page[ContactOut]:
    """Contacts of a visible customer, newest first."""
    rows, next_cursor = await contacts.list_contacts(session, customer.customer, params)
    phones = await phone_view(session, principal, [customer.customer.id])
    return Page[ContactOut](items=[contact_out(c, phones) for c in rows], next_cursor=next_cursor)


@router.post(
    "/v1/customers/{customer_id}/contacts",
    status_code=201,
    response_model=ContactOut,
    summary="Add a contact",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_contact(
    customer_id: uuid.UUID,
    body: ContactCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> ContactOut:
    """Owner, collaborators and their managers. A retried client id returns the same contact."""
    contact, created = await contacts.create_contact(session, principal, customer_id, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(contact.version)
    return contact_out(contact, await phone_view(session, principal, [customer_id]))


@router.patch(
    "/v1/customers/{customer_id}/contacts/{contact_id}",
    response_model=ContactOut,
    summary="Edit a contact",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def update_contact(
    *,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> ContactOut:
    """`If-Match` required (428 without, 412 when stale)."""
    contact = await contacts.update_contact(
        session, principal, customer_id, contact_id, body, if_match
    )
    response.headers["ETag"] = etag_for(contact.version)
    return contact_out(contact, await phone_view(session, principal, [customer_id]))


@router.delete(
    "/v1/customers/{customer_id}/contacts/{contact_id}",
    status_code=204,
    summary="Delete a contact",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_contact(
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """Soft delete."""
    await contacts.delete_contact(session, principal, customer_id, contact_id)
    return Response(status_code=204)


# ---------- collaborators ----------


@router.get(
    "/v1/customers/{customer_id}/collaborators",
    response_model=list[CollaboratorOut],
    summary="List collaborators",
    responses=problem_responses(401, 404, 422),
)
async def list_collaborators(
    customer_id: uuid.UUID,
    customer: VisibleCustomer,
    session: Session,
) -> list[CollaboratorOut]:
    """Colleagues working on the customer with the owner."""
    rows = await collaborators.list_collaborators(session, customer.customer)
    return [CollaboratorOut.model_validate(c) for c in rows]


@router.post(
    "/v1/customers/{customer_id}/collaborators",
    response_model=CollaboratorOut,
    summary="Add a collaborator",
    responses=problem_responses(401, 403, 404, 422),
)
async def add_collaborator(
    customer_id: uuid.UUID,
    body: CollaboratorCreate,
    principal: Caller,
    session: Session,
) -> CollaboratorOut:
    """The owner or their managers; adding the same user again updates the role."""
    return CollaboratorOut.model_validate(
        await collaborators.add_collaborator(session, principal, customer_id, body)
    )


@router.delete(
    "/v1/customers/{customer_id}/collaborators/{user_id}",
    status_code=204,
    summary="Remove a collaborator",
    responses=problem_responses(401, 403, 404, 422),
)
async def remove_collaborator(
    customer_id: uuid.UUID,
    user_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """The owner or their managers (or the collaborator themselves)."""
    await collaborators.remove_collaborator(session, principal, customer_id, user_id)
    return Response(status_code=204)
