"""Converting a lead in one step (线索转化): the customer (new, or the existing one it
matches or names), the contact, an optional opportunity, and the lead marked converted —
all in the request's one transaction.

* The customer goes through the customers package's own create path
  (`customers.service.create_customer`): its duplicate check (409 `duplicate_customer`,
  `in_pool: true` for a pool customer, so the rep claims it instead), the holding cap
  (409 `holding_cap_reached`) and its ownership events. A duplicate the caller owns,
  collaborates on or manages the owner of is linked instead of made again.
* The contact through the customers' contacts service, the opportunity through the
  pipeline's (`create_opportunity(..., lead_id=…)`: its first stage, history, feed, webhook).
* The lead is marked by a conditional UPDATE (`status <> 'converted'`), under the row lock
  taken first: a concurrent second convert waits, then answers 409 `lead_already_converted`.
"""

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import not_found, validation_failed
from app.customers import contacts as customer_contacts
from app.customers import errors as customer_errors
from app.customers import service as customers
from app.customers.access import Access, load_customer, subtree_user_ids
from app.customers.schemas import ContactCreate, CustomerCreate
from app.fieldwork.models import Followup
from app.leads import errors
from app.leads import settings as lead_settings
from app.leads.conversion.schemas import ConvertIn
from app.leads.models import Lead, LeadEvent
from app.leads.visibility import lead_visibility
from app.notifications.webhooks.service import enqueue_event
from app.org.models import User
from app.pipeline.opportunities.schemas import OpportunityCreate
from app.pipeline.opportunities.service import create_opportunity


async def _locked_lead(session: AsyncSession, principal: Principal, lead_id: uuid.UUID) -> Lead:
    stmt = (
        select(Lead)
        .where(Lead.id == lead_id, lead_visibility(principal))
        .with_for_update(of=Lead)
        .execution_options(populate_existing=True)
    )
    lead = (await session.execute(stmt)).scalar_one_or_none()
    if lead is None:
        raise not_found("lead")
    return lead


async def _may_convert(session: AsyncSession, principal: Principal, lead: Lead) -> None:
    """The owner, an admin, or a manager of the owner (or of an unowned lead they see)."""
    if lead.owner_id == principal.user_id or principal.is_admin:
        return
    if principal.is_manager and principal.department_path:
        if lead.owner_id is None:
            return
        manages = await session.scalar(subtree_user_ids(principal).where(User.id == lead.owner_id))
        if manages is not None:
            return
    if lead.owner_id is None:
        raise errors.lead_not_owned("This lead is in its pool: claim it first.")
    raise errors.lead_not_owned()


def _check_condition(lead: Lead, required: str | None) -> None:
    if lead.status == "converted":
        raise errors.lead_already_converted(
            str(lead.converted_customer_id) if lead.converted_customer_id else None
        )
    if lead.status == "disqualified" or (required is not None and lead.status != required):
        raise errors.lead_not_convertible(lead.status, required)


def _linkable(access: Access) -> bool:
    customer = access.customer
    return customer.owner_id is not None and (
        access.is_owner or access.is_collaborator or access.manages_owner
    )


async def _existing_customer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID
) -> uuid.UUID:
    access = await load_customer(session, principal, customer_id, lock=True)  # 404 if invisible
    if access.customer.owner_id is None:
        raise customer_errors.customer_not_owned("This customer is in the pool: claim it first.")
    if not _linkable(access):
        raise customer_errors.customer_not_owned(
            "Link the lead to a customer you own or collaborate on."
        )
    return access.customer.id


def _customer_body(lead: Lead, mapping: dict[str, str]) -> CustomerCreate:
    fields = lead_settings.customer_fields(lead, mapping)
    try:
        return CustomerCreate.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise validation_failed(
            f"The lead does not make a valid customer through the field mapping ({where}: "
            f"{first['msg']}); send `customer`.",
            loc=("body", "customer", *[str(part) for part in first["loc"]]),
        ) from exc


