"""Bodies of the lead report."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.types import MoneyOut

LeadGroup = Literal["source", "campaign", "user"]


class LeadFigures(BaseModel):
    leads: int = Field(description="Leads created in the range that the caller may see.")
    contacted: int = Field(description="Of them, with at least one follow-up.")
    converted: int
    conversion: str | None = Field(description="converted ÷ leads, four places; null: no leads.")
    median_hours_to_first_followup: str | None = Field(
        description="Median hours from a lead's creation to its first follow-up (contacted "
        "leads), two places."
    )
    followups_per_lead: str | None = Field(description="Follow-ups ÷ leads, two places.")
    cost: MoneyOut | None = Field(description="The campaign's cost (group=campaign).")
    cost_per_conversion: MoneyOut | None = Field(
        description="cost ÷ converted (group=campaign; null: nothing converted)."
    )
    won_amount: MoneyOut = Field(
        description="Σ amount of won opportunities opened from these leads."
    )


class LeadGroupRow(LeadFigures):
    key: str | None = Field(
        description="The source code, the campaign's name or the owner's id (null: none / unowned)."
    )
    label: str | None = Field(description="The owner's name (group=user).")
    campaign_id: uuid.UUID | None = Field(None, description="The campaign (group=campaign).")


class LeadReport(BaseModel):
    group: LeadGroup
    since: date | None
    until: date | None
    items: list[LeadGroupRow]
    total: LeadFigures
