"""Bodies for work logs."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate

Period = Literal["daily", "weekly", "monthly"]


class LogCreate(Strict):
    id: uuid.UUID | None = None
    period: Period = "daily"
    day: BusinessDate | None = Field(
        None, description="Any day of the period; default today (company time)."
    )
    text: str = Field(min_length=1, max_length=limits.LOG_TEXT_MAX)
    customer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class LogUpdate(Strict):
    text: str | None = Field(None, min_length=1, max_length=limits.LOG_TEXT_MAX)
    customer_ids: list[uuid.UUID] | None = Field(None, max_length=100)


class LogFigures(BaseModel):
    new_customers: int
    followups: int
    followups_by_kind: dict[str, int]
    checkins: int
    customers_visited: int
    claims: int
    releases: int


class LogOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    period: Period
    period_start: date
    text: str
    customer_ids: list[uuid.UUID]
    attachment_ids: list[uuid.UUID]
    figures: LogFigures = Field(
        description="Collected automatically for the period (company time zone)."
    )
    version: int
    created_at: datetime
    updated_at: datetime
