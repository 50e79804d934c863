"""Duplicate leads (查重): the normalised phone, e-mail and company name of a lead against the
company's leads and customers.

A lead's phone is matched against leads' and customers' phones, its company name against
leads' company names and customers' names (both through the customers' normaliser), its
e-mail against leads' e-mails. Customers keep e-mail only on their contacts, unnormalised
and unindexed, so e-mail is not matched against customers.

Each match says what it is, the first key that matched (phone, then e-mail, then company
name), whether the caller can see it, whether it sits unowned in a pool and whether the
caller could claim it. A name is given only for a record the caller can see or that sits in
a pool — never for a colleague's record the caller cannot open.
"""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Customer
from app.leads import rules
from app.leads.models import Lead, LeadPool
from app.leads.visibility import lead_visibility, member_pool_ids

LIMIT = 10  # matches per kind


def _first_key(
    row: Any, keys: list[tuple[str, str, str | None]]
) -> str | None:  # (matched_on, column label, value)
    for matched_on, label, value in keys:
        if value is not None and getattr(row, label) == value:
            return matched_on
    return None


def _claimable_lead(principal: Principal) -> ColumnElement[bool]:
    """An unowned lead of a pool the caller is a member of and may pull from."""
    pullable = select(LeadPool.id).where(
        LeadPool.company_id == principal.company_id,
        LeadPool.deleted_at.is_(None),
        LeadPool.mode.in_(("pull", "both")),
        LeadPool.id.in_(member_pool_ids(principal)),
    )
    return and_(Lead.owner_id.is_(None), Lead.pool_id.in_(pullable))


async def find_duplicates(
    session: AsyncSession,
    principal: Principal,
    *,
    phone: str | None,
    email: str | None,
    company_name: str | None,
    exclude_lead_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Leads and customers of the caller's company matching the normalised keys, leads
    first: `{"kind", "id", "name", "matched_on", "visible", "claimable", "in_pool"}`."""
    phone_key = rules.normalise_phone(phone)
    email_key = rules.normalise_email(email)
    name_key = rules.normalise_company_name(company_name)
    matches: list[dict[str, Any]] = []

    lead_conditions = []
    if phone_key:
        lead_conditions.append(Lead.phone_normalized == phone_key)
    if email_key:
        lead_conditions.append(Lead.email_normalized == email_key)
    if name_key:
        lead_conditions.append(Lead.company_name_normalized == name_key)
    if lead_conditions:
        stmt = select(
            Lead.id,
            Lead.name,
            Lead.owner_id,
            Lead.phone_normalized.label("phone"),
            Lead.email_normalized.label("email"),
            Lead.company_name_normalized.label("company_name"),
            lead_visibility(principal).label("visible"),
            _claimable_lead(principal).label("claimable"),
        ).where(
            Lead.company_id == principal.company_id,
            Lead.deleted_at.is_(None),
            or_(*lead_conditions),
        )
        if exclude_lead_id is not None:
            stmt = stmt.where(Lead.id != exclude_lead_id)
        keys = [("phone", "phone", phone_key), ("email", "email", email_key)]
        keys.append(("company_name", "company_name", name_key))
        for row in (await session.execute(stmt.order_by(Lead.created_at).limit(LIMIT))).all():
            in_pool = row.owner_id is None
            visible = bool(row.visible)
            matches.append(
                {
                    "kind": "lead",
                    "id": row.id,
                    "name": row.name if visible or in_pool else None,
                    "matched_on": _first_key(row, keys),
                    "visible": visible,
                    "claimable": bool(row.claimable),
                    "in_pool": in_pool,
                }
            )

    customer_conditions = []
    if phone_key:
        customer_conditions.append(Customer.phone_normalized == phone_key)
    if name_key:
        customer_conditions.append(Customer.name_normalized == name_key)
    if customer_conditions:
        cstmt = select(
            Customer.id,
            Customer.name,
            Customer.owner_id,
            Customer.phone_normalized.label("phone"),
            Customer.name_normalized.label("company_name"),
            customer_visibility(principal).label("visible"),
        ).where(
            Customer.company_id == principal.company_id,
            Customer.deleted_at.is_(None),
            or_(*customer_conditions),
        )
        ckeys = [("phone", "phone", phone_key), ("company_name", "company_name", name_key)]
        for crow in (await session.execute(cstmt.order_by(Customer.created_at).limit(LIMIT))).all():
            in_pool = crow.owner_id is None
            visible = bool(crow.visible)
            matches.append(
                {
                    "kind": "customer",
                    "id": crow.id,
                    "name": crow.name if visible or in_pool else None,
                    "matched_on": _first_key(crow, ckeys),
                    "visible": visible,
                    # A pool customer: claim it from the customer pool instead.
                    "claimable": in_pool,
                    "in_pool": in_pool,
                }
            )
    return matches
