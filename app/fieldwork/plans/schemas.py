"""Bodies for visit plans."""

import uuid
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate

PlanStatus = Literal["planned", "done", "missed"]


class PlanCreate(Strict):
    id: uuid.UUID | None = None
    user_id: uuid.UUID | None = Field(None, description="Whose plan; managers plan for their reps.")
    customer_id: uuid.UUID
    plan_date: BusinessDate
    planned_time: time | None = None
    sequence: int = Field(0, ge=0, le=1000, description="Order in the day's route.")
    purpose: str | None = Field(None, max_length=limits.PURPOSE_MAX)


class PlanUpdate(Strict):
    plan_date: BusinessDate | None = None
    planned_time: time | None = None
    sequence: int | None = Field(None, ge=0, le=1000)
    purpose: str | None = Field(None, max_length=limits.PURPOSE_MAX)


class PlanOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    plan_date: date
    planned_time: time | None
    sequence: int
    purpose: str | None
    status: PlanStatus = Field(
        description="done: a check-in there that day; missed: the day ended without."
    )
    checkin_id: uuid.UUID | None
    created_by: uuid.UUID
    version: int
    created_at: datetime


class DayRoute(BaseModel):
    date: date
    user_id: uuid.UUID
    items: list[PlanOut]
