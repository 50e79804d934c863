"""Request and response bodies for leads."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import CustomFields, Email

LeadSource = Literal[
    "exhibition",
    "campaign",
    "conference",
    "advertising",
    "purchased_list",
    "referral",
    "website",
    "other",
]
LeadStatus = Literal["new", "contacted", "qualified", "converted", "disqualified"]


class LeadFields(Strict):
    name: str = Field(min_length=1, max_length=limits.NAME_MAX, description="The person.")
    title: str | None = Field(None, max_length=limits.NAME_MAX)
    company_name: str | None = Field(None, max_length=limits.NAME_MAX)
    phone: str | None = Field(None, max_length=limits.PHONE_MAX)
    email: Email | None = None
    source: LeadSource = "other"
    campaign: str | None = Field(None, max_length=limits.NAME_MAX)
    region: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    address: str | None = Field(None, max_length=limits.ADDRESS_MAX)
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    custom_fields: CustomFields = Field(default_factory=dict)


class LeadCreate(LeadFields):
    id: uuid.UUID | None = Field(None, description="Client-generated id (offline creation).")
    pool_id: uuid.UUID | None = Field(
        None,
        description="Default: the company's oldest pool matching both region and industry, "
        "else one matching either, else its oldest pool.",
    )
    owner_id: uuid.UUID | None = Field(
        None, description="Admins and managers (push): assign it at once (a user of your subtree)."
    )
    in_pool: bool = Field(False, description="Create it unowned in its pool (else it is yours).")


class LeadUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    title: str | None = Field(None, max_length=limits.NAME_MAX)
    company_name: str | None = Field(None, max_length=limits.NAME_MAX)
    phone: str | None = Field(None, max_length=limits.PHONE_MAX)
    email: Email | None = None
    source: LeadSource | None = None
    campaign: str | None = Field(None, max_length=limits.NAME_MAX)
    region: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    address: str | None = Field(None, max_length=limits.ADDRESS_MAX)
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    custom_fields: CustomFields | None = None
    status: LeadStatus | None = Field(
        None, description="new, contacted, qualified or disqualified; `converted`: 422."
    )


class LeadOut(BaseModel):
    id: uuid.UUID
    name: str
    title: str | None
    company_name: str | None
    phone: str | None
    email: str | None
    source: LeadSource
    campaign: str | None
    region: str | None
    industry: str | None
    address: str | None
    note: str | None
    custom_fields: dict[str, Any]
    status: LeadStatus
    pool_id: uuid.UUID
    owner_id: uuid.UUID | None = Field(description="Null while the lead sits in its pool.")
    in_pool: bool
    claimed_at: datetime | None
    first_followup_at: datetime | None
    last_followup_at: datetime | None
    followup_count: int
    converted_customer_id: uuid.UUID | None
    converted_contact_id: uuid.UUID | None
    converted_opportunity_id: uuid.UUID | None
    converted_at: datetime | None
    created_by: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class LeadDuplicate(BaseModel):
    kind: Literal["lead", "customer"]
    id: uuid.UUID
    name: str | None = Field(description="Only when visible or in a pool.")
    matched_on: Literal["phone", "email", "company_name"] | None
    visible: bool
    claimable: bool
    in_pool: bool


class LeadDuplicateCheck(BaseModel):
    duplicates: list[LeadDuplicate]