async def _new_or_matching_customer(
    session: AsyncSession, principal: Principal, data: CustomerCreate
) -> tuple[uuid.UUID, bool]:
    """(customer id, created): a duplicate the caller may work on is linked; any other
    duplicate is the create path's 409."""
    matches = await customers.find_duplicates(session, principal, data.name, data.phone)
    for match in matches:
        if match.visible and not match.in_pool:
            access = await load_customer(session, principal, match.customer_id, lock=True)
            if _linkable(access):
                return access.customer.id, False
    customer, _ = await customers.create_customer(session, principal, data)
    return customer.id, True


def _contact_body(lead: Lead) -> ContactCreate:
    fields: dict[str, Any] = {
        "name": lead.name,
        "title": lead.title,
        "phones": [lead.phone] if lead.phone else [],
        "email": lead.email,
        "is_primary": True,
    }
    try:
        return ContactCreate.model_validate(fields)
    except ValidationError:
        # An imported e-mail only passed the import's syntax check: keep the contact without it.
        return ContactCreate.model_validate(fields | {"email": None})


async def convert_lead(
    session: AsyncSession, principal: Principal, lead_id: uuid.UUID, data: ConvertIn
) -> dict[str, Any]:
    """Convert the lead; returns `{customer_id, contact_id, opportunity_id, customer_created}`."""
    lead = await _locked_lead(session, principal, lead_id)
    settings = await lead_settings.get_settings(session, principal.company_id)
    _check_condition(lead, settings["convert_requires_status"])
    await _may_convert(session, principal, lead)

    if data.existing_customer_id is not None:
        customer_id = await _existing_customer(session, principal, data.existing_customer_id)
        created = False
    else:
        body = data.customer or _customer_body(lead, settings["field_mapping"])
        customer_id, created = await _new_or_matching_customer(session, principal, body)

    contact, _ = await customer_contacts.create_contact(
        session, principal, customer_id, data.contact or _contact_body(lead)
    )

    opportunity_id = None
    if data.opportunity is not None:
        opportunity, _ = await create_opportunity(
            session,
            principal,
            OpportunityCreate.model_validate(
                {
                    "customer_id": customer_id,
                    "pipeline_id": data.opportunity.pipeline_id,
                    "name": data.opportunity.name,
                    "amount": data.opportunity.amount,
                    "expected_close_date": data.opportunity.expected_close_date,
                    "contact_ids": [contact.id],
                    "source": lead.source,
                }
            ),
            lead_id=lead.id,
        )
        opportunity_id = opportunity.id

    at = now()
    marked = await session.execute(
        update(Lead)
        .where(
            Lead.id == lead.id,
            Lead.company_id == principal.company_id,
            Lead.status != "converted",
            Lead.deleted_at.is_(None),
        )
        .values(
            status="converted",
            converted_customer_id=customer_id,
            converted_contact_id=contact.id,
            converted_opportunity_id=opportunity_id,
            converted_at=at,
            converted_by=principal.user_id,
            updated_at=at,
            version=Lead.version + 1,
        )
        .returning(Lead.id)
        .execution_options(synchronize_session=False)
    )
    if marked.scalar_one_or_none() is None:
        raise errors.lead_already_converted(None)
    # Its follow-ups join the customer's timeline.
    await session.execute(
        update(Followup)
        .where(
            Followup.company_id == principal.company_id,
            Followup.lead_id == lead.id,
            Followup.customer_id.is_(None),
        )
        .values(customer_id=customer_id)
        .execution_options(synchronize_session=False)
    )
    session.add(
        LeadEvent(
            id=uuid.uuid4(),
            company_id=principal.company_id,
            lead_id=lead.id,
            pool_id=lead.pool_id,
            kind="converted",
            user_id=lead.owner_id,
            actor_id=principal.user_id,
            at=at,
        )
    )
    answer = {
        "customer_id": customer_id,
        "contact_id": contact.id,
        "opportunity_id": opportunity_id,
        "customer_created": created,
    }
    await enqueue_event(
        session,
        principal.company_id,
        "lead.converted",
        {"lead_id": lead.id, "converted_by": principal.user_id, **answer},
        occurred_at=at,
    )
    await session.flush()
    return answer
