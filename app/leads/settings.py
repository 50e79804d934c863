"""The company's lead conversion settings: the field mapping (lead field → customer field or
`custom_fields.<key>`) and the status a lead must have to convert.

A company without a settings row has the defaults (version 1); the first PATCH writes the
row (the default mapping, then the change). The mapping is validated against fixed lists on
the way in (schemas) and applied by `customer_fields`, a pure function.
"""

import json
import re
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden
from app.leads.models import LeadSettings

# Lead fields a mapping may read, and the customer fields it may fill.
LEAD_FIELDS = (
    "name",
    "title",
    "company_name",
    "phone",
    "email",
    "source",
    "campaign",
    "region",
    "industry",
    "address",
    "note",
)
CUSTOMER_FIELDS = ("name", "industry", "source", "region", "address", "phone")
CUSTOM_FIELD_PREFIX = "custom_fields."
CUSTOM_KEY = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,64}$")
DEFAULT_MAPPING: dict[str, str] = {
    "company_name": "name",
    "phone": "phone",
    "region": "region",
    "industry": "industry",
    "address": "address",
    "source": "source",
}
CONVERTIBLE_STATUSES = ("new", "contacted", "qualified")


def valid_target(target: str) -> bool:
    """A customer field, or `custom_fields.<key>`."""
    if target in CUSTOMER_FIELDS:
        return True
    return target.startswith(CUSTOM_FIELD_PREFIX) and bool(
        CUSTOM_KEY.match(target[len(CUSTOM_FIELD_PREFIX) :])
    )


def customer_fields(lead: Any, mapping: dict[str, str]) -> dict[str, Any]:
    """The CustomerCreate fields the mapping makes of a lead; the name falls back to the
    lead's person when the mapping leaves it empty."""
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for lead_field, target in mapping.items():
        value = getattr(lead, lead_field, None)
        if value is None or value == "":
            continue
        if target.startswith(CUSTOM_FIELD_PREFIX):
            custom[target[len(CUSTOM_FIELD_PREFIX) :]] = value
        elif target not in fields:
            fields[target] = value
    if not fields.get("name"):
        fields["name"] = lead.name
    if custom:
        fields["custom_fields"] = custom
    return fields


def as_dict(row: LeadSettings | None) -> dict[str, Any]:
    if row is None:
        return {
            "field_mapping": dict(DEFAULT_MAPPING),
            "convert_requires_status": None,
            "version": 1,
            "updated_at": None,
        }
    return {
        "field_mapping": dict(row.field_mapping),
        "convert_requires_status": row.convert_requires_status,
        "version": row.version,
        "updated_at": row.updated_at,
    }


async def get_settings(session: AsyncSession, company_id: uuid.UUID) -> dict[str, Any]:
    """The company's settings (the defaults until an admin saved some)."""
    return as_dict(await session.get(LeadSettings, company_id))


_ENSURE = text("""
INSERT INTO lead_settings (company_id, field_mapping, convert_requires_status, version,
                           updated_at)
VALUES (:company_id, CAST(:mapping AS jsonb), NULL, 1, :at)
ON CONFLICT (company_id) DO NOTHING
""")


async def update_settings(
    session: AsyncSession,
    principal: Principal,
    changes: dict[str, Any],
    if_match: str | None,
) -> dict[str, Any]:
    """Admin only; `changes` holds the fields given (a mapping replaces the whole mapping)."""
    if not principal.is_admin:
        raise forbidden("Only admins change the lead settings.")
    await session.execute(
        _ENSURE,
        {"company_id": principal.company_id, "mapping": json.dumps(DEFAULT_MAPPING), "at": now()},
    )
    row = (
        await session.execute(
            select(LeadSettings)
            .where(LeadSettings.company_id == principal.company_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    check_if_match(if_match, row.version)
    if "field_mapping" in changes:
        row.field_mapping = dict(changes["field_mapping"])
    if "convert_requires_status" in changes:
        row.convert_requires_status = changes["convert_requires_status"]
    row.version += 1
    row.updated_at = now()
    await session.flush()
    return as_dict(row)
