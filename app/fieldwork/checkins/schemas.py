"""Request and response bodies for check-ins."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core import limits
from app.core.location import LocationIn, LocationOut
from app.core.schemas import Strict
from app.core.types import Money, MoneyOut, Timestamp

# How the visit went: moved on, nothing moved, an order taken, nobody met, a step back.
VisitOutcome = Literal["progressed", "no_progress", "ordered", "not_met", "setback"]


class CheckinCreate(Strict):
    id: uuid.UUID | None = Field(None, description="Client-generated id: retries are safe.")
    customer_id: uuid.UUID
    location: LocationIn
    client_recorded_at: Timestamp = Field(description="When the phone recorded it.")
    offline: bool = Field(False, description="Recorded offline and sent later.")
    purpose: str | None = Field(None, max_length=limits.PURPOSE_MAX)
    note: str | None = Field(None, max_length=limits.CHECKIN_NOTE_MAX)
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    mock_location: bool = Field(False, description="As reported by the phone OS.")
    device_id: str | None = Field(None, max_length=limits.PURPOSE_MAX)


class VisitSummary(Strict):
    """The structured summary of a visit (拜访小结), given at check-out."""

    outcome: VisitOutcome
    next_step: str | None = Field(None, max_length=limits.REASON_MAX)
    competitor_info: str | None = Field(None, max_length=limits.NOTE_MAX)
    order_amount: Money | None = Field(None, description="An order taken on the visit.")
    payment_collected: Money | None = Field(None, description="Money collected on the visit.")

    def stored(self) -> dict[str, Any]:
        """As `checkins.summary` keeps it (money as decimal strings)."""
        return self.model_dump(mode="json", exclude_none=True)


class VisitSummaryOut(BaseModel):
    outcome: VisitOutcome
    next_step: str | None = None
    competitor_info: str | None = None
    order_amount: MoneyOut | None = None
    payment_collected: MoneyOut | None = None


class CheckoutIn(Strict):
    client_recorded_at: Timestamp | None = Field(None, description="Defaults to now.")
    summary: VisitSummary | None = Field(
        None,
        description="Kept with the first check-out that gives one; never replaced once kept.",
    )


class Flag(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str


class CheckinOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    location: LocationOut
    accuracy_m: float | None
    submitted_crs: str
    client_recorded_at: datetime
    received_at: datetime
    offline: bool
    purpose: str | None
    note: str | None
    photo_ids: list[uuid.UUID]
    mock_location: bool
    device_id: str | None
    distance_m: float | None = Field(description="Metres to the customer's location.")
    flags: list[Flag]
    counts_as_followup: bool
    checked_out_at: datetime | None
    duration_s: int | None
    summary: VisitSummaryOut | None = Field(description="Given at check-out; null until then.")
    created_at: datetime


def flags_out(flags: list[dict[str, Any]]) -> list[Flag]:
    return [Flag(**flag) for flag in flags]


def summary_out(summary: dict[str, Any] | None) -> VisitSummaryOut | None:
    return None if summary is None else VisitSummaryOut.model_validate(summary)
