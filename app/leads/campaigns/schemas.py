"""Bodies of campaigns and of the lead conversion settings."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Money, MoneyOut
from app.leads import settings as lead_settings
from app.leads.records.schemas import LeadSource

LeadField = Literal[
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
]
ConvertibleStatus = Literal["new", "contacted", "qualified"]


class CampaignCreate(Strict):
    id: uuid.UUID | None = Field(None, description="Client-generated id.")
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    source: LeadSource | None = None
    cost: Money | None = Field(None, description="What the campaign cost (default 0.00).")


class CampaignUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    source: LeadSource | None = None
    cost: Money | None = None


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    source: LeadSource | None
    cost: MoneyOut
    version: int
    created_at: datetime
    updated_at: datetime


class LeadSettingsOut(BaseModel):
    field_mapping: dict[str, str] = Field(
        description="Lead field → customer field (name, industry, source, region, address, "
        "phone) or `custom_fields.<key>`: how a conversion without a `customer` body fills it."
    )
    convert_requires_status: ConvertibleStatus | None = Field(
        description="The status a lead must have to convert (null: any but disqualified)."
    )
    version: int
    updated_at: datetime | None


class LeadSettingsUpdate(Strict):
    field_mapping: dict[LeadField, str] | None = Field(
        None, max_length=len(lead_settings.LEAD_FIELDS), description="Replaces the mapping."
    )
    convert_requires_status: ConvertibleStatus | None = None

    @field_validator("field_mapping")
    @classmethod
    def _targets(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        for lead_field, target in value.items():
            if not lead_settings.valid_target(target):
                raise ValueError(
                    f"{lead_field}: {target!r} is not a customer field "
                    f"({', '.join(lead_settings.CUSTOMER_FIELDS)}) or custom_fields.<key>"
                )
        return value
